package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

type rig struct {
	st       *embedded.Store
	fake     *channeltest.Fake
	eng      *bot.Engine
	outcomes chan bot.Outcome
	stop     func()
}

// newRig runs an engine with the embedded store and a fake channel.
func newRig(t *testing.T, cfg bot.Config, h bot.HandlerFunc) *rig {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, fake: channeltest.NewFake("fake"), outcomes: make(chan bot.Outcome, 1024)}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	r.eng = bot.New(cfg, st, h, log, bot.WithObserver(func(_ bot.Inbound, o bot.Outcome, _ time.Duration) { r.outcomes <- o }))
	r.eng.Add(r.fake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.eng.Run(ctx) }()
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() { r.stop(); st.Close() })
	return r
}

func (r *rig) outcome(t *testing.T) bot.Outcome {
	t.Helper()
	select {
	case o := <-r.outcomes:
		return o
	case <-time.After(channeltest.Wait):
		t.Fatal("no outcome")
	}
	return ""
}

func echo(_ context.Context, t *bot.Turn) error {
	t.Reply(bot.Reply{Text: "echo: " + t.Msg.Text})
	return nil
}

func TestRetriedEventIsAnsweredOnce(t *testing.T) {
	r := newRig(t, bot.Config{}, echo)
	in := r.fake.Say("room", "ann", "where is my order?", nil)
	if o := r.outcome(t); o != bot.Handled {
		t.Fatalf("first delivery: %s", o)
	}
	r.fake.Resend(in)
	if o := r.outcome(t); o != bot.Duplicate {
		t.Fatalf("retry: %s, want duplicate", o)
	}
	if n := len(r.fake.Posts()); n != 1 {
		t.Errorf("customer got %d replies, want 1", n)
	}
}

func TestConversationOrderKeptWhileOthersRunInParallel(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	seen := map[string][]string{}
	r := newRig(t, bot.Config{}, func(ctx context.Context, t *bot.Turn) error {
		if t.Msg.Text == "slow" {
			<-release // room A blocks until room B has been handled
		}
		if t.Msg.Text == "fast" {
			close(release)
		}
		mu.Lock()
		seen[t.Msg.From.Room] = append(seen[t.Msg.From.Room], t.Msg.Text)
		mu.Unlock()
		return nil
	})
	r.fake.Say("A", "ann", "slow", nil)
	for i := range 20 {
		r.fake.Say("A", "ann", fmt.Sprint(i), nil)
	}
	r.fake.Say("B", "bob", "fast", nil)
	for range 22 {
		r.outcome(t)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"slow"}
	for i := range 20 {
		want = append(want, fmt.Sprint(i))
	}
	if fmt.Sprint(seen["A"]) != fmt.Sprint(want) {
		t.Errorf("room A handled in order %v, want %v", seen["A"], want)
	}
}

