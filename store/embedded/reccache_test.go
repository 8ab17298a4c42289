package embedded

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/reccache/reccachetest"
)

// TestRecordCache: the conversation read back after a commit, served from
// the cache of decoded records, is exactly what decoding the stored JSON
// gives (times, empty fields), callers cannot change each other's copies,
// and a record written by someone else is decoded again.
func TestRecordCache(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now() // with a monotonic reading, in time.Local
	c := reccachetest.Conversation(now)
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: c}); err != nil {
		t.Fatal(err)
	}
	decoded := func() *bot.Conversation {
		t.Helper()
		var d bot.Conversation
		mustSettle(t, s)
		err := s.db.View(func(tx *bolt.Tx) error {
			h, err := headIn(tx, c.ID)
			if err != nil {
				return err
			}
			return json.Unmarshal(h.rec, &d)
		})
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	got, err := s.Conversation(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.recs.Get(c.ID, mustRec(t, s, c.ID)) == nil {
		t.Fatal("the committed record is not cached")
	}
	if want := decoded(); !reflect.DeepEqual(got, want) {
		t.Fatalf("from the cache:\n%#v\ndecoded:\n%#v", got, want)
	}

	// A caller's changes stay its own.
	got.History[0].Agent = "changed"
	got.CSAT.Score = 1
	got.Set("k", "v")
	again, _ := s.Conversation(ctx, c.ID)
	if again.History[0].Agent != "" || again.CSAT.Score != 5 || again.Data != nil {
		t.Fatalf("a reader's changes reached the next reader: %+v", again)
	}

	// Written by someone else (not through the cache): decoded again.
	other := *again
	other.Intent = "other"
	other.Version++
	raw, _ := json.Marshal(&other)
	mustSettle(t, s)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := keysOf(tx, []byte(c.ID))
		if err := b.load(); err != nil {
			return err
		}
		b.h.rec = raw
		return b.save()
	}); err != nil {
		t.Fatal(err)
	}
	s.dropShadows() // the write bypassed the store
	if got, _ := s.Conversation(ctx, c.ID); got.Intent != "other" {
		t.Fatalf("after another write: intent %q", got.Intent)
	}

	// Invalid UTF-8 is replaced by encoding: such a record is not cached.
	bad := bot.NewConversation(bot.Address{Channel: "web", Room: "r2"}, bot.Customer{ID: "web:d", Name: "B\xffob"}, now)
	if err := s.SaveConversation(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Conversation(ctx, bad.ID); got.Customer.Name != "B\uFFFDob" {
		t.Fatalf("name %q", got.Customer.Name)
	}
}

func mustRec(t *testing.T, s *Store, id bot.ConversationID) []byte {
	t.Helper()
	var rec []byte
	mustSettle(t, s)
	if err := s.db.View(func(tx *bolt.Tx) error {
		h, err := headIn(tx, id)
		rec = append(rec, h.rec...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return rec
}

// headIn returns the head of conversation id (a zero head if it has none).
func headIn(tx *bolt.Tx, id bot.ConversationID) (head, error) {
	b := keysOf(tx, []byte(id))
	err := b.load()
	return b.h, err
}
