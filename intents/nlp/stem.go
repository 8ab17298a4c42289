package nlp

import (
	"strings"
	"unicode"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/german"
	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/spanish"
	"github.com/kljensen/snowball/swedish"
	"golang.org/x/text/unicode/norm"
)

// stemmers are the Snowball stemmers by language: kljensen/snowball's
// where it has one, else the Snowball project's own generated Go code
// (blevesearch/snowballstem) for German and Danish.
var stemmers = map[string]func(string, bool) string{
	"en": english.Stem, "sv": swedish.Stem, "nb": norwegian.Stem, "nn": norwegian.Stem,
	"da": generated(danish.Stem), "de": generated(german.Stem), "fr": french.Stem, "es": spanish.Stem,
}

// generated adapts a stemmer of blevesearch/snowballstem, which works
// on lower-case words.
func generated(stem func(*snowballstem.Env) bool) func(string, bool) string {
	return func(word string, _ bool) string {
		env := snowballstem.NewEnv(strings.ToLower(word))
		stem(env)
		return env.Current()
	}
}

// Stem reduces a lower-case word to its stem in language lang (a tag as
// for CanonicalLang). Serbian (and Croatian, Bosnian) words lose a common
// inflectional ending; in languages without a stemmer the word is
// returned unchanged.
func Stem(lang, word string) string {
	lang = CanonicalLang(lang)
	if f, ok := stemmers[lang]; ok {
		return f(word, false)
	}
	switch lang {
	case "sr", "hr", "bs":
		return stemBCMS(word)
	}
	return word
}

// bcmsSuffixes are frequent noun, adjective and verb endings of Serbian,
// Croatian and Bosnian, longest first, in folded (ASCII) spelling.
var bcmsSuffixes = []string{
	"ovima", "evima", "anje", "enje", "iste", "ama", "ima", "om", "em", "og", "oj", "im",
	"ih", "mo", "te", "a", "e", "i", "o", "u",
}

func stemBCMS(w string) string {
	w = Normalize(w)
	for _, s := range bcmsSuffixes {
		if len(w)-len(s) >= 3 && strings.HasSuffix(w, s) {
			return w[:len(w)-len(s)]
		}
	}
	return w
}

// MatchTokens returns the words of text as retrieval terms: lower-cased,
// stemmed for lang, then folded like Normalize (diacritics off, Cyrillic
// to Latin), so "lösenordet", "losenordet" and "lösenord" compare well.
func MatchTokens(lang, text string) []string {
	text = strings.ToLower(norm.NFC.String(strings.ToValidUTF8(text, " ")))
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := words[:0]
	for _, w := range words {
		if s := Normalize(Stem(lang, w)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
