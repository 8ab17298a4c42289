package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
)

// serverStore is a store on a fresh redis-server of its own.
func serverStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(context.Background(), Options{URL: redistest.Start(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// On one server, queued outbox removals go out in the pipeline of the next
// inbox put, ahead of its events: one round trip for both, and done by the
// time the put returns.
func TestQueuedDoneRidesWithThePut(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	pipes := &pipeCounter{}
	s.rdb.AddHook(pipes)
	s.dq.wait = time.Hour // no timer flush during the test
	ib := s.NewInbox(InboxOptions{})
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "r"}, bot.Customer{}, time.Now())
	turn := &bot.TurnCommit{Conv: c, Out: []bot.Outgoing{{Key: "m1-r0", To: c.Address, Reply: bot.Reply{Text: "hi"}, At: time.Now()}},
		Lease: "outbox:" + string(c.ID), LeaseOwner: "me", LeaseTTL: time.Minute}
	if err := s.CommitTurn(ctx, turn); err != nil {
		t.Fatal(err)
	}
	// Load the scripts, so that the pipeline needs no NOSCRIPT fallback.
	if _, err := ib.Put(ctx, bot.Inbound{Msg: bot.Message{ID: "x", From: bot.Address{Channel: "web", Room: "other"}}}); err != nil {
		t.Fatal(err)
	}
	if err := outboxDoneAllScript.Load(ctx, s.rdb).Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	s.OutboxDoneUnleaseQueue(c.ID, "m1-r0", "outbox:"+string(c.ID), "me", func(left, _ bool, err error) {
		if err != nil {
			t.Error(err)
		}
		done <- left
	})
	pipes.n.Store(0)
	pipes.cmds.Store(0)
	if _, err := ib.Put(ctx, bot.Inbound{Key: "k", Msg: bot.Message{ID: "m2", From: c.Address}}); err != nil {
		t.Fatal(err)
	}
	select {
	case left := <-done:
		if left {
			t.Error("outbox not empty after the removal")
		}
	default:
		t.Fatal("the queued removal did not run with the put")
	}
	if n, m := pipes.n.Load(), pipes.cmds.Load(); n != 1 || m != 2 {
		t.Errorf("%d pipelines of %d commands in all, want 1 of 2 (the removal and the put)", n, m)
	}
}
