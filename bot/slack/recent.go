package slack

import (
	"sync"
	"time"
)

// recent remembers keys for ttl: a small local dedupe set.
type recent struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]time.Time
}

func newRecent(ttl time.Duration) *recent { return &recent{ttl: ttl, m: map[string]time.Time{}} }

// first records key and reports whether it was not already there.
func (r *recent) first(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.m[key]; ok && now.Sub(at) < r.ttl {
		return false
	}
	if len(r.m) >= 10000 {
		for k, at := range r.m {
			if now.Sub(at) >= r.ttl {
				delete(r.m, k)
			}
		}
	}
	r.m[key] = now
	return true
}

// take removes key and reports whether it was there and fresh.
func (r *recent) take(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.m[key]
	delete(r.m, key)
	return ok && now.Sub(at) < r.ttl
}
