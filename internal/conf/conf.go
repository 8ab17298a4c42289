// Package conf loads config.toml strictly and reports every problem as
// "file:line: key: what is wrong".
package conf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Duration is a time.Duration written as "10s" or "1h30m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration like \"10s\" or \"2h\": %q", b)
	}
	if v < 0 {
		return fmt.Errorf("must not be negative: %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ErrInvalid wraps every configuration error.
var ErrInvalid = errors.New("invalid configuration")

// KeyError is a problem with one key; Key is the dotted path ("handoff.routing").
type KeyError struct {
	Key string
	Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

// Errorf returns a KeyError for key.
func Errorf(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Decode strictly decodes data (the contents of file) into v: unknown keys,
// bad types and bad values are errors naming file, line and key.
func Decode(file string, data []byte, v any) error {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var errs []error
		for _, e := range strict.Errors {
			row, _ := e.Position()
			errs = append(errs, fmt.Errorf("%w: %s:%d: %s: unknown key", ErrInvalid, file, row, strings.Join(e.Key(), ".")))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if key == "" {
			key = keyAt(data, row)
		}
		return fmt.Errorf("%w: %s:%d: %s: %s", ErrInvalid, file, row, key, de.Error())
	}
	return fmt.Errorf("%w: %s: %v", ErrInvalid, file, err)
}

// Locate rewrites validation errors (KeyErrors, possibly joined) as
// "file:line: key: msg", finding each key's line in data.
func Locate(file string, data []byte, err error) error {
	if err == nil {
		return nil
	}
	lines := keyLines(data)
	var out []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ke *KeyError
		if errors.As(e, &ke) {
			line := lines[ke.Key]
			for k := ke.Key; line == 0 && strings.Contains(k, "."); {
				k = k[:strings.LastIndex(k, ".")]
				line = lines[k]
			}
			if line == 0 {
				out = append(out, fmt.Errorf("%w: %s: %s: %s (default value)", ErrInvalid, file, ke.Key, ke.Msg))
				return
			}
			out = append(out, fmt.Errorf("%w: %s:%d: %s: %s", ErrInvalid, file, line, ke.Key, ke.Msg))
			return
		}
		out = append(out, fmt.Errorf("%w: %s: %v", ErrInvalid, file, e))
	}
	walk(err)
	return errors.Join(out...)
}

var (
	tableRe = regexp.MustCompile(`^\s*\[\[?\s*([A-Za-z0-9_.\-"]+)\s*\]\]?`)
	keyRe   = regexp.MustCompile(`^\s*([A-Za-z0-9_\-"]+)\s*=`)
)

// keyLines maps dotted keys (and table names) to their first line.
func keyLines(data []byte) map[string]int {
	m := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if t := tableRe.FindStringSubmatch(line); t != nil {
			table = strings.ReplaceAll(t[1], `"`, "")
			if _, ok := m[table]; !ok {
				m[table] = n
			}
			continue
		}
		if k := keyRe.FindStringSubmatch(line); k != nil {
			key := strings.ReplaceAll(k[1], `"`, "")
			if table != "" {
				key = table + "." + key
			}
			if _, ok := m[key]; !ok {
				m[key] = n
			}
		}
	}
	return m
}

func keyAt(data []byte, row int) string {
	for k, n := range keyLines(data) {
		if n == row && strings.Contains(k, ".") {
			return k
		}
	}
	return "(syntax)"
}
