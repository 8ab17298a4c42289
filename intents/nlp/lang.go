package nlp

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Detection is the outcome of language detection.
type Detection struct {
	Lang       string  // canonical code, e.g. "nb", "sr"; "" when the text has no letters
	Script     string  // ISO 15924 script of the letters: "Latn", "Cyrl", "Other" or ""
	Confidence float64 // 0..1; low for short or ambiguous text
}

// Detector identifies the language of short chat messages with a naive
// Bayes model over character 1-3-grams and words. It starts from compact
// built-in profiles (en, nb, sv, da, sr, de, fr, es) and learns from the
// per-language examples it is built with, so a knowledge base in another
// language (hr, fi, ...) is detected too. A Detector is immutable and safe
// for concurrent use.
type Detector struct {
	langs  []*langModel
	gramV  float64 // n-gram vocabulary size over all languages, for smoothing
	wordV  float64
	hasCyr map[string]bool // languages whose examples include Cyrillic script
	fast   fastState       // Analyze's index and scratch space
}

type langModel struct {
	code                   string
	grams, words           map[string]float64 // counts, then log-probabilities
	gramTotal, wordTotal   float64
	gramUnseen, wordUnseen float64
}

const (
	gramAlpha  = 0.5 // add-α smoothing of n-gram counts
	wordAlpha  = 0.2
	wordWeight = 2.0 // a whole word is stronger evidence than one n-gram
	// confScale turns the mean log-likelihood gap into a posterior; fitted by
	// eye so that one clear sentence gives ~0.99 and a lone word stays low.
	confScale = 0.6
	// fullConfLetters is the number of letters from which the length no
	// longer limits the confidence.
	fullConfLetters = 16
	// nameWeight scales the evidence of capitalised words inside a
	// sentence, which are mostly names.
	nameWeight = 0.2
)

// CanonicalLang maps a language tag to the code the Detector reports: the
// primary subtag in lower case, with "no" (Norwegian) as "nb".
// "sr-Latn" and "sr_Cyrl_RS" give "sr".
func CanonicalLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if tag == "no" {
		return "nb"
	}
	return tag
}

