package kb

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// Lang returns the canonical ISO 639-1 code of a language code or tag:
// lower case, without region or script ("sr-Latn" and "sr-Cyrl" are both
// "sr": Serbian in either script), with "no" (Norwegian) read as "nb"
// (Bokmål) and three-letter codes mapped to two letters ("eng" is "en").
// The error wraps ErrInvalid.
func Lang(code string) (string, error) {
	l, problem := canonLang(code)
	if problem != "" {
		return "", fmt.Errorf("%w: %s", ErrInvalid, problem)
	}
	return l, nil
}

// canonLang is Lang, returning what is wrong as a message.
func canonLang(code string) (lang, problem string) {
	primary, _, _ := strings.Cut(strings.ReplaceAll(code, "_", "-"), "-")
	if _, err := language.Parse(code); err != nil || primary == "" || strings.TrimSpace(code) != code {
		return "", fmt.Sprintf("unknown language code %q; use ISO 639-1 codes like en, nb, sv, sr", code)
	}
	b, err := language.ParseBase(primary)
	s := b.String()
	if err != nil || len(s) != 2 {
		return "", fmt.Sprintf("%q is not an ISO 639-1 language code; use codes like en, nb, sv, sr", code)
	}
	if s == "no" {
		s = "nb"
	}
	return s, ""
}
