package nlp

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"  Hello,\tWORLD \n", "hello, world"},
		{"Hvor lang tid tar frakten?", "hvor lang tid tar frakten?"},
		{"Hur lång tid tar frakten?", "hur lang tid tar frakten?"},
		{"Søk i æble-åkeren", "sok i aeble-akeren"},
		{"Straße", "strasse"},
		{"Đorđe čeka ćevape, šta ž?", "djordje ceka cevape, sta z?"},
		{"како да вратим производ", "kako da vratim proizvod"},
		{"Ђорђе, љубав, њива, џем", "djordje, ljubav, njiva, dzem"},
		{"ＦＵＬＬ　ｗｉｄｔｈ ①", "full width 1"}, // NFKC
		{"ﬁle", "file"}, // ligature
		{"Crème brûlée", "creme brulee"},
		{"a\x00b\x01c", "a b c"},          // NUL and control chars
		{"bad\xffutf8\xc3", "bad utf8"},   // invalid UTF-8
		{"zero\u200bwidth", "zero width"}, // format chars
		{"", ""},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if a, b := Normalize("како да вратим производ"), Normalize("kako da vratim proizvod"); a != b {
		t.Errorf("Cyrillic %q != Latin %q", a, b)
	}
}

func TestNormalizeHostileInput(t *testing.T) {
	big := strings.Repeat("Ab\x00\xff ç Ђ\t", 100*1024/10)
	for _, in := range []string{big, strings.Repeat("\xff", 100*1024), strings.Repeat("\x00", 1000), "\u0301\u0301"} {
		out := Normalize(in)
		if !utf8.ValidString(out) || strings.ContainsRune(out, 0) || strings.Contains(out, "  ") {
			t.Errorf("Normalize of %d bytes: invalid or unclean output", len(in))
		}
		_ = Tokens(in)
	}
}

func TestTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Don't stop—me now!", []string{"dont", "stop", "me", "now"}},
		{"Где је моја поруџбина?", []string{"gde", "je", "moja", "porudzbina"}},
		{"order #1234, ok?", []string{"order", "1234", "ok"}},
		{"  ", nil},
	}
	for _, c := range cases {
		if got := Tokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStem(t *testing.T) {
	cases := []struct{ lang, in, want string }{
		{"no", "passordet", "passord"},
		{"nb", "kontoene", "konto"},
		{"sv", "kontona", "konton"},
		{"en", "shipping", "ship"},
		{"sr", "lozinku", "lozink"},
		{"de", "Bestellungen", "bestell"},
		{"da", "pakkerne", "pak"},
		{"xx", "word", "word"},
	}
	for _, c := range cases {
		if got := Stem(c.lang, c.in); got != c.want {
			t.Errorf("Stem(%s, %q) = %q, want %q", c.lang, c.in, got, c.want)
		}
	}
	if a, b := MatchTokens("sv", "Lösenordet"), MatchTokens("sv", "losenordet"); !slices.Equal(a, b) {
		t.Errorf("MatchTokens differ with diacritics: %q vs %q", a, b)
	}
	// German and Danish have stemmers of their own (Danish used the
	// Norwegian one, which left "pakkerne" and "pakke" apart).
	for _, c := range [][3]string{{"de", "Rücksendungen", "Rücksendung"}, {"de", "Größe", "grosse"}, {"da", "varerne", "varer"}} {
		if a, b := MatchTokens(c[0], c[1]), MatchTokens(c[0], c[2]); !slices.Equal(a, b) {
			t.Errorf("MatchTokens(%s) differ: %q vs %q", c[0], a, b)
		}
	}
}

func TestDetect(t *testing.T) {
	d := NewDetector(nil)
	cases := []struct{ text, lang, script string }{
		{"hvor lang tid tar frakten?", "nb", "Latn"},
		{"hur lång tid tar frakten?", "sv", "Latn"},
		{"Hvor lang tid tager fragten?", "da", "Latn"},
		{"Zdravo, zaboravio sam lozinku", "sr", "Latn"},
		{"Здраво, заборавио сам лозинку", "sr", "Cyrl"},
		{"how long does shipping take?", "en", "Latn"},
		{"Wie lange dauert der Versand?", "de", "Latn"},
		{"Combien de temps prend la livraison ?", "fr", "Latn"},
		{"¿Cuánto tarda el envío?", "es", "Latn"},
		{"Jeg har glemt passordet mitt og får ikke logget inn", "nb", "Latn"},
		{"Jag har glömt mitt lösenord och kan inte logga in", "sv", "Latn"},
		{"Jeg har glemt min adgangskode og kan ikke logge ind", "da", "Latn"},
	}
	for _, c := range cases {
		r := d.Analyze(c.text)
		if r.Lang != c.lang || r.Script != c.script || r.Confidence < 0.5 {
			t.Errorf("Analyze(%q) = %+v, want %s/%s with confidence ≥ 0.5", c.text, r, c.lang, c.script)
		}
	}
	for _, short := range []string{"ok", "hi", "hei", "tack", "hej", "da"} {
		if _, conf := d.Detect(short); conf >= 0.5 {
			t.Errorf("Detect(%q) confidence %.2f, want < 0.5", short, conf)
		}
	}
	if l, c := d.Detect("1234 !!"); l != "" || c != 0 {
		t.Errorf("Detect(no letters) = %q, %v", l, c)
	}
}

func TestDetectExamplesAndRestriction(t *testing.T) {
	// Serbian Latin stays Serbian with no Croatian examples...
	d := NewDetector(nil)
	if l, _ := d.Detect("Molim vas, pomozite mi da promenim lozinku"); l != "sr" {
		t.Errorf("got %s, want sr", l)
	}
	// ...and a language known only from examples is detected.
	d = NewDetector(map[string][]string{"fi": {
		"Miten voin vaihtaa salasanani?", "Missä tilaukseni on?", "Haluan palauttaa tuotteen",
		"Kuinka kauan toimitus kestää?", "Kiitos avusta, hyvää päivänjatkoa",
	}})
	if l, _ := d.Detect("Kuinka kauan palautus kestää?"); l != "fi" {
		t.Errorf("got %s, want fi", l)
	}
	// Restricting to the KB's languages: ambiguous nb/da text is nb.
	d = NewDetector(nil, "no", "en")
	if got := d.Languages(); !slices.Equal(got, []string{"en", "nb"}) {
		t.Errorf("Languages() = %v", got)
	}
	if l, _ := d.Detect("Hvor lang tid tager fragten?"); l != "nb" {
		t.Errorf("got %s, want nb", l)
	}
}

func TestCanonicalLang(t *testing.T) {
	for in, want := range map[string]string{"no": "nb", "NB": "nb", "sr-Latn": "sr", "sr_Cyrl_RS": "sr", "en-GB": "en"} {
		if got := CanonicalLang(in); got != want {
			t.Errorf("CanonicalLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSticky(t *testing.T) {
	d := NewDetector(nil)
	cases := []struct{ prev, text, want string }{
		{"nb", "ok", "nb"},
		{"nb", "tack", "nb"},
		{"sv", "hei", "sv"},
		{"nb", "how long does shipping take to Oslo?", "en"},
		{"", "hei", "nb"},
		{"en", "hur lång tid tar frakten till Stockholm?", "sv"},
	}
	for _, c := range cases {
		l, conf := d.Detect(c.text)
		if got := Sticky(c.prev, l, conf, c.text); got != c.want {
			t.Errorf("Sticky(%q, %q) = %q, want %q", c.prev, c.text, got, c.want)
		}
	}
}

// TestDetectXSID measures detection with the built-in profiles only on
// the xSID validation texts (en, nb, sr), every built-in language a
// candidate. Measured: en 98.3 %, nb 97.0 %, sr 99.7 %, 98.3 % overall.
func TestDetectXSID(t *testing.T) {
	d := NewDetector(nil)
	var right, n int
	for _, lang := range []string{"en", "nb", "sr"} {
		path := filepath.Join("..", "..", "..", "shared", "data", "xsid-"+lang+"-val.jsonl")
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			t.Skipf("evaluation data %s not present", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var ok, m int
		for sc.Scan() {
			var r struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if l, _ := d.Detect(r.Text); l == lang {
				ok++
			}
			m++
		}
		f.Close()
		t.Logf("%s: %d/%d = %.1f %%", lang, ok, m, 100*float64(ok)/float64(m))
		if float64(ok) < 0.95*float64(m) {
			t.Errorf("%s accuracy %.3f, want ≥ 0.95", lang, float64(ok)/float64(m))
		}
		right, n = right+ok, n+m
	}
	if acc := float64(right) / float64(n); acc < 0.97 {
		t.Errorf("overall accuracy %.3f, want ≥ 0.97", acc)
	}
}

// Counting each distinct word's n-grams once, weighted by its count, builds
// exactly the detector that counting every text's n-grams builds, so
// detection is unchanged.
func TestDetectorCountsGramsPerWord(t *testing.T) {
	examples := map[string][]string{
		"en":    {"Where is my parcel?", "where is my PARCEL", "The Art of Nijinsky. Tarzan of the Apes!"},
		"sr":    {"Здраво, заборавио сам лозинку", "Zdravo, zaboravio sam lozinku", "Ђорђе? љубав... њива"},
		"nb":    {"Hvor lang tid tar frakten?", "bad\xffutf8 ØL og æble"},
		"fi-FI": {"Kuinka kauan toimitus kestää?", "Kiitos avusta, hyvää päivänjatkoa"},
	}
	got := NewDetector(examples)
	// The reference: every feature of every text counted as it comes.
	want := NewDetector(nil)
	for _, m := range want.langs {
		m.grams, m.words, m.gramTotal, m.wordTotal = map[string]float64{}, map[string]float64{}, 0, 0
	}
	byCode := map[string]*langModel{}
	for _, m := range want.langs {
		byCode[m.code] = m
	}
	count := func(m *langModel, text string) {
		forEachFeature(text, func(g string, word bool, _ float64) {
			if word {
				m.words[g]++
				m.wordTotal++
			} else {
				m.grams[g]++
				m.gramTotal++
			}
		})
	}
	for code, p := range builtinProfiles {
		count(byCode[code], p.words)
		count(byCode[code], p.text)
	}
	for tag, texts := range examples {
		m := byCode[CanonicalLang(tag)]
		if m == nil {
			m = &langModel{code: CanonicalLang(tag), grams: map[string]float64{}, words: map[string]float64{}}
			byCode[m.code] = m
			want.langs = append(want.langs, m)
		}
		for _, x := range texts {
			count(m, x)
		}
	}
	for _, g := range got.langs {
		w := byCode[g.code]
		if w == nil || g.gramTotal != w.gramTotal || g.wordTotal != w.wordTotal || len(g.grams) != len(w.grams) || len(g.words) != len(w.words) {
			t.Fatalf("%s: totals or vocabulary differ from counting text by text", g.code)
		}
		for k, c := range w.grams {
			if lp := math.Log(c+gramAlpha) - math.Log(w.gramTotal+gramAlpha*got.gramV); g.grams[k] != lp {
				t.Errorf("%s: n-gram %q: %v, want %v", g.code, k, g.grams[k], lp)
			}
		}
		for k, c := range w.words {
			if lp := math.Log(c+wordAlpha) - math.Log(w.wordTotal+wordAlpha*got.wordV); g.words[k] != lp {
				t.Errorf("%s: word %q: %v, want %v", g.code, k, g.words[k], lp)
			}
		}
	}
	if len(got.langs) != len(byCode) {
		t.Errorf("%d languages, want %d", len(got.langs), len(byCode))
	}
}

// BenchmarkNewDetectorCLINC150 builds the detector of a 15,000-example
// English knowledge base, as every knowledge-base load does.
func BenchmarkNewDetectorCLINC150(b *testing.B) {
	path := filepath.Join("..", "..", "..", "shared", "data", "clinc150.jsonl")
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		b.Skipf("evaluation data %s not present", path)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct{ Text, Split, Intent string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		if r.Split == "train" && r.Intent != "oos" {
			texts = append(texts, r.Text)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		NewDetector(map[string][]string{"en": texts})
	}
}
