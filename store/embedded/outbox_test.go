package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

// TestOutboxMigratedFromConversationBucket: replies queued by a build that
// kept the outbox inside each conversation's bucket are still sent, in
// order, after an upgrade, and the old buckets are gone.
func TestOutboxMigratedFromConversationBucket(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now().UTC()
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "r"}, bot.Customer{ID: "web:a"}, now)
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: c}); err != nil {
		t.Fatal(err)
	}
	// Rewrite the file as the earlier build left it: two replies in
	// conv/<id>/out, marked, and no migration recorded.
	s = rewriteAndReopen(t, s, func(tx *bolt.Tx) error {
		b, err := oldLayout(tx, c.ID)
		if err != nil {
			return err
		}
		ob, err := b.CreateBucket(kOut)
		if err != nil {
			return err
		}
		for i, key := range []string{"r1", "r2"} {
			v, _ := json.Marshal(bot.Outgoing{Key: key, To: c.Address, Reply: bot.Reply{Text: "reply " + key}, At: now})
			if err := ob.Put(binary.BigEndian.AppendUint64(nil, uint64(i+1)), v); err != nil {
				return err
			}
		}
		marks, err := tx.CreateBucketIfNotExists(bOutMark)
		if err != nil {
			return err
		}
		if err := marks.Put([]byte(c.ID), append(binary.BigEndian.AppendUint64(nil, 1), encTime(now)...)); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Delete(kMsgs)
	})
	out, err := s.Outbox(ctx, c.ID, 0)
	if err != nil || len(out) != 2 || out[0].Key != "r1" || out[1].Reply.Text != "reply r2" {
		t.Fatalf("outbox after upgrade: %+v, %v", out, err)
	}
	if left, err := s.OutboxDoneLeft(ctx, c.ID, "r1"); err != nil || !left {
		t.Fatalf("done r1: left %v, %v", left, err)
	}
	if left, err := s.OutboxDoneLeft(ctx, c.ID, "r2"); err != nil || left {
		t.Fatalf("done r2: left %v, %v", left, err)
	}
	if n, _ := s.OutboxDepth(ctx); n != 0 {
		t.Fatalf("marks left: %d", n)
	}
	noOldBuckets(t, s)
}

// TestOutboxKeysDoNotMix: a conversation whose ID is another's plus a
// suffix does not see, take or remove the other's replies.
func TestOutboxKeysDoNotMix(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now().UTC()
	a := bot.NewConversation(bot.Address{Channel: "web", Room: "r"}, bot.Customer{ID: "web:a"}, now)
	b := bot.NewConversation(bot.Address{Channel: "web", Room: "r1"}, bot.Customer{ID: "web:b"}, now)
	a.ID, b.ID = "conv-1", "conv-10" // a's ID is a prefix of b's
	for _, c := range []*bot.Conversation{a, b} {
		out := []bot.Outgoing{{Key: "k-" + string(c.ID), To: c.Address, Reply: bot.Reply{Text: "hi"}, At: now}}
		if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: c, Out: out}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*bot.Conversation{a, b} {
		out, err := s.Outbox(ctx, c.ID, 0)
		if err != nil || len(out) != 1 || out[0].Key != "k-"+string(c.ID) {
			t.Fatalf("outbox of %s: %+v, %v", c.ID, out, err)
		}
	}
	if left, err := s.OutboxDoneLeft(ctx, a.ID, "k-"+string(b.ID)); err != nil || !left {
		t.Fatalf("a's done with b's key: left %v, %v", left, err)
	}
	if out, _ := s.Outbox(ctx, b.ID, 0); len(out) != 1 {
		t.Fatalf("b's outbox after a's done: %+v", out)
	}
}
