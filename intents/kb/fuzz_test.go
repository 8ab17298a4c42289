package kb_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/supportbot/supportbot/intents/kb"
)

// FuzzParseFile checks that ParseFile never panics, that every error it
// returns is an *Error carrying the file name and a line, and that what it
// accepts survives a trip through YAML. The seed corpus is the starter KB
// plus testdata/fuzz/FuzzParseFile.
func FuzzParseFile(f *testing.F) {
	files, _ := filepath.Glob("../../kb/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(small))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "f.yaml"
		b, err := kb.ParseFile(name, data)
		if err != nil {
			if b != nil {
				t.Fatal("ParseFile returned a Base and an error")
			}
			if !errors.Is(err, kb.ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			errs := kb.Errors(err)
			if len(errs) == 0 {
				t.Fatalf("error is not an *Error: %v", err)
			}
			for _, e := range errs {
				if e.File != name || e.Line < 1 || e.Msg == "" {
					t.Fatalf("error without file:line: %#v", e)
				}
			}
			return
		}
		out, err := b.YAML()
		if err != nil {
			t.Fatalf("YAML of a parsed Base: %v", err)
		}
		back, err := kb.ParseFile(name, out)
		if err != nil {
			t.Fatalf("ParseFile(YAML(b)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(b, back) {
			t.Fatalf("ParseFile(YAML(b)) != b\n%s", out)
		}
	})
}
