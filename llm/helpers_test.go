package llm

import (
	slogpkg "log/slog"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/internal/conf"
	"github.com/supportbot/supportbot/internal/fakeopenai"
)

// clock is a fake clock for limits and the breaker; tests move it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testConfig is an enabled configuration for a fake at baseURL.
func testConfig(baseURL string) Config {
	c := Default()
	c.Enabled = true
	c.BaseURL = baseURL
	c.Model = "test-chat"
	c.EmbeddingModel = "test-embed"
	c.APIKey = "sk-test"
	c.Timeout = conf.Duration{Duration: 5 * time.Second}
	c.RatePerMinute, c.ConvRatePerMinute = 0, 0
	return c
}

// newClient returns a client for fake f with cfg changed by mod.
func newClient(t testing.TB, f *fakeopenai.Server, clk *clock, mod func(*Config), opts ...Option) *Client {
	t.Helper()
	base := "http://127.0.0.1:1/v1"
	if f != nil {
		base = f.BaseURL()
	}
	cfg := testConfig(base)
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if clk == nil {
		clk = newClock()
	}
	var log *slogpkg.Logger
	if tt, ok := t.(*testing.T); ok {
		log = slogpkg.New(slogpkg.NewTextHandler(tt.Output(), &slogpkg.HandlerOptions{Level: slogpkg.LevelWarn}))
	} else {
		log = slogpkg.New(slogpkg.DiscardHandler)
	}
	return New(cfg, append([]Option{WithClock(clk.Now), WithLogger(log)}, opts...)...)
}

func testLog(t testing.TB) *slogpkg.Logger {
	if tt, ok := t.(*testing.T); ok {
		return slogpkg.New(slogpkg.NewTextHandler(tt.Output(), &slogpkg.HandlerOptions{Level: slogpkg.LevelWarn}))
	}
	return slogpkg.New(slogpkg.DiscardHandler)
}
