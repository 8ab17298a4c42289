// Package nlp holds the language tools of the offline intent router: text
// normalisation (Unicode folding, diacritics, Serbian Cyrillic to Latin),
// tokenisation, feature n-grams and language detection.
//
// The package imports nothing from the rest of the module and keeps no
// global mutable state; every function is safe for concurrent use.
package nlp

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// srCyrl maps Serbian (and Macedonian) Cyrillic letters to Gaj's Latin
// alphabet, lower case only: Normalize folds case first.
var srCyrl = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'ђ': "đ", 'е': "e",
	'ж': "ž", 'з': "z", 'и': "i", 'ј': "j", 'к': "k", 'л': "l", 'љ': "lj",
	'м': "m", 'н': "n", 'њ': "nj", 'о': "o", 'п': "p", 'р': "r", 'с': "s",
	'т': "t", 'ћ': "ć", 'у': "u", 'ф': "f", 'х': "h", 'ц': "c", 'ч': "č",
	'џ': "dž", 'ш': "š",
	// Macedonian and Russian letters, so other Cyrillic text still folds
	// to something readable and comparable.
	'ѓ': "đ", 'ќ': "ć", 'ѕ': "dz", 'й': "j", 'ы': "y", 'э': "e", 'ю': "ju",
	'я': "ja", 'ё': "e", 'щ': "šč", 'ъ': "", 'ь': "", 'і': "i", 'ї': "ji",
	'є': "je", 'ґ': "g",
}

// TransliterateSerbian rewrites Serbian Cyrillic letters in s as Gaj's
// Latin letters (with diacritics: "ђ" becomes "đ", "љ" becomes "lj"),
// keeping everything else. Upper-case letters are lower-cased.
func TransliterateSerbian(s string) string {
	if !hasCyrillic(s) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0x400 && r <= 0x4ff {
			if t, ok := srCyrl[unicode.ToLower(r)]; ok {
				b.WriteString(t)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hasCyrillic(s string) bool {
	for _, r := range s {
		if r >= 0x400 && r <= 0x4ff {
			return true
		}
	}
	return false
}

// special maps letters that NFD does not decompose into base plus mark.
var special = map[rune]string{
	'ø': "o", 'æ': "ae", 'đ': "dj", 'ß': "ss", 'ł': "l", 'œ': "oe",
	'þ': "th", 'ð': "d", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŋ': "n",
	'ſ': "s", 'ĸ': "k", 'ŀ': "l",
}

// Normalize folds s for matching: NFKC, case folding, Serbian Cyrillic to
// Latin, diacritics removed ("å"→"a", "č"→"c", "ø"→"o", "æ"→"ae",
// "đ"→"dj", "ß"→"ss"), control characters and invalid UTF-8 treated as
// spaces, and runs of white space collapsed to one space, trimmed.
// "Како да вратим производ?" and "kako da vratim proizvod?" give the same
// result. Normalize never panics, whatever the input.
func Normalize(s string) string {
	if isASCII(s) {
		return normalizeASCII(s)
	}
	s = strings.ToValidUTF8(s, " ")
	s = norm.NFKC.String(s)
	s = cases.Fold().String(s) // a Caser is not safe for concurrent use
	s = TransliterateSerbian(s)
	s = norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading space
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError ||
			unicode.Is(unicode.Cf, r):
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		if t, ok := srCyrl[r]; ok && r >= 0x400 && r <= 0x4ff {
			// A Cyrillic letter that NFD freed from its accent ("ѐ" → "е"),
			// so it escaped TransliterateSerbian: transliterate it now.
			for _, c := range norm.NFD.String(t) {
				if x, ok := special[c]; ok {
					b.WriteString(x)
				} else if !unicode.Is(unicode.Mn, c) {
					b.WriteRune(c)
				}
			}
		} else if t, ok := special[r]; ok {
			b.WriteString(t)
		} else {
			b.WriteRune(r)
		}
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizeASCII is the allocation-light path for plain ASCII input. Text
// that is already normal (lower case, single spaces, trimmed) is returned
// as it is.
func normalizeASCII(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == 0x7f || 'A' <= c && c <= 'Z' || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return foldASCII(s)
		}
	}
	return s
}

func foldASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
		space = false
	}
	return strings.TrimSuffix(b.String(), " ")
}

// Tokens returns the word tokens of s after Normalize: maximal runs of
// letters and digits. Apostrophes inside a word are dropped ("don't" →
// "dont"), so contractions stay one token.
func Tokens(s string) []string {
	n := Normalize(s)
	if toks := tokenize(n, make([]string, 0, strings.Count(n, " ")+1)); len(toks) > 0 {
		return toks
	}
	return nil
}

// AppendTokens is Tokens for text that is already normalised, appending to
// dst to spare allocations on hot paths.
func AppendTokens(dst []string, normalized string) []string {
	return tokenize(normalized, dst)
}

func tokenize(s string, dst []string) []string {
	start := -1
	var buf []byte // only used when a word contains an apostrophe
	flush := func(end int) {
		if start < 0 {
			return
		}
		if buf != nil {
			dst = append(dst, string(buf))
			buf = nil
		} else {
			dst = append(dst, s[start:end])
		}
		start = -1
	}
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			} else if buf != nil {
				buf = utf8.AppendRune(buf, r)
			}
			continue
		}
		if (r == '\'' || r == '’') && start >= 0 && i+1 < len(s) {
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if isWordRune(next) {
				if buf == nil {
					buf = append([]byte(nil), s[start:i]...)
				}
				continue
			}
		}
		flush(i)
	}
	flush(len(s))
	return dst
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
