package sentiment

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// row is one line of testdata/labelled.jsonl.
type row struct {
	Text       string `json:"text"`
	Lang       string `json:"lang"`
	Sentiment  string `json:"sentiment"`
	Complaint  bool   `json:"complaint"`
	Frustrated bool   `json:"frustrated"`
	Split      string `json:"split"`
}

func loadRows(t testing.TB) []row {
	t.Helper()
	f, err := os.Open("testdata/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("labelled.jsonl:%d: %v", n, err)
		}
		switch {
		case r.Text == "" || r.Lang == "":
			t.Fatalf("labelled.jsonl:%d: empty text or lang", n)
		case r.Sentiment != Negative && r.Sentiment != Neutral && r.Sentiment != Positive:
			t.Fatalf("labelled.jsonl:%d: sentiment %q", n, r.Sentiment)
		case r.Split != "dev" && r.Split != "test":
			t.Fatalf("labelled.jsonl:%d: split %q", n, r.Split)
		case r.Complaint && r.Sentiment != Negative:
			t.Fatalf("labelled.jsonl:%d: a complaint is negative", n)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// prf counts a binary decision.
type prf struct{ tp, fp, fn int }

func (c *prf) add(want, got bool) {
	switch {
	case want && got:
		c.tp++
	case got:
		c.fp++
	case want:
		c.fn++
	}
}

func (c prf) p() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c prf) r() float64 { return ratio(c.tp, c.tp+c.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// scores are the measures of one language (or "all") on one split.
type scores struct {
	n               int
	neg, comp, frus prf
	labelOK         int
}

func (s scores) String() string {
	return fmt.Sprintf("%4d  %4.2f %4.2f   %4.2f %4.2f   %4.2f %4.2f   %4.2f",
		s.n, s.neg.p(), s.neg.r(), s.comp.p(), s.comp.r(), s.frus.p(), s.frus.r(),
		ratio(s.labelOK, s.n))
}

// evaluate measures Analyze on the rows of split, per language and "all";
// Serbian is also reported per script as "sr-Latn" and "sr-Cyrl".
func evaluate(rows []row, split string, errs func(r row, got Result)) map[string]*scores {
	out := map[string]*scores{}
	for _, r := range rows {
		if r.Split != split {
			continue
		}
		got := Analyze(r.Text)
		keys := []string{r.Lang, "all"}
		if r.Lang == "sr" {
			keys = append(keys, "sr-"+scriptOf(r.Text))
		}
		for _, k := range keys {
			s := out[k]
			if s == nil {
				s = &scores{}
				out[k] = s
			}
			s.n++
			s.neg.add(r.Sentiment == Negative, got.Label == Negative)
			s.comp.add(r.Complaint, got.Complaint)
			s.frus.add(r.Frustrated, got.Frustrated)
			if got.Label == r.Sentiment {
				s.labelOK++
			}
		}
		if errs != nil && (got.Label != r.Sentiment || got.Complaint != r.Complaint || got.Frustrated != r.Frustrated) {
			errs(r, got)
		}
	}
	return out
}

func scriptOf(s string) string {
	for _, c := range s {
		if c >= 0x400 && c <= 0x4ff {
			return "Cyrl"
		}
	}
	return "Latn"
}

// table renders the scores as the table in doc.go.
func table(split string, m map[string]*scores) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	order := map[string]int{"en": 0, "nb": 1, "sv": 2, "da": 3, "sr": 4, "sr-Latn": 5, "sr-Cyrl": 6, "de": 7, "fr": 8, "es": 9, "all": 10}
	sort.Slice(keys, func(i, j int) bool { return order[keys[i]] < order[keys[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %-8s %4s  %-9s   %-9s   %-9s   %s\n", split, "lang", "n", "neg P R", "compl P R", "frust P R", "label acc")
	for _, k := range keys {
		fmt.Fprintf(&b, "%-5s %-8s %s\n", split, k, m[k])
	}
	return b.String()
}

// floors are the measured test-split scores, rounded down a little: the
// test fails if a lexicon change makes any of them worse.
var floors = map[string]struct{ negP, negR, compP, compR float64 }{
	"all": {0.95, 0.95, 0.93, 0.85},
	"en":  {0.90, 0.90, 0.90, 0.80},
	"nb":  {0.90, 0.90, 0.90, 0.80},
	"sv":  {0.85, 0.90, 0.80, 0.90},
	"sr":  {0.90, 0.90, 0.90, 0.70},
	"da":  {0.75, 0.75, 0.75, 0.75},
	"de":  {0.75, 0.75, 0.75, 0.75},
	"fr":  {0.75, 0.75, 0.75, 0.75},
	"es":  {0.75, 0.75, 0.75, 0.75},
}

func TestEvaluation(t *testing.T) {
	rows := loadRows(t)
	var errs func(row, Result)
	if os.Getenv("SENTIMENT_ERRORS") != "" {
		errs = func(r row, got Result) {
			t.Logf("%s %s want %s c=%v f=%v got %s %.2f c=%v f=%v %q: %s", r.Split, r.Lang, r.Sentiment, r.Complaint, r.Frustrated,
				got.Label, got.Score, got.Complaint, got.Frustrated, got.Cues, r.Text)
		}
	}
	for _, split := range []string{"dev", "test"} {
		if only := os.Getenv("SENTIMENT_SPLIT"); only != "" && only != split {
			continue
		}
		m := evaluate(rows, split, errs)
		t.Logf("\n%s", table(split, m))
		if split != "test" {
			continue
		}
		for lang, f := range floors {
			s := m[lang]
			if s == nil {
				t.Errorf("no test rows for %s", lang)
				continue
			}
			if s.neg.p() < f.negP || s.neg.r() < f.negR || s.comp.p() < f.compP || s.comp.r() < f.compR {
				t.Errorf("%s: negative P/R %.2f/%.2f, complaint P/R %.2f/%.2f: below floors %+v",
					lang, s.neg.p(), s.neg.r(), s.comp.p(), s.comp.r(), f)
			}
		}
	}
}
