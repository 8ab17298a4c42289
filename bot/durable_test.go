package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
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

func runDurable(t *testing.T, ch bot.Channel, ib bot.Inbox, outcomes chan<- bot.Outcome, opts ...bot.Option) *bot.Engine {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	eng := bot.New(bot.Config{}, st, bot.HandlerFunc(echo), log, append([]bot.Option{
		bot.WithDurable(bot.Durable{Inbox: ib, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond}),
		bot.WithObserver(func(_ bot.Inbound, o bot.Outcome, _ time.Duration) { outcomes <- o })}, opts...)...)
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
	return eng
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
	eng := runDurable(t, ch, ib, make(chan bot.Outcome, 16))
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
	if n, err := eng.Pending(context.Background()); err != nil || n != 4 {
		t.Errorf("Pending = %d, %v while a is stored and b, c, d wait; want 4", n, err)
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

// loads counts the conversation reads of an embedded store.
type loads struct {
	*embedded.Store
	n atomic.Int32
}

func (l *loads) Conversation(ctx context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	l.n.Add(1)
	return l.Store.Conversation(ctx, id)
}

// prefetching hands every entry over with a copy of its conversation
// (Delivery.Conv), as store/redisstore's inbox does: copy returns it.
type prefetching struct {
	*bot.MemoryInbox
	copy func(id bot.ConversationID) (*bot.Conversation, error)
}

func (p prefetching) Consume(ctx context.Context, handle func(context.Context, bot.Delivery) error) error {
	return p.MemoryInbox.Consume(ctx, func(ctx context.Context, d bot.Delivery) error {
		c, err := p.copy(d.In.Msg.From.ConversationID())
		switch {
		case errors.Is(err, bot.ErrNotFound):
			d.Loaded = true
		case err == nil:
			d.Conv, d.Loaded = c, true
		}
		return handle(ctx, d)
	})
}

// A turn uses the conversation its inbox entry came with instead of reading
// it again; a copy made stale by a later write is caught by the commit,
// and the turn runs again on a fresh read and is answered once.
func TestTurnUsesTheConversationReadWithItsEntry(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ls := &loads{Store: st}
	var first *bot.Conversation // the conversation as the first message left it
	ib := prefetching{MemoryInbox: bot.NewMemoryInbox(nil, 0), copy: func(id bot.ConversationID) (*bot.Conversation, error) {
		if first != nil {
			c := *first
			return &c, nil
		}
		c, err := st.Conversation(context.Background(), id)
		return c, err
	}}
	fake := channeltest.NewFake("fake")
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	eng := bot.New(bot.Config{}, ls, bot.HandlerFunc(echo), log, bot.WithDurable(bot.Durable{Inbox: ib}))
	eng.Add(fake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	fake.Say("room", "ann", "one", nil)
	if p := fake.Next(t); p.Text != "echo: one" {
		t.Fatalf("reply %q", p.Text)
	}
	if n := ls.n.Load(); n != 0 {
		t.Errorf("%d conversation reads for a new conversation that came with its entry, want 0", n)
	}
	id := bot.Address{Channel: "fake", Room: "room"}.ConversationID()
	if first, err = st.Conversation(ctx, id); err != nil {
		t.Fatal(err)
	}
	fake.Say("room", "ann", "two", nil)
	if p := fake.Next(t); p.Text != "echo: two" {
		t.Fatalf("reply %q", p.Text)
	}
	fake.Say("room", "ann", "three", nil) // comes with the copy made before "two"
	if p := fake.Next(t); p.Text != "echo: three" {
		t.Fatalf("reply %q", p.Text)
	}
	if n := ls.n.Load(); n != 1 {
		t.Errorf("%d conversation reads, want 1 (the retry after the stale copy)", n)
	}
	msgs, err := st.Transcript(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if want := "[one echo: one two echo: two three echo: three]"; fmt.Sprint(texts) != want {
		t.Errorf("transcript %v, want %s", texts, want)
	}
	if n := len(fake.Posts()); n != 3 {
		t.Errorf("%d replies, want 3", n)
	}
}

// failing fails sends as told by its queue: a rate limit, a refusal that is
// not worth retrying, or nothing (delivered).
type failing struct {
	*channeltest.Fake
	mu    sync.Mutex
	fails []error
}

func (f *failing) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	f.mu.Lock()
	var err error
	if len(f.fails) > 0 {
		err, f.fails = f.fails[0], f.fails[1:]
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.Fake.Send(ctx, to, r)
}

// Every send from the outbox is reported with its result and, for a retry,
// why (metrics: outbox_sent_total, outbox_retries_total, outbox_dropped_total).
func TestOutboxObserverSeesEverySend(t *testing.T) {
	ch := &failing{Fake: channeltest.NewFake("fake"), fails: []error{
		bot.RateLimited(errors.New("429 slow down"), time.Millisecond), nil, errors.New("400 bad request")}}
	type send struct {
		result bot.SendResult
		reason string
	}
	sends := make(chan send, 8)
	runDurable(t, ch, bot.NewMemoryInbox(nil, 0), make(chan bot.Outcome, 16), bot.WithOutboxObserver(func(channel string, r bot.SendResult, err error) {
		s := send{result: r}
		if r == bot.SendRetry {
			s.reason = bot.RetryReason(err)
		}
		sends <- s
	}))
	ch.Say("room", "ann", "one", nil)
	if p := ch.Next(t); p.Text != "echo: one" {
		t.Fatalf("reply %q", p.Text)
	}
	ch.Say("room", "ann", "two", nil) // refused for good
	got := []send{<-sends, <-sends, <-sends}
	want := []send{{bot.SendRetry, bot.RetryRateLimit}, {bot.SendDelivered, ""}, {bot.SendDropped, ""}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sends %v, want %v", got, want)
	}
}

func TestRetryReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{bot.RateLimited(errors.New("429"), time.Second), bot.RetryRateLimit},
		{bot.Retryable(errors.New("502 bad gateway"), 0), bot.RetryServer},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, bot.RetryNetwork},
		{context.DeadlineExceeded, bot.RetryNetwork},
	} {
		if !bot.IsRetryable(c.err) {
			t.Errorf("%v: not retryable", c.err)
		}
		if got := bot.RetryReason(c.err); got != c.want {
			t.Errorf("RetryReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// An inbox entry's turn runs in the consumer's goroutine when its
// conversation has no other work; a desk turn (Do) that comes meanwhile
// waits for it, runs after it, and nothing is left running.
func TestDoWaitsForTheInboxTurnBeforeIt(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t, dir)
		defer st.Close()
		entered, hold := make(chan struct{}), make(chan struct{})
		h := bot.HandlerFunc(func(ctx context.Context, tn *bot.Turn) error {
			if tn.Msg.Text == "hold" {
				close(entered)
				<-hold
			}
			return echo(ctx, tn)
		})
		fake := channeltest.NewFake("fake")
		eng := bot.New(bot.Config{}, st, h, slog.New(slog.DiscardHandler),
			bot.WithDurable(bot.Durable{Inbox: bot.NewMemoryInbox(nil, 0)}))
		eng.Add(fake)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()

		fake.Say("room", "ann", "hold", nil)
		<-entered
		did := make(chan error, 1)
		id := bot.Address{Channel: "fake", Room: "room"}.ConversationID()
		go func() {
			did <- eng.Do(ctx, id, func(_ context.Context, tn *bot.Turn) error {
				tn.Reply(bot.Reply{Text: "agent here"})
				return nil
			})
		}()
		synctest.Wait()
		select {
		case err := <-did:
			t.Fatalf("Do returned (%v) while the inbox turn held the conversation", err)
		default:
		}
		close(hold)
		for _, want := range []string{"echo: hold", "agent here"} {
			if p := fake.Next(t); p.Text != want {
				t.Fatalf("reply %q, want %q", p.Text, want)
			}
		}
		if err := <-did; err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// callInbox is a MemoryInbox that stores several events at once
// (InboxBatcher) and holds each store until the test releases that call.
type callInbox struct {
	*bot.MemoryInbox
	calls chan storeCall
}

type storeCall struct {
	texts   string
	release chan struct{}
}

func (c *callInbox) PutAll(ctx context.Context, ins []bot.Inbound) ([]bool, error) {
	var texts []string
	for _, in := range ins {
		texts = append(texts, in.Msg.Text)
	}
	call := storeCall{fmt.Sprint(texts), make(chan struct{})}
	c.calls <- call
	<-call.release
	for _, in := range ins {
		if _, err := c.MemoryInbox.Put(ctx, in); err != nil {
			return nil, err
		}
	}
	return make([]bool, len(ins)), nil
}

func (c *callInbox) Put(ctx context.Context, in bot.Inbound) (bool, error) {
	_, err := c.PutAll(ctx, []bot.Inbound{in})
	return false, err
}

// An event does not wait for a slow store of another conversation: a
// second store takes it once the first has been in flight for a
// millisecond. A conversation's events still go one store at a time, in
// order, and are answered in order.
func TestDeliverDoesNotWaitForAnotherConversationsSlowStore(t *testing.T) {
	ib := &callInbox{MemoryInbox: bot.NewMemoryInbox(nil, 0), calls: make(chan storeCall, 4)}
	ch := &direct{Fake: channeltest.NewFake("fake"), deliver: make(chan func(context.Context, bot.Inbound), 1)}
	var clock atomic.Int64 // ms after start
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return start.Add(time.Duration(clock.Load()) * time.Millisecond) }
	runDurable(t, ch, ib, make(chan bot.Outcome, 16), bot.WithClock(now))
	deliver := <-ch.deliver
	say := func(room, text string) {
		deliver(context.Background(), bot.Inbound{Key: "fake:" + text,
			Msg: bot.Message{ID: text, Text: text, From: bot.Address{Channel: "fake", Room: room}, Role: bot.RoleCustomer}})
	}
	next := func(want string) storeCall {
		t.Helper()
		c := <-ib.calls
		if c.texts != want {
			t.Fatalf("store %s, want %s", c.texts, want)
		}
		return c
	}
	say("r1", "a1")
	a1 := next("[a1]")
	clock.Add(1)
	say("r2", "b1") // a1's store has been in flight for 1 ms
	b1 := next("[b1]")
	say("r1", "a2") // both conversations are held: these wait
	say("r2", "b2")
	close(b1.release)
	b2 := next("[b2]") // a2 still waits for a1
	close(a1.release)
	a2 := next("[a2]")
	close(a2.release)
	close(b2.release)
	got := map[string][]string{}
	for range 4 {
		p := ch.Next(t)
		got[p.To.Room] = append(got[p.To.Room], p.Text)
	}
	if fmt.Sprint(got["r1"]) != "[echo: a1 echo: a2]" || fmt.Sprint(got["r2"]) != "[echo: b1 echo: b2]" {
		t.Errorf("replies %v, want each room's in order", got)
	}
}
