package discord

import (
	"strings"
	"unicode/utf8"
)

// split cuts s into parts of at most max characters (runes), preferring,
// in order, a paragraph break, a line break, the end of a sentence, a
// space, and only then any rune boundary (never inside a rune). A code
// block (```) cut in two is closed at the end of one part and reopened at
// the start of the next. Parts are trimmed; empty parts are dropped.
func split(s string, max int) []string {
	s = strings.TrimSpace(s)
	var out []string
	for s != "" {
		if utf8.RuneCountInString(s) <= max {
			out = append(out, s)
			break
		}
		part, rest := cutAt(s, max)
		if strings.Count(part, "```")%2 == 1 {
			part, rest = cutAt(s, max-4) // room to close the code block
			if strings.Count(part, "```")%2 == 1 {
				part += "\n```"
				rest = "```\n" + rest
			}
		}
		if part != "" {
			out = append(out, part)
		}
		s = rest
	}
	return out
}

// cutAt takes the first part of at most max runes from s and returns it
// with the rest, both trimmed.
func cutAt(s string, max int) (part, rest string) {
	head := s[:runeOffset(s, max)]
	n := cutPoint(head)
	return strings.TrimRightFunc(head[:n], isSpace), strings.TrimLeftFunc(s[n:], isSpace)
}

func isSpace(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' }

// runeOffset returns the byte offset of the n-th rune of s (len(s) if fewer).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// cutPoint returns where to end a part taken from head: just after the last
// paragraph break, line break, sentence end or space in its second half
// (so parts stay long), else len(head).
func cutPoint(head string) int {
	floor := len(head) / 2
	if i := strings.LastIndex(head, "\n\n"); i >= floor {
		return i + 2
	}
	if i := strings.LastIndexByte(head, '\n'); i >= floor {
		return i + 1
	}
	best := -1
	for _, end := range []string{". ", "! ", "? ", "… ", "。", "！", "？", ".\t"} {
		if i := strings.LastIndex(head, end); i >= 0 && i+len(end) > best {
			best = i + len(end)
		}
	}
	if best > floor {
		return best
	}
	if i := strings.LastIndexByte(head, ' '); i >= floor {
		return i + 1
	}
	return len(head)
}
