package llm

import (
	"sync"
	"time"
)

// Breaker states.
const (
	StateClosed   = "closed"    // calls go through
	StateOpen     = "open"      // calls fail at once (the bot uses the offline router)
	StateHalfOpen = "half_open" // one probe call is in flight
)

// breaker is a circuit breaker: after `failures` consecutive failures
// (timeouts, 5xx, 429, network errors) it opens for `cooldown` (or until a
// 429's Retry-After, if later), then lets exactly one probe through; the
// probe's success closes it, its failure opens it again.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time

	mu      sync.Mutex
	state   string
	fails   int
	until   time.Time
	probing bool
}

func newBreaker(failures int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{failures: failures, cooldown: cooldown, now: now, state: StateClosed}
}

// allow reports whether a call may start; a true from a half-open
// breaker makes the caller the probe, which must report done.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case StateClosed:
		return true
	case StateOpen:
		if b.now().Before(b.until) {
			return false
		}
		b.state, b.probing = StateHalfOpen, true
		return true
	default: // half-open: one probe at a time
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
}

// done reports the outcome of an allowed call. failed calls count toward
// opening; retryAfter (from a 429) keeps the breaker open at least that long.
// neutral calls (e.g. a 400, or the caller gave up) neither count nor reset.
func (b *breaker) done(failed, neutral bool, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.state == StateHalfOpen
	if wasProbe {
		b.probing = false
	}
	switch {
	case neutral:
		if wasProbe {
			b.state = StateOpen // not proven healthy: try again after a fresh cool-down
			b.until = b.now().Add(b.cooldown)
		}
	case failed:
		b.fails++
		if wasProbe || b.fails >= b.failures || retryAfter > 0 {
			b.state = StateOpen
			b.until = b.now().Add(max(b.cooldown, retryAfter))
		}
	default:
		b.state, b.fails = StateClosed, 0
	}
}

// State returns the breaker's state now.
func (b *breaker) State() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == StateOpen && !b.now().Before(b.until) {
		return StateHalfOpen // the next call probes
	}
	return b.state
}