func TestPanicAndTimeoutGetAnApologyAndTheWorkerLives(t *testing.T) {
	r := newRig(t, bot.Config{HandlerTimeout: 50 * time.Millisecond, Sorry: "sorry"}, func(ctx context.Context, t *bot.Turn) error {
		switch t.Msg.Text {
		case "boom":
			panic("bad data")
		case "hang":
			<-ctx.Done()
			return ctx.Err()
		}
		return echo(ctx, t)
	})
	for _, text := range []string{"boom", "hang"} {
		r.fake.Say("room", "ann", text, nil)
		if o := r.outcome(t); o != bot.Failed {
			t.Errorf("%s: outcome %s, want failed", text, o)
		}
		if p := r.fake.Next(t); p.Text != "sorry" {
			t.Errorf("%s: customer got %q, want the apology", text, p.Text)
		}
	}
	r.fake.Say("room", "ann", "still there?", nil)
	r.outcome(t)
	if p := r.fake.Next(t); p.Text != "echo: still there?" {
		t.Errorf("after failures got %q", p.Text)
	}
	msgs, err := r.st.Transcript(context.Background(), bot.Address{Channel: "fake", Room: "room"}.ConversationID(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 6 || msgs[0].Text != "boom" {
		t.Errorf("transcript has %d messages (first %q); want every customer message and reply kept", len(msgs), msgs[0].Text)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, text string
		want       bot.Outcome
		check      func(t *testing.T, got string)
	}{
		{"empty", "", bot.Ignored, nil},
		{"whitespace", " \t\n ", bot.Ignored, nil},
		{"control only", "\x00\x01\x1b", bot.Ignored, nil},
		{"invalid utf8", "bad \xff\xfe bytes", bot.Handled, func(t *testing.T, got string) {
			if got != "echo: bad \uFFFD bytes" {
				t.Errorf("got %q", got)
			}
		}},
		{"NUL and escapes", "hi\x00 \x1b[31mred", bot.Handled, func(t *testing.T, got string) {
			if strings.ContainsAny(got, "\x00\x1b") {
				t.Errorf("control characters reached the handler: %q", got)
			}
		}},
		{"100 KB", strings.Repeat("å", 50_000), bot.Truncated, func(t *testing.T, got string) {
			if !strings.Contains(got, "only its first") {
				t.Errorf("no truncation note: %.80q", got)
			}
		}},
	}
	r := newRig(t, bot.Config{MaxText: 4000}, echo)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.fake.Say(tc.name, "ann", tc.text, nil)
			if o := r.outcome(t); o != tc.want {
				t.Fatalf("outcome %s, want %s", o, tc.want)
			}
			if tc.check == nil {
				return
			}
			var all []string
			for range 1 + btoi(tc.want == bot.Truncated) {
				all = append(all, r.fake.Next(t).Text)
			}
			tc.check(t, strings.Join(all, "\n"))
			if tc.want == bot.Truncated && len(all[len(all)-1]) > 4100 {
				t.Errorf("handler saw %d bytes, want at most 4000", len(all[len(all)-1]))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDoRunsInOrderAndSends(t *testing.T) {
	r := newRig(t, bot.Config{}, echo)
	r.fake.Say("room", "ann", "hello", nil)
	r.outcome(t)
	r.fake.Next(t)
	id := bot.Address{Channel: "fake", Room: "room"}.ConversationID()
	err := r.eng.Do(context.Background(), id, func(_ context.Context, t *bot.Turn) error {
		t.Reply(bot.Reply{Kind: bot.KindAgent, Author: "Alice", Text: "Hi, Alice here"})
		return t.Conv.Transition(bot.StateQueued, bot.ReasonRequested, "", t.Now)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := r.fake.Next(t); p.Text != "Alice: Hi, Alice here" {
		t.Errorf("agent reply posted as %q", p.Text)
	}
	c, err := r.st.Conversation(context.Background(), id)
	if err != nil || c.State != bot.StateQueued || c.Reason != bot.ReasonRequested {
		t.Errorf("conversation after Do: %+v, %v", c, err)
	}
	if err := r.eng.Do(context.Background(), "fake:::nope", func(context.Context, *bot.Turn) error { return nil }); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Do on a missing conversation: %v, want ErrNotFound", err)
	}
}

func TestShutdownFinishesTurnsInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	r := newRig(t, bot.Config{}, func(ctx context.Context, t *bot.Turn) error {
		close(started)
		<-release
		return echo(ctx, t)
	})
	r.fake.Say("room", "ann", "last words", nil)
	<-started
	stopped, stop := make(chan struct{}), r.stop
	r.stop = func() {}
	go func() { stop(); close(stopped) }()
	close(release)
	<-stopped
	msgs, err := r.st.Transcript(context.Background(), bot.Address{Channel: "fake", Room: "room"}.ConversationID(), 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("after shutdown the transcript has %d messages (%v), want the message and its reply", len(msgs), err)
	}
}

func TestTransitionsAreExplicit(t *testing.T) {
	now := time.Now()
	c := bot.NewConversation(bot.Address{Channel: "x", Room: "r"}, bot.Customer{ID: "x:1"}, now)
	steps := []struct {
		to     bot.State
		reason bot.Reason
		ok     bool
	}{
		{bot.StateResolved, bot.ReasonResolved, false}, // bot → resolved skips the human
		{bot.StateQueued, "", false},                   // a handoff needs a reason code
		{bot.StateQueued, bot.ReasonRequested, true},
		{bot.StateAgent, bot.ReasonRequested, true},
		{bot.StateBot, "", false}, // an agent must resolve or release
		{bot.StateResolved, bot.ReasonResolved, true},
		{bot.StateAgent, bot.ReasonRequested, false},
		{bot.StateBot, bot.ReasonReopened, true},
	}
	for i, s := range steps {
		err := c.Transition(s.to, s.reason, "alice", now)
		if (err == nil) != s.ok || (err != nil && !errors.Is(err, bot.ErrIllegalTransition)) {
			t.Errorf("step %d → %s (%q): err %v, want ok=%v", i, s.to, s.reason, err, s.ok)
		}
	}
	if c.Reason != bot.ReasonRequested || len(c.History) != 4 {
		t.Errorf("reason %q, history %d; want the handoff reason kept and 4 transitions", c.Reason, len(c.History))
	}
}
