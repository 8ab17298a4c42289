package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/internal/metrics"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/embedded"
)

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s\n%s", resp.Status, b)
	}
	return string(b)
}

func has(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, l) {
			t.Errorf("/metrics lacks %q", l)
		}
	}
}

// TestEngineMessagesAndRouterLatency runs the engine with the observer and
// the router middleware, and reads the counts back from /metrics.
func TestEngineMessagesAndRouterLatency(t *testing.T) {
	m := metrics.New()
	st := m.Store(openStore(t))
	fake := channeltest.NewFake("fake")
	done := make(chan bot.Outcome, 16)
	router := bot.HandlerFunc(func(_ context.Context, t *bot.Turn) error {
		t.Reply(bot.Reply{Text: "hi"})
		return nil
	})
	eng := bot.New(bot.Config{}, st, bot.Chain(router, m.Router()), slog.New(slog.DiscardHandler),
		bot.WithObserver(func(in bot.Inbound, o bot.Outcome, took time.Duration) {
			m.Observe(in, o, took)
			done <- o
		}))
	eng.Add(fake)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- eng.Run(ctx) }()
	defer func() { cancel(); <-ran }()

	in := fake.Say("r1", "ann", "hello", nil)
	fake.Say("r1", "ann", "  \x00 ", nil)
	fake.Resend(in)
	for range 3 {
		select {
		case <-done:
		case <-time.After(channeltest.Wait):
			t.Fatal("engine did not finish")
		}
	}
	text := scrape(t, m)
	has(t, text,
		`supportbot_messages_total{channel="fake",outcome="handled"} 1`,
		`supportbot_messages_total{channel="fake",outcome="ignored"} 1`,
		`supportbot_messages_total{channel="fake",outcome="duplicate"} 1`,
		`supportbot_message_duration_seconds_count{channel="fake"} 1`,
		`supportbot_router_duration_seconds_count 1`,
		"go_goroutines", "process_",
	)
}

type fakeDesk struct {
	q      []handoff.Entry
	agents []handoff.Agent
	err    error
}

func (d *fakeDesk) Events(context.Context, time.Time, time.Time) ([]bot.Event, error) {
	return nil, d.err
}

func (d *fakeDesk) Queue(context.Context) ([]handoff.Entry, error)  { return d.q, d.err }
func (d *fakeDesk) Agents(context.Context) ([]handoff.Agent, error) { return d.agents, d.err }

func TestDeskGauges(t *testing.T) {
	m := metrics.New()
	d := &fakeDesk{
		q: []handoff.Entry{{Conv: "a", Since: time.Now().Add(-90 * time.Second)}, {Conv: "b", Since: time.Now()}},
		agents: []handoff.Agent{
			{ID: "x", Status: handoff.On, Capacity: 3, Active: 2},
			{ID: "y", Status: handoff.On, Capacity: 0, Active: 1},
			{ID: "z", Status: handoff.Away, Capacity: 2},
		},
	}
	m.WatchDesk(d)
	m.WatchDesk(d) // no effect, no panic
	text := scrape(t, m)
	has(t, text,
		"supportbot_handoff_queue_length 2",
		`supportbot_agents{status="on"} 2`,
		`supportbot_agents{status="away"} 1`,
		`supportbot_agents{status="off"} 0`,
		`supportbot_agent_held_conversations{status="on"} 3`,
		`supportbot_agent_capacity{status="on"} 4`,
	)
	if !strings.Contains(text, "supportbot_handoff_queue_oldest_wait_seconds 9") {
		t.Errorf("oldest wait not ~90s:\n%s", grep(text, "oldest"))
	}
	d.err = bot.ErrUnavailable
	scrape(t, m) // the error counters are gathered alongside: seen on the next scrape
	text = scrape(t, m)
	has(t, text, `supportbot_scrape_errors_total{source="queue"} `, `supportbot_scrape_errors_total{source="agents"} `)
	if strings.Contains(text, "supportbot_handoff_queue_length") {
		t.Error("a failed read still exported a queue length")
	}
}

