package bot

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimitConfig tunes a Limiter. Zero values take the defaults.
type LimitConfig struct {
	// Rate is the sustained number of messages per second one customer may
	// send (default 0.5: one every two seconds).
	Rate rate.Limit
	// Burst is how many messages a customer may send at once (default 8).
	Burst int
	// Idle is how long a quiet customer is remembered (default 10m); the
	// memory of the limiter is bounded by the customers active within Idle.
	Idle time.Duration
	// NoticeEvery is the window in which a flooding customer is told to slow
	// down at most once (default 1m).
	NoticeEvery time.Duration
	// Notice is that message (default: a short English "slow down").
	Notice string
}

// SetDefaults fills zero fields.
func (c *LimitConfig) SetDefaults() {
	if c.Rate <= 0 {
		c.Rate = 0.5
	}
	if c.Burst <= 0 {
		c.Burst = 8
	}
	if c.Idle <= 0 {
		c.Idle = 10 * time.Minute
	}
	if c.NoticeEvery <= 0 {
		c.NoticeEvery = time.Minute
	}
	if c.Notice == "" {
		c.Notice = "You are sending messages very quickly, so I skipped some of them. Please wait a moment and send your question again."
	}
}

// Limiter limits how fast each customer (Customer.ID, else the conversation)
// may write, with a token bucket per customer (golang.org/x/time/rate).
// Messages over the limit are dropped before they reach the engine, so a
// flood costs no store writes, no routing and no replies: other customers
// are not slowed. The flooder gets at most one short notice per
// NoticeEvery. Buckets of customers idle for Idle are forgotten. A Limiter
// is safe for concurrent use and starts no goroutine.
type Limiter struct {
	cfg     LimitConfig
	now     func() time.Time
	onLimit func(in Inbound)

	mu    sync.Mutex
	seen  map[string]*visitor
	swept time.Time
}

type visitor struct {
	lim     *rate.Limiter
	last    time.Time // last message
	noticed time.Time // last notice
}

// LimitOption configures a Limiter.
type LimitOption func(*Limiter)

// LimitClock replaces time.Now (tests use a fake clock).
func LimitClock(now func() time.Time) LimitOption { return func(l *Limiter) { l.now = now } }

// OnLimit registers fn, called for every dropped message (metrics).
func OnLimit(fn func(in Inbound)) LimitOption { return func(l *Limiter) { l.onLimit = fn } }

// NewLimiter returns a Limiter; cfg is defaulted.
func NewLimiter(cfg LimitConfig, opts ...LimitOption) *Limiter {
	cfg.SetDefaults()
	l := &Limiter{cfg: cfg, now: time.Now, seen: map[string]*visitor{}}
	for _, o := range opts {
		o(l)
	}
	l.swept = l.now()
	return l
}

// Verdict is the Limiter's decision on one message.
type Verdict int

const (
	Allow      Verdict = iota // handle it
	Drop                      // over the limit: drop it silently
	DropNotify                // over the limit: drop it and send the notice
)

// Check decides on in and charges the customer's bucket when allowed.
func (l *Limiter) Check(in Inbound) Verdict {
	key := in.Msg.Customer.ID
	if key == "" {
		key = string(in.Msg.From.ConversationID())
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.cfg.Idle {
		for k, v := range l.seen {
			if now.Sub(v.last) >= l.cfg.Idle {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	v := l.seen[key]
	if v == nil {
		v = &visitor{lim: rate.NewLimiter(l.cfg.Rate, l.cfg.Burst)}
		l.seen[key] = v
	}
	v.last = now
	if v.lim.AllowN(now, 1) {
		return Allow
	}
	if v.noticed.IsZero() || now.Sub(v.noticed) >= l.cfg.NoticeEvery {
		v.noticed = now
		return DropNotify
	}
	return Drop
}

// Tracked is how many customers the Limiter remembers now.
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// Channel wraps ch so that its customers' messages pass through l before the
// engine sees them. A dropped event is acked (it was deliberately dropped);
// the notice is sent straight through ch, not stored. The wrapper keeps ch's
// Typer and Readier capabilities. Wrap every channel with the same Limiter
// to limit a customer across channels (when Customer.ID is cross-channel).
func (l *Limiter) Channel(ch Channel) Channel { return &limited{Channel: ch, l: l} }

type limited struct {
	Channel
	l *Limiter
}

func (c *limited) Listen(ctx context.Context, deliver func(context.Context, Inbound)) error {
	return c.Channel.Listen(ctx, func(ctx context.Context, in Inbound) {
		v := c.l.Check(in)
		if v == Allow {
			deliver(ctx, in)
			return
		}
		if c.l.onLimit != nil {
			c.l.onLimit(in)
		}
		if in.Ack != nil {
			in.Ack()
		}
		if v == DropNotify {
			// Best effort: a notice that fails is not retried, the customer
			// is flooding anyway.
			_ = c.Channel.Send(ctx, in.Msg.From, Reply{Kind: KindNotice, Text: c.l.cfg.Notice})
		}
	})
}

// Typing forwards to the wrapped channel if it can show typing.
func (c *limited) Typing(ctx context.Context, to Address) error {
	if t, ok := c.Channel.(Typer); ok {
		return t.Typing(ctx, to)
	}
	return nil
}

// Ready forwards to the wrapped channel; a channel without Ready is ready.
func (c *limited) Ready() <-chan struct{} {
	if r, ok := c.Channel.(Readier); ok {
		return r.Ready()
	}
	return closedChan
}

// Unwrap returns the wrapped channel.
func (c *limited) Unwrap() Channel { return c.Channel }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
