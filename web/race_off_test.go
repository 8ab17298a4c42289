//go:build !race

package web

// slow scales the browser tests' timeouts (see race_on_test.go).
const slow = 1
