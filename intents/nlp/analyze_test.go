package nlp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// analyzeRef is Analyze as first written, a map lookup per feature and
// language over forEachFeature: the reference the index must match.
func (d *Detector) analyzeRef(text string) Detection {
	res := Detection{Script: script(text)}
	if len(d.langs) == 0 || res.Script == "" {
		return res
	}
	scores := make([]float64, len(d.langs))
	var letters float64
	forEachFeature(text, func(g string, word bool, weight float64) {
		table := func(m *langModel) map[string]float64 { return m.grams }
		if word {
			letters += weight * float64(utf8.RuneCountInString(g))
			table = func(m *langModel) map[string]float64 { return m.words }
			weight *= wordWeight
		}
		seen := false
		for _, m := range d.langs {
			if _, ok := table(m)[g]; ok {
				seen = true
				break
			}
		}
		if !seen {
			return
		}
		for i, m := range d.langs {
			lp, ok := table(m)[g]
			if !ok {
				lp = m.gramUnseen
				if word {
					lp = m.wordUnseen
				}
			}
			scores[i] += weight * lp
		}
	})
	return d.decideLang(res, scores, letters)
}

// analyzeCases are texts that exercise the scanner: scripts, names,
// sentence ends, punctuation runs, case folding and invalid UTF-8.
var analyzeCases = []string{
	"", " ", "!!!", "...", "1234 !!", "ok", "hei", "tack", "a", "A", "I",
	"how long does shipping take?", "Hvor lang tid tager fragten?", "hur lång tid tar frakten?",
	"Здраво, заборавио сам лозинку", "Ђорђе Љубичић ЋЕВАПИ", "Како да вратим производ?", "ЉУБАВ њега Џеп",
	"The Art of Nijinsky is in London, and Tarzan of the Apes too", "I met Anna and Bo in Oslo. Then Ed came",
	"end.Next word!really? yes", "...Leading dots. ?Odd !Start", "Where is my ORDER?? It's LATE!!!",
	"straße ǅ İstanbul ΑΘΗΝΑ", "emoji 😀😀 ok", "a\u0301b\u0300c e\u0301", "ﬁnancial ﬂow", "日本語のテキスト and English",
	"\xff\xfe bad utf8 \xc3", "tab\tnew\nline\r\x00nul", "Ünïcödé Ñandú Çà", "don't can't l'app", "x.y.z",
	strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40),
}

// detectors are built-in profiles alone, with examples (including
// Cyrillic ones and a language only known from them) and restricted.
func detectors() []*Detector {
	ex := map[string][]string{
		"fi": {"Miten voin vaihtaa salasanani?", "Kiitos avusta, hyvää päivänjatkoa"},
		"ru": {"Где мой заказ?", "Я хочу вернуть товар"},
		"en": {"Where is my parcel?", "Reset my password please"},
	}
	return []*Detector{NewDetector(nil), NewDetector(ex), NewDetector(nil, "no", "en"), NewDetector(ex, "ru", "sr", "fi")}
}

func TestScanMatchesForEachFeature(t *testing.T) {
	type feat struct {
		g      string
		word   bool
		weight float64
	}
	var s scanner
	for _, text := range analyzeCases {
		var want, got []feat
		forEachFeature(text, func(g string, word bool, weight float64) { want = append(want, feat{g, word, weight}) })
		s.scan(text)
		s.each(func(g []byte, word bool, weight float64) { got = append(got, feat{string(g), word, weight}) })
		if !slices.Equal(got, want) {
			t.Errorf("features of %q:\n got %v\nwant %v", text, got, want)
		}
	}
}

func sameDetection(a, b Detection) bool {
	return a.Lang == b.Lang && a.Script == b.Script && math.Float64bits(a.Confidence) == math.Float64bits(b.Confidence)
}

func TestAnalyzeMatchesReference(t *testing.T) {
	texts := slices.Clone(analyzeCases)
	for _, lang := range []string{"en", "nb", "sr"} {
		f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "xsid-"+lang+"-val.jsonl"))
		if err != nil {
			continue // the built-in cases still run
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				texts = append(texts, r.Text, strings.ToUpper(r.Text), toCyrillicForTest(r.Text))
			}
		}
		f.Close()
	}
	for _, d := range detectors() {
		for _, text := range texts {
			if got, want := d.Analyze(text), d.analyzeRef(text); !sameDetection(got, want) {
				t.Errorf("%v: Analyze(%q) = %+v, reference %+v", d.Languages(), text, got, want)
			}
		}
	}
}

