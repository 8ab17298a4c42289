package nlp

import (
	"testing"
	"unicode/utf8"
)

// FuzzNormalize: normalisation of any customer text never panics, returns
// valid UTF-8 (for valid input) and is idempotent, and tokenising its output
// never panics. Seeds: testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Where is my ORDER?", "Gdje je moja narudžba?", "Где је моја поруџбина?",
		"HVOR ER PAKKEN MIN", "straße ǅ İstanbul", "emoji 😀😀 ok", "\u0301\u0301", "a\u00a0b\u2009c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
		_ = Tokens(s)
		_ = TransliterateSerbian(s)
	})
}
