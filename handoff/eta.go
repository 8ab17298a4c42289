package handoff

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Event types the desk records (bot.Event.Type).
const (
	EventHandoff      = "handoff"      // Reason; Meta skill, priority, after_hours
	EventClaim        = "claim"        // Value: seconds waited in the queue; Agent
	EventRelease      = "release"      // Agent
	EventTransfer     = "transfer"     // Agent; Meta to_agent or to_skill
	EventResolve      = "resolve"      // Value: seconds from handoff to resolve; Agent
	EventCSAT         = "csat"         // Value: score 1..5; Meta by_agent; Agent
	EventCSATComment  = "csat_comment" // Text: the comment
	EventAbandon      = "abandon"      // Value: seconds waited before leaving
	EventRemind       = "sla"          // Value: level (1 re-notify, 2 escalate)
	EventContactLeft  = "contact"      // the customer left contact details after hours
	minETASamples     = 3              // fewer real claim waits than this: no estimate
	etaCacheFor       = time.Minute
	queueLeaseName    = "handoff:queue"
	queueLeaseMinimum = 10 * time.Second
)

// etaCache keeps the median of recent claim waits for a minute.
type etaCache struct {
	mu     sync.Mutex
	at     time.Time
	median time.Duration
	ok     bool
}

func (e *etaCache) invalidate() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at = time.Time{}
}

// medianWait is the median of the last ETASamples claim waits within
// ETAWindow; false if there are fewer than minETASamples.
func (d *Desk) medianWait(ctx context.Context) (time.Duration, bool) {
	if d.events == nil {
		return 0, false
	}
	now := d.now()
	d.eta.mu.Lock()
	defer d.eta.mu.Unlock()
	if !d.eta.at.IsZero() && now.Sub(d.eta.at) < etaCacheFor && !now.Before(d.eta.at) {
		return d.eta.median, d.eta.ok
	}
	evs, err := d.events.Events(ctx, now.Add(-d.conf().ETAWindow), now.Add(time.Second))
	if err != nil {
		d.log.Warn("wait estimate: events", "err", err)
		return 0, false
	}
	var waits []float64
	for i := len(evs) - 1; i >= 0 && len(waits) < d.conf().ETASamples; i-- {
		if evs[i].Type == EventClaim {
			waits = append(waits, evs[i].Value)
		}
	}
	d.eta.at, d.eta.ok, d.eta.median = now, len(waits) >= minETASamples, 0
	if d.eta.ok {
		slices.Sort(waits)
		m := waits[len(waits)/2]
		if len(waits)%2 == 0 {
			m = (waits[len(waits)/2-1] + m) / 2
		}
		d.eta.median = time.Duration(m * float64(time.Second))
	}
	return d.eta.median, d.eta.ok
}

// estimate is the expected wait at position pos: the median recent wait
// for each round of agents ahead (pos spread over the agents online). It
// is false when there is no data yet or nobody is online: the desk then
// says so instead of guessing.
func (d *Desk) estimate(ctx context.Context, pos int) (time.Duration, bool) {
	med, ok := d.medianWait(ctx)
	if !ok || pos <= 0 {
		return 0, false
	}
	agents, err := d.st.Agents(ctx)
	if err != nil {
		d.log.Warn("wait estimate: agents", "err", err)
		return 0, false
	}
	online := 0
	for _, a := range agents {
		if a.Status == On {
			online++
		}
	}
	if online == 0 {
		return 0, false
	}
	rounds := (pos + online - 1) / online
	return med * time.Duration(rounds), true
}
