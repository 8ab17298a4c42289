package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store/redisstore"
)

// inboxRun runs two engines (replicas) with durable inboxes on o's Redis
// behind one fake channel, and checks that 100 conversations × 3 messages
// are each answered exactly once, in the order they were stored.
func inboxRun(t *testing.T, o redisstore.Options) {
	const rooms, msgs = 100, 3
	fake := channeltest.NewFake("fake")
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	o.KeyPrefix = fmt.Sprintf("t%d:", prefixes.Add(1))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range 2 {
		st := newStore(t, o)
		name := fmt.Sprintf("r%d", i)
		ib := st.NewInbox(redisstore.InboxOptions{Replica: name, LeaseTTL: 2 * time.Second, MinIdle: time.Second, Block: 200 * time.Millisecond})
		eng := bot.New(bot.Config{}, st, bot.HandlerFunc(func(_ context.Context, t *bot.Turn) error {
			t.Reply(bot.Reply{Text: "re: " + t.Msg.Text})
			return nil
		}), log, bot.WithDurable(bot.Durable{Inbox: ib, Lease: st, Replica: name, LockTTL: 2 * time.Second}))
		eng.Add(fake)
		wg.Go(func() {
			if err := eng.Run(ctx); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	// Each round is stored before the next is said: events of one
	// conversation that reach two replicas at once are ordered as stored.
	for m := range msgs {
		acks := make([]chan struct{}, rooms)
		for r := range rooms {
			acks[r] = make(chan struct{})
			fake.Say(fmt.Sprintf("room%03d", r), "cust", fmt.Sprintf("room%03d/%d", r, m), acks[r])
		}
		for _, a := range acks {
			<-a
		}
	}
	got := map[string][]string{}
	for range rooms * msgs {
		p := fake.Next(t)
		got[p.To.Room] = append(got[p.To.Room], strings.TrimPrefix(p.Text, "re: "))
	}
	for r := range rooms {
		room := fmt.Sprintf("room%03d", r)
		want := []string{room + "/0", room + "/1", room + "/2"}
		if fmt.Sprint(got[room]) != fmt.Sprint(want) {
			t.Errorf("%s: replies %v, want %v", room, got[room], want)
		}
	}
	select {
	case p := <-fakeExtra(fake):
		t.Errorf("an extra reply: %+v", p)
	default:
	}
}

// fakeExtra returns a channel that has a post if the fake got more than expected.
func fakeExtra(f *channeltest.Fake) <-chan channeltest.Post {
	c := make(chan channeltest.Post, 1)
	if ps := f.Posts(); len(ps) > 300 {
		c <- ps[300]
	}
	return c
}

// TestInbox runs two replicas' durable inboxes on one Redis node.
func TestInbox(t *testing.T) {
	inboxRun(t, redisstore.Options{URL: redistest.Start(t).URL()})
}

// TestInboxPipelined: the same with automatic pipelining, one round trip in
// flight, so the two engines' concurrent commands share pipelines.
func TestInboxPipelined(t *testing.T) {
	inboxRun(t, redisstore.Options{URL: redistest.Start(t).URL(), Pipelining: 1})
}

// TestInboxCluster runs them on a 3-master Cluster: every script of the
// inbox and the outbox must stay on one slot.
func TestInboxCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster: -short")
	}
	inboxRun(t, redisstore.Options{Addrs: redistest.StartCluster(t).Addrs()})
}

// DeleteCustomer also removes the customer's messages still waiting in (or
// not yet trimmed from) the inbox streams.
func TestDeleteCustomerScrubsTheInbox(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, redisstore.Options{URL: srv.URL(), KeyPrefix: "scrub:"})
	ib := st.NewInbox(redisstore.InboxOptions{})
	ctx := context.Background()
	put := func(cust, text string) {
		in := bot.Inbound{Key: "fake:" + text, Msg: bot.Message{ID: text, Text: text,
			From:     bot.Address{Channel: "fake", Room: "room-" + cust},
			Customer: bot.Customer{ID: "fake:" + cust}, Role: bot.RoleCustomer}}
		if _, err := ib.Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	put("gone", "my secret address is 7 Elm Street")
	put("stays", "where is my order")
	if err := st.DeleteCustomer(ctx, "fake:gone"); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "scrub:{in:*}:s").Result()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, k := range keys {
		msgs, err := rdb.XRange(ctx, k, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, fmt.Sprint(msgs))
	}
	dump := strings.Join(all, "\n")
	if strings.Contains(dump, "Elm Street") || !strings.Contains(dump, "where is my order") {
		t.Errorf("inbox streams after delete:\n%s", dump)
	}
}