func grep(text, word string) string {
	var out []string
	for l := range strings.Lines(text) {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

type depth int64

func (d depth) OutboxDepth(context.Context) (int64, error) { return int64(d), nil }
func (d depth) Pending(context.Context) (int64, error)     { return int64(d) * 2, nil }

func TestOutboxHooks(t *testing.T) {
	m := metrics.New()
	m.WatchOutbox(depth(7))
	m.WatchInbound(depth(7))
	m.OutboxRetry("slack", "429")
	m.OutboxRetry("slack", "429")
	m.OutboxDropped("discord")
	m.OutboxSent("slack")
	m.RateLimited("web")
	m.TooLarge()
	has(t, scrape(t, m),
		"supportbot_outbox_depth 7",
		"supportbot_inbound_pending 14",
		`supportbot_outbox_retries_total{channel="slack",reason="429"} 2`,
		`supportbot_outbox_dropped_total{channel="discord"} 1`,
		`supportbot_outbox_sent_total{channel="slack"} 1`,
		`supportbot_rate_limited_total{channel="web"} 1`,
		"supportbot_http_requests_too_large_total 1",
	)
}

// TestNilMetricsIsANoOp: packages may hold an optional *Metrics.
func TestNilMetricsIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	m.Observe(bot.Inbound{}, bot.Handled, time.Second)
	m.OutboxRetry("x", "5xx")
	m.RateLimited("x")
	m.WatchDesk(&fakeDesk{})
	h := bot.HandlerFunc(func(context.Context, *bot.Turn) error { return nil })
	if got := m.Router()(h); got == nil {
		t.Fatal("nil middleware result")
	}
	var st store.Store
	if m.Store(st) != nil {
		t.Fatal("Store(nil) != nil")
	}
}

// TestStoreErrors: an unreachable store counts as unavailable; not-found is
// an answer, not an error.
func TestStoreErrors(t *testing.T) {
	m := metrics.New()
	raw := openStore(t)
	st := m.Store(raw)
	ctx := context.Background()
	if _, err := st.Conversation(ctx, "missing"); err == nil {
		t.Fatal("missing conversation found")
	}
	if u, ok := st.(metrics.Unwrapper); !ok || u.Unwrap() != store.Store(raw) {
		t.Fatal("Unwrap does not return the store")
	}
	raw.Close()
	if err := st.Ping(ctx); err == nil {
		t.Fatal("closed store pings")
	}
	if _, err := st.Conversation(ctx, "x"); err == nil {
		t.Fatal("closed store reads")
	}
	m.Observe(bot.Inbound{}, bot.StoreError, 0)
	text := scrape(t, m)
	has(t, text,
		`supportbot_store_errors_total{kind="unavailable",op="ping"} 1`,
		`supportbot_store_errors_total{kind="unavailable",op="conversation"} 1`,
		`supportbot_store_errors_total{kind="unavailable",op="engine_turn"} 1`,
	)
	if strings.Contains(text, `kind="other"`) {
		t.Errorf("not-found counted as an error:\n%s", grep(text, "store_errors"))
	}
	if n := testutil.CollectAndCount(m.Registry(), "supportbot_store_errors_total"); n != 3 {
		t.Errorf("%d store error series, want 3", n)
	}
}

// TestHandoffEventsFromTheLog: the handoff and claim events in the store's
// log since the last scrape feed handoffs_total and handoff_wait_seconds,
// each counted once however often Prometheus scrapes.
func TestHandoffEventsFromTheLog(t *testing.T) {
	m := metrics.New()
	st := openStore(t)
	ctx := context.Background()
	now := time.Now()
	var mu sync.Mutex
	clock := now
	metrics.SetClock(m, func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	m.WatchDesk(st)
	old := now.Add(-time.Hour) // before the bot started: not counted
	must(t, st.RecordEvent(ctx, bot.Event{Type: handoff.EventHandoff, Reason: bot.ReasonRequested, At: old}))
	must(t, st.RecordEvent(ctx, bot.Event{Type: handoff.EventHandoff, Reason: bot.ReasonComplaint, At: now}))
	must(t, st.RecordEvent(ctx, bot.Event{Type: handoff.EventHandoff, Reason: bot.ReasonComplaint, At: now.Add(time.Second)}))
	must(t, st.RecordEvent(ctx, bot.Event{Type: handoff.EventClaim, Value: 42, At: now.Add(2 * time.Second)}))
	has(t, scrape(t, m), "supportbot_handoff_queue_length 0") // too recent: within EventLag
	mu.Lock()
	clock = now.Add(metrics.EventLag + 3*time.Second)
	mu.Unlock()
	scrape(t, m)
	text := scrape(t, m)
	has(t, text,
		`supportbot_handoffs_total{reason="complaint"} 2`,
		"supportbot_handoff_wait_seconds_count 1",
		"supportbot_handoff_wait_seconds_sum 42",
	)
	if strings.Contains(text, `reason="requested"`) {
		t.Error("an event from before the start was counted")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
