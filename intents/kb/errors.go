package kb

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Error is one problem in a knowledge base. It matches ErrInvalid.
type Error struct {
	File string // YAML file, slash-separated; "" when not from a file
	Line int    // 1-based line in File; 0 when unknown
	Key  string // path of the key at fault: "intents[order.track].examples.en[2]"
	Msg  string // what is wrong
}

// Error formats e as "file:line: key: what is wrong", leaving out the parts
// it does not know.
func (e *Error) Error() string {
	s := e.Msg
	if e.Key != "" {
		s = e.Key + ": " + s
	}
	if e.File != "" {
		s = e.File + ":" + strconv.Itoa(max(e.Line, 1)) + ": " + s
	}
	return s
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Errors returns the *Error values in err (a single error or an
// errors.Join of them), in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// errList collects problems.
type errList []*Error

func (l *errList) add(file string, line int, key, format string, args ...any) {
	*l = append(*l, &Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// err joins the problems, sorted by file and line, or returns nil.
func (l errList) err() error {
	if len(l) == 0 {
		return nil
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errors.Join(errs...)
}
