package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/supportbot/supportbot/bot"
)

// limits enforces the rate and token limits, globally and per
// conversation, and the monthly token budget. Counters live in memory; the
// monthly total is also kept in the store (see Client.Flush) so it survives
// restarts and is shared by replicas within a flush interval.
type limits struct {
	cfg *Config
	now func() time.Time

	global    *rate.Limiter // calls
	tokensMin *rate.Limiter // tokens per minute

	mu       sync.Mutex
	month    string
	used     int64 // tokens this month, including the stored total at load
	pending  int64 // not yet flushed to the store
	convs    map[string]*convLimit
	lastSwep time.Time
}

type convLimit struct {
	calls  *rate.Limiter
	tokens int64
	month  string
	seen   time.Time
}

func newLimits(cfg *Config, now func() time.Time) *limits {
	l := &limits{cfg: cfg, now: now, convs: map[string]*convLimit{}}
	if cfg.RatePerMinute > 0 {
		l.global = rate.NewLimiter(rate.Limit(float64(cfg.RatePerMinute)/60), max(1, cfg.RatePerMinute/6))
	}
	if cfg.TokensPerMinute > 0 {
		l.tokensMin = rate.NewLimiter(rate.Limit(float64(cfg.TokensPerMinute)/60), cfg.TokensPerMinute)
	}
	return l
}

func monthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// Errors of the limits, wrapped by ErrLimited.
var (
	errRate   = errors.New("rate limit")
	errBudget = errors.New("token budget")
)

// reserve admits one call of conversation conv that may use est tokens,
// or returns why not (errRate or errBudget).
func (l *limits) reserve(conv string, est int64) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	m := monthOf(now)
	if m != l.month {
		l.month, l.used, l.pending = m, 0, 0
	}
	if b := l.cfg.MonthlyTokenBudget; b > 0 && l.used+est > b {
		return fmt.Errorf("%w: %d of %d tokens used this month", errBudget, l.used, b)
	}
	var cl *convLimit
	if conv != "" {
		cl = l.conv(conv, now, m)
		if b := l.cfg.ConvTokensPerMonth; b > 0 && cl.tokens+est > b {
			return fmt.Errorf("%w: conversation used %d of %d tokens", errBudget, cl.tokens, b)
		}
		if cl.calls != nil && !cl.calls.AllowN(now, 1) {
			return fmt.Errorf("%w: conversation", errRate)
		}
	}
	if l.global != nil && !l.global.AllowN(now, 1) {
		return fmt.Errorf("%w: global calls", errRate)
	}
	if l.tokensMin != nil && !l.tokensMin.AllowN(now, int(min(est, int64(l.cfg.TokensPerMinute)))) {
		return fmt.Errorf("%w: global tokens per minute", errRate)
	}
	return nil
}

// add counts tokens used by a call of conv.
func (l *limits) add(conv string, tokens int64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	m := monthOf(now)
	if m != l.month {
		l.month, l.used, l.pending = m, 0, 0
	}
	l.used += tokens
	l.pending += tokens
	if conv != "" {
		l.conv(conv, now, m).tokens += tokens
	}
}

// conv returns conv's limiter, creating it; idle ones are swept. l.mu is held.
func (l *limits) conv(id string, now time.Time, month string) *convLimit {
	if now.Sub(l.lastSwep) > 10*time.Minute && len(l.convs) > 1000 {
		for k, c := range l.convs {
			if now.Sub(c.seen) > time.Hour && c.month != month || now.Sub(c.seen) > 24*time.Hour {
				delete(l.convs, k)
			}
		}
		l.lastSwep = now
	}
	c := l.convs[id]
	if c == nil {
		c = &convLimit{month: month}
		if r := l.cfg.ConvRatePerMinute; r > 0 {
			c.calls = rate.NewLimiter(rate.Limit(float64(r)/60), max(1, min(r, 3)))
		}
		l.convs[id] = c
	}
	if c.month != month {
		c.month, c.tokens = month, 0
	}
	c.seen = now
	return c
}

// monthUsed is the month's token total as this process knows it.
func (l *limits) monthUsed() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if monthOf(l.now()) != l.month {
		return 0
	}
	return l.used
}

// usageDoc is the store document of a month's token total.
func usageDoc(month string) string { return "llm.usage." + month }

type usageData struct {
	Month  string `json:"month"`
	Tokens int64  `json:"tokens"`
}

// load adds the stored total of this month (another replica's or an
// earlier run's) to the counter.
func (l *limits) load(ctx context.Context, st bot.DocStore) error {
	m := monthOf(l.now())
	d, err := st.Doc(ctx, usageDoc(m))
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var u usageData
	if err := json.Unmarshal(d.Data, &u); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.month != m {
		l.month, l.used, l.pending = m, 0, 0
	}
	l.used += u.Tokens
	return nil
}

// flush adds the tokens counted since the last flush to the stored total,
// retrying on concurrent updates, and refreshes the local total from it.
func (l *limits) flush(ctx context.Context, st bot.DocStore) error {
	l.mu.Lock()
	m, delta := l.month, l.pending
	l.mu.Unlock()
	if delta == 0 || m == "" {
		return nil
	}
	for attempt := 0; attempt < 5; attempt++ {
		var u usageData
		ver, err := st.DocVersion(ctx, usageDoc(m))
		if err != nil {
			return err
		}
		if ver > 0 {
			d, err := st.Doc(ctx, usageDoc(m))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(d.Data, &u); err != nil {
				return err
			}
			ver = d.Version
		}
		u.Month, u.Tokens = m, u.Tokens+delta
		data, _ := json.Marshal(u)
		_, err = st.PutDoc(ctx, bot.Doc{Name: usageDoc(m), Data: data, Author: "llm", Note: "token usage"}, ver)
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		l.mu.Lock()
		if l.month == m {
			l.pending -= delta
			// the stored total now includes every replica's flushed usage
			l.used = max(l.used, u.Tokens+l.pending)
		}
		l.mu.Unlock()
		return nil
	}
	return fmt.Errorf("llm: flush token usage: %w", bot.ErrConflict)
}
