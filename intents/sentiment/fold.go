package sentiment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/supportbot/supportbot/intents/nlp"
)

// foldTable holds nlp.Normalize of each single rune below foldLimit: Latin
// with its diacritics, the combining marks, Greek and Cyrillic.
const foldLimit = 0x530

var foldTable [foldLimit]string

func init() {
	// Folded between two letters, so white space stays a space and the
	// Cyrillic hard and soft signs, which fold to nothing, vanish.
	for r := rune(utf8.RuneSelf); r < foldLimit; r++ {
		t := nlp.Normalize("a" + string(r) + "a")
		foldTable[r] = t[1 : len(t)-1]
	}
}

// fold is nlp.Normalize made cheap for chat text in the scripts the lexicon
// covers: normalisation and case folding of these runes do not depend on
// their neighbours, so the text is folded rune by rune from a table built
// with nlp.Normalize itself. White space is not collapsed (the tokenizer
// does not care). Text with any other rune (emoji, CJK, invalid UTF-8)
// and text with combining marks go through nlp.Normalize.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case c < ' ' || c == 0x7f:
				c = ' '
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		// Combining marks compose with the letter before them ("и" and a
		// breve is "й", which is "j", not "i").
		if r >= foldLimit || r == utf8.RuneError || unicode.Is(unicode.Mn, r) {
			return nlp.Normalize(s)
		}
		b.WriteString(foldTable[r])
		i += size
	}
	return b.String()
}
