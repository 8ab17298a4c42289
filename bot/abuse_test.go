package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// abuseRig runs an engine whose channel passes through a Limiter.
type abuseRig struct {
	fake     *channeltest.Fake
	outcomes chan bot.Outcome
	limited  chan bot.Inbound
	lim      *bot.Limiter
	clock    *fakeClock
}

func newAbuseRig(t *testing.T, cfg bot.LimitConfig, h bot.HandlerFunc) *abuseRig {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := &abuseRig{fake: channeltest.NewFake("fake"), outcomes: make(chan bot.Outcome, 1024),
		limited: make(chan bot.Inbound, 1024), clock: &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	r.lim = bot.NewLimiter(cfg, bot.LimitClock(r.clock.Now), bot.OnLimit(func(in bot.Inbound) { r.limited <- in }))
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError + 4}))
	eng := bot.New(bot.Config{}, st, h, log, bot.WithObserver(func(_ bot.Inbound, o bot.Outcome, _ time.Duration) { r.outcomes <- o }))
	eng.Add(r.lim.Channel(r.fake))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		st.Close()
	})
	return r
}

// say sends text as customer in room and waits until the engine handled or
// the limiter dropped it.
func (r *abuseRig) say(t *testing.T, room, customer, text string) {
	t.Helper()
	ack := make(chan struct{})
	r.fake.Say(room, customer, text, ack)
	select {
	case <-ack:
	case <-time.After(channeltest.Wait):
		t.Fatalf("%s: %q was neither handled nor dropped", customer, text)
	}
}

func postsTo(f *channeltest.Fake, room string) (texts []string) {
	for _, p := range f.Posts() {
		if p.To.Room == room {
			texts = append(texts, p.Text)
		}
	}
	return texts
}

// TestFloodIsLimitedPerCustomer: one customer sends 40 messages at once
// while three others write; the flooder gets Burst answers and one notice,
// every other customer gets every answer.
func TestFloodIsLimitedPerCustomer(t *testing.T) {
	cfg := bot.LimitConfig{Rate: 0.5, Burst: 5, NoticeEvery: time.Minute, Notice: "slow down"}
	r := newAbuseRig(t, cfg, echo)
	for i := range 40 {
		r.say(t, "flood", "mallory", fmt.Sprintf("spam %d", i))
		if i%10 == 0 {
			for _, c := range []string{"ann", "bob", "cat"} {
				r.say(t, "room-"+c, c, fmt.Sprintf("question %d", i))
			}
		}
	}
	got := postsTo(r.fake, "flood")
	notices := 0
	for _, p := range got {
		if p == "slow down" {
			notices++
		}
	}
	if len(got) != 6 || notices != 1 {
		t.Errorf("flooder got %d posts (%d notices), want 5 answers and 1 notice: %q", len(got), notices, got)
	}
	for _, c := range []string{"ann", "bob", "cat"} {
		if n := len(postsTo(r.fake, "room-"+c)); n != 4 {
			t.Errorf("%s got %d answers, want 4", c, n)
		}
	}
	if n := len(r.limited); n != 35 {
		t.Errorf("OnLimit saw %d dropped messages, want 35", n)
	}
	t.Logf("flooder: 40 sent, %d answered, %d notice; others: 12 sent, 12 answered", len(got)-notices, notices)

	// Two seconds later one more message is allowed; a further flood in the
	// same minute gets no second notice; after the window it gets one.
	r.clock.Add(2 * time.Second)
	r.say(t, "flood", "mallory", "legit")
	for range 5 {
		r.say(t, "flood", "mallory", "spam again")
	}
	if got := postsTo(r.fake, "flood"); len(got) != 7 || got[6] != "echo: legit" {
		t.Errorf("after 2s: posts %q, want one more answer and no second notice", got)
	}
	r.clock.Add(time.Minute)
	for range 10 {
		r.say(t, "flood", "mallory", "spam later")
	}
	if got := postsTo(r.fake, "flood"); len(got) != 7+5+1 || got[len(got)-1] != "slow down" {
		t.Errorf("after the window: posts %q, want the burst and one new notice", got)
	}
}

