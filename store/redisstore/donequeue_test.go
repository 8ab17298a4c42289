package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store/redisstore"
)

// A queued removal runs with the next flush (or at Close): the reply leaves
// the outbox, the outbox lock is given back and the sweeper's mark goes, on
// one server and on Cluster.
func TestQueuedOutboxDone(t *testing.T) {
	t.Run("single", func(t *testing.T) { queuedDone(t, redisstore.Options{URL: redistest.Start(t).URL()}) })
	t.Run("cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("cluster: -short")
		}
		queuedDone(t, redisstore.Options{Addrs: redistest.StartCluster(t).Addrs()})
	})
}

func queuedDone(t *testing.T, o redisstore.Options) {
	ctx := context.Background()
	o.KeyPrefix = fmt.Sprintf("t%d:", prefixes.Add(1))
	s := newStore(t, o)
	commit := func(room string) bot.ConversationID {
		c := bot.NewConversation(bot.Address{Channel: "web", Room: room}, bot.Customer{}, time.Now())
		turn := &bot.TurnCommit{Conv: c, Out: []bot.Outgoing{{Key: "m1-r0", To: c.Address, Reply: bot.Reply{Text: "hello"}, At: time.Now()}},
			Lease: "outbox:" + string(c.ID), LeaseOwner: "me", LeaseTTL: time.Minute}
		if err := s.CommitTurn(ctx, turn); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	type res struct {
		left, unleased bool
		err            error
	}
	queue := func(id bot.ConversationID) chan res {
		ch := make(chan res, 1)
		s.OutboxDoneUnleaseQueue(id, "m1-r0", "outbox:"+string(id), "me", func(left, unleased bool, err error) { ch <- res{left, unleased, err} })
		return ch
	}
	check := func(id bot.ConversationID) {
		t.Helper()
		if xs, err := s.Outbox(ctx, id, 0); err != nil || len(xs) != 0 {
			t.Errorf("outbox %v, %v; want empty", xs, err)
		}
		if ok, err := s.Lease(ctx, "outbox:"+string(id), "other", time.Minute); err != nil || !ok {
			t.Errorf("another replica cannot take the outbox lock: %v, %v", ok, err)
		}
		marks, err := s.OutboxPending(ctx, time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range marks {
			if m.Conv == id {
				t.Errorf("mark of %s left", id)
			}
		}
	}
	a, b := commit("a"), commit("b")
	ra, rb := queue(a), queue(b)
	s.FlushDone(ctx)
	for _, r := range []res{<-ra, <-rb} {
		if r.err != nil || r.left || !r.unleased {
			t.Errorf("result %+v, want empty and unleased", r)
		}
	}
	check(a)
	check(b)

	c := commit("c")
	rc := queue(c)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-rc; r.err != nil || r.left {
		t.Errorf("removal queued before Close: %+v", r)
	}
	s = newStore(t, o)
	check(c)
}

// PutAll stores events in order, and recognises keys already put.
func TestInboxPutAll(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := newStore(t, redisstore.Options{URL: srv.URL(), KeyPrefix: "pa:"})
	ib := s.NewInbox(redisstore.InboxOptions{Partitions: 1})
	in := func(key string) bot.Inbound {
		return bot.Inbound{Key: key, Msg: bot.Message{ID: key, Text: key, From: bot.Address{Channel: "fake", Room: "r"}}}
	}
	if _, err := ib.Put(ctx, in("k0")); err != nil {
		t.Fatal(err)
	}
	dup, err := ib.PutAll(ctx, []bot.Inbound{in("k1"), in("k0"), in("k2"), in("k1")})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dup) != "[false true false true]" {
		t.Errorf("dup %v, want [false true false true]", dup)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	msgs, err := rdb.XRange(ctx, ib.StreamKey(0), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range msgs {
		var w struct {
			K string `json:"k"`
		}
		if err := json.Unmarshal([]byte(m.Values["in"].(string)), &w); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, w.K)
	}
	if fmt.Sprint(keys) != "[k0 k1 k2]" {
		t.Errorf("stream holds %v, want [k0 k1 k2]", keys)
	}

	// Pending counts what no consumer acked: all three before any read,
	// then the one read and not acked plus the two not read, then two.
	pending := func(want int64) {
		t.Helper()
		if n, err := ib.Pending(ctx); err != nil || n != want {
			t.Errorf("Pending = %d, %v; want %d", n, err, want)
		}
	}
	pending(3)
	if n, err := s.NewInbox(redisstore.InboxOptions{Partitions: 4}).Pending(ctx); err != nil || n != 3 {
		t.Errorf("Pending over 4 partitions, 3 of them never used = %d, %v; want 3", n, err)
	}
	if err := rdb.XGroupCreate(ctx, ib.StreamKey(0), "bot", "0").Err(); err != nil {
		t.Fatal(err)
	}
	read, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "bot", Consumer: "c", Streams: []string{ib.StreamKey(0), ">"}, Count: 1}).Result()
	if err != nil {
		t.Fatal(err)
	}
	pending(3)
	if err := rdb.XAck(ctx, ib.StreamKey(0), "bot", read[0].Messages[0].ID).Err(); err != nil {
		t.Fatal(err)
	}
	pending(2)
}
