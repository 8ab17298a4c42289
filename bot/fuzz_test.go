package bot_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/supportbot/supportbot/bot"
)

// FuzzClean checks the engine's first defence against bad input: whatever
// a platform sends, Clean returns valid UTF-8 of at most max bytes with no
// control characters but newline and tab, trimmed, and cleaning it again
// changes nothing. Seeds: testdata/fuzz/FuzzClean.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"hello", "  spaced  ", "a\x00b\x07c", "bad \xff\xfe utf8", "zero\u200bwidth\ufeff",
		"line\nbreak\ttab", "ž😀" + strings.Repeat("é", 40), "\r\n\r\n"} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max <= 0 || max > 1<<16 {
			max = 1 + (max&0xffff+0xffff)%4096
		}
		out, cut := bot.Clean(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		if len(out) > max {
			t.Fatalf("%d bytes > max %d", len(out), max)
		}
		if out != strings.TrimSpace(out) {
			t.Fatalf("not trimmed: %q", out)
		}
		for _, r := range out {
			if (unicode.IsControl(r) && r != '\n' && r != '\t') || r == '\u200b' || r == '\ufeff' {
				t.Fatalf("kept %U in %q", r, out)
			}
		}
		if again, cut2 := bot.Clean(out, max); again != out || cut2 {
			t.Fatalf("not idempotent: %q → %q (cut %v)", out, again, cut2)
		}
		if !cut && len(s) <= max && strings.TrimSpace(s) == s && utf8.ValidString(s) && out != s {
			clean := true
			for _, r := range s {
				clean = clean && !(unicode.IsControl(r) && r != '\n' && r != '\t') && r != '\u200b' && r != '\ufeff'
			}
			if clean {
				t.Fatalf("changed clean text %q to %q", s, out)
			}
		}
	})
}