// TestLimiterForgetsIdleCustomers: memory is bounded by active customers.
func TestLimiterForgetsIdleCustomers(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	l := bot.NewLimiter(bot.LimitConfig{Idle: time.Minute}, bot.LimitClock(clock.Now))
	for i := range 100 {
		l.Check(bot.Inbound{Msg: bot.Message{Customer: bot.Customer{ID: fmt.Sprint("c", i)}}})
	}
	if n := l.Tracked(); n != 100 {
		t.Fatalf("tracked %d, want 100", n)
	}
	clock.Add(time.Minute)
	if v := l.Check(bot.Inbound{Msg: bot.Message{Customer: bot.Customer{ID: "new"}}}); v != bot.Allow {
		t.Fatalf("new customer: %v", v)
	}
	if n := l.Tracked(); n != 1 {
		t.Errorf("after Idle tracked %d, want 1", n)
	}
}

// TestLimitedChannelKeepsCapabilities: the wrapper stays a Typer and a Readier.
func TestLimitedChannelKeepsCapabilities(t *testing.T) {
	ch := bot.NewLimiter(bot.LimitConfig{}).Channel(channeltest.NewFake("x"))
	if ch.Name() != "x" {
		t.Errorf("name %q", ch.Name())
	}
	r, ok := ch.(bot.Readier)
	if !ok {
		t.Fatal("not a Readier")
	}
	select {
	case <-r.Ready():
	default:
		t.Error("a channel without Ready is not ready")
	}
	if _, ok := ch.(bot.Typer); !ok {
		t.Error("not a Typer")
	}
}

// TestMalformedEventsNeverCrashAWorker: events with no address, no text,
// invalid UTF-8 and control characters, or a text that makes the handler
// panic are dropped or answered with the apology; the conversation's next
// message is handled normally.
func TestMalformedEventsNeverCrashAWorker(t *testing.T) {
	h := func(ctx context.Context, t *bot.Turn) error {
		if strings.Contains(t.Msg.Text, "boom") {
			var m map[string]int
			m["x"]++ // nil map write: panics
		}
		return echo(ctx, t)
	}
	r := newAbuseRig(t, bot.LimitConfig{Burst: 100, Rate: 100}, h)
	cases := []struct {
		in   bot.Inbound
		want bot.Outcome
	}{
		{bot.Inbound{}, bot.Ignored},
		{bot.Inbound{Key: "k1", Msg: bot.Message{Text: "\x00\x01\u200b  "}}, bot.Ignored},
		{bot.Inbound{Key: "k2", Msg: bot.Message{ID: "k2", Text: "no address at all"}}, bot.Handled},
		{bot.Inbound{Key: "k3", Msg: bot.Message{ID: "k3", From: bot.Address{Channel: "fake", Room: "r"},
			Text: "bad \xff\xfe utf8 \x07"}}, bot.Handled},
		{bot.Inbound{Key: "k4", Msg: bot.Message{ID: "k4", From: bot.Address{Channel: "fake", Room: "r"}, Text: "boom"}}, bot.Failed},
		{bot.Inbound{Key: "k5", Msg: bot.Message{ID: "k5", From: bot.Address{Channel: "fake", Room: "r"}, Text: "still there?"}}, bot.Handled},
		{bot.Inbound{Key: "k6", Msg: bot.Message{ID: "k6", From: bot.Address{Channel: "nosuch", Room: "r"}, Text: "unknown channel"}}, bot.Handled},
	}
	for _, c := range cases {
		r.fake.Resend(c.in)
		select {
		case o := <-r.outcomes:
			if o != c.want {
				t.Errorf("%q: outcome %s, want %s", c.in.Msg.Text, o, c.want)
			}
		case <-time.After(channeltest.Wait):
			t.Fatalf("%q: no outcome", c.in.Msg.Text)
		}
	}
	got := postsTo(r.fake, "r")
	if len(got) != 3 || !strings.Contains(got[0], "bad") || strings.Contains(got[0], "\x07") || !utf8.ValidString(got[0]) ||
		!strings.Contains(got[1], "Sorry") || got[2] != "echo: still there?" {
		t.Errorf("posts %q: want the cleaned echo, the apology, then the next answer", got)
	}
}
