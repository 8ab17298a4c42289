package intents

import (
	"strings"
	"unicode"
)

var latToCyr = map[string]string{
	"lj": "љ", "nj": "њ", "dž": "џ", "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "đ": "ђ",
	"e": "е", "ž": "ж", "z": "з", "i": "и", "j": "ј", "k": "к", "l": "л", "m": "м", "n": "н",
	"o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "ć": "ћ", "u": "у", "f": "ф", "h": "х",
	"c": "ц", "č": "ч", "š": "ш",
}

// ToCyrillic writes Serbian Latin text in Cyrillic, leaving links, e-mail
// addresses and words with letters outside the Serbian alphabet alone.
func ToCyrillic(s string) string {
	var b strings.Builder
	for i, word := range strings.SplitAfter(s, " ") {
		_ = i
		if strings.Contains(word, "://") || strings.Contains(word, "@") || strings.HasPrefix(word, "www.") || !serbianLatin(word) {
			b.WriteString(word)
			continue
		}
		rs := []rune(word)
		for k := 0; k < len(rs); k++ {
			r := rs[k]
			lower := unicode.ToLower(r)
			up := r != lower
			out := ""
			if k+1 < len(rs) {
				if c, ok := latToCyr[string([]rune{lower, unicode.ToLower(rs[k+1])})]; ok {
					out, k = c, k+1
				}
			}
			if out == "" {
				c, ok := latToCyr[string(lower)]
				if !ok {
					b.WriteRune(r)
					continue
				}
				out = c
			}
			if up {
				out = strings.ToUpper(out)
			}
			b.WriteString(out)
		}
	}
	return b.String()
}

// serbianLatin reports whether word uses only letters of Gaj's alphabet.
func serbianLatin(word string) bool {
	for _, r := range strings.ToLower(word) {
		if unicode.IsLetter(r) && !strings.ContainsRune("abcčćddžđefghijklljmnnjoprsštuvzž", r) {
			return false
		}
	}
	return true
}
