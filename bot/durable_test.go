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

// gatedInbox is a MemoryInbox whose stores wait for a signal on gate, and
// that stores several events at once (InboxBatcher), recording each call.
type gatedInbox struct {
	*bot.MemoryInbox
	gate  chan struct{}
	calls chan []string // texts of each store call
}

func (g *gatedInbox) store(ctx context.Context, ins []bot.Inbound) ([]bool, error) {
	var texts []string
	for _, in := range ins {
		texts = append(texts, in.Msg.Text)
	}
	g.calls <- texts
	<-g.gate
	dups := make([]bool, len(ins))
	for i, in := range ins {
		if _, err := g.MemoryInbox.Put(ctx, in); err != nil {
			return nil, err
		}
		dups[i] = false
	}
	return dups, nil
}

func (g *gatedInbox) Put(ctx context.Context, in bot.Inbound) (bool, error) {
	_, err := g.store(ctx, []bot.Inbound{in})
	return false, err
}

func (g *gatedInbox) PutAll(ctx context.Context, ins []bot.Inbound) ([]bool, error) {
	return g.store(ctx, ins)
}

// direct is a Fake whose events the test delivers itself, from its own
// goroutine, through the deliver func Listen was given.
type direct struct {
	*channeltest.Fake
	deliver chan func(context.Context, bot.Inbound)
}

func (d *direct) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	d.deliver <- deliver
	<-ctx.Done()
	return nil
}

// A channel's Deliver does not wait for the inbox: the events that arrive
// while one store is in flight are stored together in the next, in order,
// and each is acked once stored.
func TestDeliverQueuesWhileTheInboxStores(t *testing.T) {
	ib := &gatedInbox{MemoryInbox: bot.NewMemoryInbox(nil, 0), gate: make(chan struct{}), calls: make(chan []string, 4)}
	ch := &direct{Fake: channeltest.NewFake("fake"), deliver: make(chan func(context.Context, bot.Inbound), 1)}
	runDurable(t, ch, ib, make(chan bot.Outcome, 16))
	deliver := <-ch.deliver
	var acks []chan struct{}
	say := func(text string) {
		ack := make(chan struct{})
		acks = append(acks, ack)
		deliver(context.Background(), bot.Inbound{Key: "fake:" + text, Ack: func() { close(ack) },
			Msg: bot.Message{ID: text, Text: text, From: bot.Address{Channel: "fake", Room: "room"}, Role: bot.RoleCustomer}})
	}
	say("a")
	if got := <-ib.calls; fmt.Sprint(got) != "[a]" {
		t.Fatalf("first store %v", got)
	}
	// a's store is in flight: these return at once (the test would hang
	// if deliver waited for a store) and queue.
	say("b")
	say("c")
	say("d")
	select {
	case <-acks[1]:
		t.Fatal("b acked before it was stored")
	default:
	}
	ib.gate <- struct{}{}
	<-acks[0]
	if got := <-ib.calls; fmt.Sprint(got) != "[b c d]" {
		t.Fatalf("second store %v, want [b c d] in one call, in order", got)
	}
	close(ib.gate)
	for _, a := range acks[1:] {
		<-a
	}
	for _, want := range []string{"echo: a", "echo: b", "echo: c", "echo: d"} {
		if p := ch.Next(t); p.Text != want {
			t.Fatalf("reply %q, want %q", p.Text, want)
		}
	}
}