// toCyrillicForTest writes ASCII Serbian Latin
// letters in Cyrillic, crudely, to give the detector Cyrillic input.
func toCyrillicForTest(s string) string {
	r := strings.NewReplacer("lj", "љ", "nj", "њ", "a", "а", "b", "б", "v", "в", "g", "г", "d", "д", "e", "е",
		"z", "з", "i", "и", "j", "ј", "k", "к", "l", "л", "m", "м", "n", "н", "o", "о", "p", "п", "r", "р",
		"s", "с", "t", "т", "u", "у", "f", "ф", "h", "х", "c", "ц")
	return r.Replace(s)
}

// FuzzAnalyze: the indexed Analyze agrees with the reference on any text.
func FuzzAnalyze(f *testing.F) {
	for _, s := range analyzeCases {
		f.Add(s)
	}
	ds := detectors()
	f.Fuzz(func(t *testing.T, text string) {
		for _, d := range ds {
			if got, want := d.Analyze(text), d.analyzeRef(text); !sameDetection(got, want) {
				t.Fatalf("%v: Analyze(%q) = %+v, reference %+v", d.Languages(), text, got, want)
			}
		}
	})
}

// normalizeASCIIRef is normalizeASCII as first written, always copying.
func normalizeASCIIRef(s string) string {
	b := make([]byte, 0, len(s))
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			if !space {
				b = append(b, ' ')
				space = true
			}
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		space = false
	}
	if n := len(b); n > 0 && b[n-1] == ' ' {
		b = b[:n-1]
	}
	return string(b)
}

func TestNormalizeASCIIMatchesReference(t *testing.T) {
	const alphabet = "aZ0 \t\n\x00\x7f.'"
	var buf []byte
	for n := range 1 << 16 { // every string up to 5 bytes over the alphabet
		buf = buf[:0]
		for k := n; k > 0; k /= len(alphabet) + 1 {
			if d := k % (len(alphabet) + 1); d > 0 {
				buf = append(buf, alphabet[d-1])
			}
		}
		s := string(buf)
		if got, want := normalizeASCII(s), normalizeASCIIRef(s); got != want {
			t.Fatalf("normalizeASCII(%q) = %q, reference %q", s, got, want)
		}
	}
	for _, s := range analyzeCases {
		if isASCII(s) && normalizeASCII(s) != normalizeASCIIRef(s) {
			t.Errorf("normalizeASCII(%q) = %q, reference %q", s, normalizeASCII(s), normalizeASCIIRef(s))
		}
	}
}

// TestAnalyzeConcurrentFirstUse: goroutines racing to build the index and
// share the scratch pool get the reference's answers (run with -race).
func TestAnalyzeConcurrentFirstUse(t *testing.T) {
	d := NewDetector(map[string][]string{"fi": {"Missä tilaukseni on?"}})
	want := make([]Detection, len(analyzeCases))
	for i, text := range analyzeCases {
		want[i] = d.analyzeRef(text)
	}
	errs := make(chan string, 8*len(analyzeCases))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range analyzeCases {
				k := (i + g) % len(analyzeCases)
				if got := d.Analyze(analyzeCases[k]); !sameDetection(got, want[k]) {
					errs <- fmt.Sprintf("Analyze(%q) = %+v, reference %+v", analyzeCases[k], got, want[k])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkAnalyze detects the language of the xSID texts (en, nb, sr).
func BenchmarkAnalyze(b *testing.B) {
	var texts []string
	for _, lang := range []string{"en", "nb", "sr"} {
		f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "xsid-"+lang+"-val.jsonl"))
		if err != nil {
			b.Skip(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				texts = append(texts, r.Text)
			}
		}
		f.Close()
	}
	d := NewDetector(nil)
	d.Analyze("warm up")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Analyze(texts[i%len(texts)])
		i++
	}
}