// BuiltinLanguages lists the languages with a built-in profile.
func BuiltinLanguages() []string {
	out := make([]string, 0, len(builtinProfiles))
	for code := range builtinProfiles {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// NewDetector builds a Detector from the built-in profiles plus examples,
// a map from language tag to example texts (tags are canonicalised with
// CanonicalLang). If only is non-empty, only those languages are
// candidates, which is how a knowledge base in nb and en avoids ever
// reporting da.
func NewDetector(examples map[string][]string, only ...string) *Detector {
	keep := map[string]bool{}
	for _, l := range only {
		keep[CanonicalLang(l)] = true
	}
	byCode := map[string]*langModel{}
	get := func(code string) *langModel {
		m := byCode[code]
		if m == nil {
			m = &langModel{code: code, grams: map[string]float64{}, words: map[string]float64{}}
			byCode[code] = m
		}
		return m
	}
	for code, p := range builtinProfiles {
		if len(keep) > 0 && !keep[code] {
			continue
		}
		m := get(code)
		m.add(p.words)
		m.add(p.text)
	}
	d := &Detector{hasCyr: map[string]bool{}}
	for tag, texts := range examples {
		code := CanonicalLang(tag)
		if code == "" || len(keep) > 0 && !keep[code] {
			continue
		}
		m := get(code)
		for _, t := range texts {
			if !d.hasCyr[code] && !isASCII(t) && script(t) == "Cyrl" {
				d.hasCyr[code] = true
			}
			m.add(t)
		}
	}
	gv, wv := map[string]bool{}, map[string]bool{}
	for _, m := range byCode {
		m.countGrams()
		for g := range m.grams {
			gv[g] = true
		}
		for w := range m.words {
			wv[w] = true
		}
	}
	d.gramV, d.wordV = float64(len(gv)+1), float64(len(wv)+1)
	for _, m := range byCode {
		m.finish(d.gramV, d.wordV)
		d.langs = append(d.langs, m)
	}
	sort.Slice(d.langs, func(i, j int) bool { return d.langs[i].code < d.langs[j].code })
	d.fast.ix = newScoreIndex(d.langs)
	return d
}

// Languages returns the candidate languages, sorted.
func (d *Detector) Languages() []string {
	out := make([]string, len(d.langs))
	for i, m := range d.langs {
		out[i] = m.code
	}
	return out
}

// add counts the words of text; countGrams adds their n-grams later, once
// per distinct word.
func (m *langModel) add(text string) {
	forEachWord(text, func(w string, _ bool) {
		m.words[w]++
		m.wordTotal++
	})
}

// countGrams adds the n-grams of every counted word, as often as the word
// was seen: the counts forEachFeature would give text by text.
func (m *langModel) countGrams() {
	var offs []int
	for w, c := range m.words {
		offs = forEachGram(offs, w, func(g string) {
			m.grams[g] += c
			m.gramTotal += c
		})
	}
}

func (m *langModel) finish(gramV, wordV float64) {
	gz := math.Log(m.gramTotal + gramAlpha*gramV)
	for g, c := range m.grams {
		m.grams[g] = math.Log(c+gramAlpha) - gz
	}
	m.gramUnseen = math.Log(gramAlpha) - gz
	wz := math.Log(m.wordTotal + wordAlpha*wordV)
	for w, c := range m.words {
		m.words[w] = math.Log(c+wordAlpha) - wz
	}
	m.wordUnseen = math.Log(wordAlpha) - wz
}

// forEachFeature calls fn with each word and each character 1-3-gram of
// the words of text (see forEachWord and forEachGram), a word before its
// n-grams. weight is lower for words that look like names.
func forEachFeature(text string, fn func(feature string, word bool, weight float64)) {
	var offs []int
	forEachWord(text, func(w string, name bool) {
		weight := 1.0
		if name {
			weight = nameWeight
		}
		fn(w, true, weight)
		offs = forEachGram(offs, w, func(g string) { fn(g, false, weight) })
	})
}

// forEachWord calls fn with each word of text, lower-cased with diacritics
// kept (they tell sv from nb) and Serbian Cyrillic transliterated. name is
// set for words that look like names: capitalised but not first in a
// sentence (titles, places), often in another language.
func forEachWord(text string, fn func(w string, name bool)) {
	text = norm.NFC.String(strings.ToValidUTF8(text, " "))
	type word struct {
		w    string
		name bool
	}
	var buf [32]word
	words := buf[:0]
	first := true
	for rest := text; ; {
		// The fields of text: runs of letters and sentence ends.
		i := strings.IndexFunc(rest, inWord)
		if i < 0 {
			break
		}
		rest = rest[i:]
		i = strings.IndexFunc(rest, notInWord)
		if i < 0 {
			i = len(rest)
		}
		w := strings.TrimLeft(rest[:i], ".?!")
		rest = rest[i:]
		r, _ := utf8.DecodeRuneInString(w)
		name := unicode.IsUpper(r) && !first
		end := strings.IndexAny(w, ".?!")
		if first = end >= 0; first {
			w = w[:end]
		}
		if w != "" {
			words = append(words, word{strings.ToLower(TransliterateSerbian(w)), name})
		}
	}
	// One or two short lower-case words between two names belong to the
	// name ("The Art of Nijinsky", "Tarzan of the Apes").
	for i := 1; i+1 < len(words); i++ {
		short := func(j int) bool { return j < len(words) && utf8.RuneCountInString(words[j].w) <= 3 }
		if !words[i-1].name || words[i].name || !short(i) {
			continue
		}
		if words[i+1].name {
			words[i].name = true
		} else if short(i+1) && i+2 < len(words) && words[i+2].name {
			words[i].name, words[i+1].name = true, true
		}
	}
	for _, w := range words {
		fn(w.w, w.name)
	}
}

func inWord(r rune) bool    { return unicode.IsLetter(r) || r == '.' || r == '?' || r == '!' }
func notInWord(r rune) bool { return !inWord(r) }

// forEachGram calls fn with each character 1-3-gram of w padded with
// spaces (" ab", "ab "), leaving out the lone spaces. The n-grams are
// substrings of one padded copy of w. offs is scratch space, returned for
// reuse.
func forEachGram(offs []int, w string, fn func(g string)) []int {
	p := " " + w + " "
	offs = offs[:0]
	for i := range p {
		offs = append(offs, i)
	}
	offs = append(offs, len(p))
	runes := len(offs) - 1
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= runes; i++ {
			if n == 1 && p[offs[i]] == ' ' {
				continue
			}
			fn(p[offs[i]:offs[i+n]])
		}
	}
	return offs
}

// script reports the dominant script of the letters in text.
func script(text string) string {
	var latn, cyrl, other int
	for _, r := range text {
		switch {
		case !unicode.IsLetter(r):
		case unicode.Is(unicode.Latin, r):
			latn++
		case unicode.Is(unicode.Cyrillic, r):
			cyrl++
		default:
			other++
		}
	}
	switch {
	case latn+cyrl+other == 0:
		return ""
	case cyrl > latn && cyrl >= other:
		return "Cyrl"
	case latn >= other:
		return "Latn"
	}
	return "Other"
}

// Detect returns the most likely language of text and a confidence in
// [0, 1]. Short inputs ("ok", "hei", "tack") get a low confidence, so the
// caller can keep the conversation's language (see Sticky).
func (d *Detector) Detect(text string) (lang string, confidence float64) {
	r := d.Analyze(text)
	return r.Lang, r.Confidence
}

// Sticky chooses the language to answer in: it keeps prev, the language
// of the conversation so far, when the new message is short (fewer than
// three words or 12 letters) or detected with confidence below 0.5, and
// otherwise switches to detected. With no prev it returns detected.
func Sticky(prev, detected string, conf float64, text string) string {
	if prev == "" || detected == prev {
		return detected
	}
	if detected == "" {
		return prev
	}
	words, letters := 0, 0
	inWord := false
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if !inWord {
				words++
			}
			inWord = true
		} else {
			inWord = false
		}
	}
	if words < 3 || letters < 12 || conf < 0.5 {
		return prev
	}
	return detected
}
