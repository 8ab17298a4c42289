package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

// twice is an Inbox that hands every entry over two times, as a
// redelivery after a crash would.
type twice struct{ *bot.MemoryInbox }

func (w twice) Consume(ctx context.Context, handle func(context.Context, bot.Delivery) error) error {
	return w.MemoryInbox.Consume(ctx, func(ctx context.Context, d bot.Delivery) error {
		if err := handle(ctx, d); err != nil {
			return err
		}
		return handle(ctx, d)
	})
}

// flaky fails the first n sends with a retryable error.
type flaky struct {
	*channeltest.Fake
	mu sync.Mutex
	n  int
}

func (f *flaky) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return bot.Retryable(errors.New("429 too many requests"), time.Millisecond)
	}
	return f.Fake.Send(ctx, to, r)
}

func runDurable(t *testing.T, ch bot.Channel, ib bot.Inbox, outcomes chan<- bot.Outcome) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	eng := bot.New(bot.Config{}, st, bot.HandlerFunc(echo), log,
		bot.WithDurable(bot.Durable{Inbox: ib, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond}),
		bot.WithObserver(func(_ bot.Inbound, o bot.Outcome, _ time.Duration) { outcomes <- o }))
	eng.Add(ch)
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
}

func TestRedeliveredInboxEntryIsAnsweredOnce(t *testing.T) {
	fake := channeltest.NewFake("fake")
	outcomes := make(chan bot.Outcome, 16)
	runDurable(t, fake, twice{bot.NewMemoryInbox(nil, 0)}, outcomes)
	fake.Say("room", "ann", "hello", nil)
	if p := fake.Next(t); p.Text != "echo: hello" {
		t.Fatalf("reply %q", p.Text)
	}
	got := []bot.Outcome{<-outcomes, <-outcomes}
	if got[0] != bot.Handled || got[1] != bot.Duplicate {
		t.Fatalf("outcomes %v, want handled then duplicate", got)
	}
	if n := len(fake.Posts()); n != 1 {
		t.Fatalf("%d replies, want 1", n)
	}
}

func TestRetryableSendFailuresKeepOrder(t *testing.T) {
	ch := &flaky{Fake: channeltest.NewFake("fake"), n: 5}
	outcomes := make(chan bot.Outcome, 16)
	runDurable(t, ch, bot.NewMemoryInbox(nil, 0), outcomes)
	for i := range 5 {
		ch.Say("room", "ann", fmt.Sprint(i), nil)
	}
	for i := range 5 {
		if p := ch.Next(t); p.Text != fmt.Sprintf("echo: %d", i) {
			t.Fatalf("reply %d: %q", i, p.Text)
		}
	}
}
