//go:build race

package web

// slow scales the browser tests' timeouts: the race detector makes
// training the router about ten times slower.
const slow = 8
