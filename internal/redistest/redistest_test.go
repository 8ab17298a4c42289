package redistest

import "testing"

// TestRestartKeepsAOF: a write acknowledged before a SIGKILL is there after
// the restart (appendfsync always), on the same address.
func TestRestartKeepsAOF(t *testing.T) {
	s := Start(t)
	if r, err := s.Do("SET", "k", "v"); err != nil || r != "OK" {
		t.Fatalf("SET: %q, %v", r, err)
	}
	addr := s.Addr
	s.Restart(t)
	if r, err := s.Do("GET", "k"); err != nil || r != "v" || s.Addr != addr {
		t.Fatalf("after restart GET k = %q, %v at %s", r, err, s.Addr)
	}
}
