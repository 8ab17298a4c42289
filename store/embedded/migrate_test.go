package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

// TestConversationsMigrated: conversations that a build before bConvs kept
// in a bucket each, or a build before kHead in keys of their own, read back
// the same after an upgrade (record, claim, customer index, transcript),
// take new turns, and expire and are swept as before, leaving no key
// behind.
func TestConversationsMigrated(t *testing.T) {
	for name, old := range map[string]func(*bolt.Tx, bot.ConversationID) error{
		"buckets": func(tx *bolt.Tx, id bot.ConversationID) error { _, err := oldLayout(tx, id); return err },
		"keys":    func(tx *bolt.Tx, id bot.ConversationID) error { return flatten(tx, []byte(id), true) },
	} {
		t.Run(name, func(t *testing.T) { testMigrated(t, old) })
	}
}

func testMigrated(t *testing.T, old func(*bolt.Tx, bot.ConversationID) error) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	s, err := Open(t.TempDir()+"/"+FileName, Options{SweepEvery: -1, Retention: time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	var convs []*bot.Conversation
	for i := range 3 {
		c := bot.NewConversation(bot.Address{Channel: "web", Room: fmt.Sprint("r", i)}, bot.Customer{ID: "web:a"}, now)
		c.Lang = "nb"
		msgs := []bot.Message{{ID: fmt.Sprint(i), Text: fmt.Sprint("hei ", i), At: now}}
		if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: c, Msgs: msgs}); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c)
	}
	if err := s.Claim(ctx, convs[1].ID, "agent-1"); err != nil {
		t.Fatal(err)
	}
	mustSettle(t, s)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, c := range convs {
			if err := old(tx, c.ID); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(s.Path(), Options{SweepEvery: -1, Retention: time.Hour, Now: clock}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	noOldBuckets(t, s)
	for i, c := range convs {
		got, err := s.Conversation(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := c.Clone(); !reflect.DeepEqual(got, want) {
			t.Fatalf("conversation %d after the upgrade:\n%+v\nwant\n%+v", i, got, want)
		}
		if tr, err := s.Transcript(ctx, c.ID, 0); err != nil || len(tr) != 1 || tr[0].Text != fmt.Sprint("hei ", i) {
			t.Fatalf("transcript %d: %+v, %v", i, tr, err)
		}
	}
	if h, err := s.Holder(ctx, convs[1].ID); err != nil || h != "agent-1" {
		t.Fatalf("holder: %q, %v", h, err)
	}
	if ids, err := s.CustomerConversations(ctx, "web:a"); err != nil || len(ids) != 3 {
		t.Fatalf("customer index: %v, %v", ids, err)
	}
	c := convs[0]
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: c, Msgs: []bot.Message{{ID: "n", Text: "igjen", At: now}}}); err != nil {
		t.Fatalf("a turn after the upgrade: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if n, err := s.Sweep(ctx); err != nil || n != 3 {
		t.Fatalf("Sweep = %d, %v; want the 3 expired conversations", n, err)
	}
	noOldBuckets(t, s)
	mustSettle(t, s)
	if err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bConvs, bTranscript, bChunks, bExpiry, bCust, bHeld} {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				t.Errorf("%s keeps %q after the sweep", name, k)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// noOldBuckets fails t if the file of s still has the conversation
// buckets of the layout before bConvs, or keys of the layout before kHead.
func noOldBuckets(t *testing.T, s *Store) {
	t.Helper()
	mustSettle(t, s)
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bConv) != nil || tx.Bucket(bOutMark) != nil {
			t.Error("the old conversation or outbox mark buckets are still there")
		}
		return tx.Bucket(bConvs).ForEach(func(k, _ []byte) error {
			if _, name, _ := splitKey(k); !slices.Contains([]string{"h", "ckey", "holder"}, string(name)) {
				t.Errorf("key %q is left of the layout before heads", k)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
}

// oldLayout moves the keys of conversation id into a bucket of its own,
// conv/<id>, as builds before bConvs kept them, and returns that bucket.
func oldLayout(tx *bolt.Tx, id bot.ConversationID) (*bolt.Bucket, error) {
	convs, err := tx.CreateBucketIfNotExists(bConv)
	if err != nil {
		return nil, err
	}
	ob, err := convs.CreateBucket([]byte(id))
	if err != nil {
		return nil, err
	}
	if err := flatten(tx, []byte(id), true); err != nil {
		return nil, err
	}
	b := keysOf(tx, []byte(id))
	c := b.b.Cursor()
	for k, v := c.Seek(b.p); k != nil && bytes.HasPrefix(k, b.p); k, v = c.Next() {
		if err := ob.Put(bytes.Clone(k[len(b.p):]), bytes.Clone(v)); err != nil {
			return nil, err
		}
	}
	return ob, b.drop()
}

// flatten gives conversation id the keys of the layout before kHead
// instead of its head, without kIdx unless idx, and clears the file's
// mark of migrateHeads.
func flatten(tx *bolt.Tx, id []byte, idx bool) error {
	b := keysOf(tx, id)
	if err := b.load(); err != nil || !b.ok {
		return fmt.Errorf("conversation %q: %v", id, err)
	}
	h := b.h
	keys := map[string][]byte{"ver": binary.BigEndian.AppendUint64(nil, h.ver), "exp": h.exp}
	if idx {
		keys["idx"] = h.idx
	}
	if len(h.rec) > 0 {
		keys["rec"] = h.rec
	}
	if h.tn > 0 {
		keys["tn"], keys["tl"] = binary.BigEndian.AppendUint64(nil, h.tn), h.tl
	}
	if err := b.Delete(kHead); err != nil {
		return err
	}
	for name, v := range keys {
		if err := b.Put([]byte(name), bytes.Clone(v)); err != nil {
			return err
		}
	}
	return tx.Bucket(bMeta).Delete(kHeads)
}

// TestHeadsMigratedInBatches: a file with more conversations than one
// transaction of migrateHeads converts is converted whole, and reads the
// same at the next open.
func TestHeadsMigratedInBatches(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	n := 2*migrateBatch + 1
	mustSettle(t, s)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			c := bot.NewConversation(bot.Address{Channel: "web", Room: fmt.Sprint("r", i)}, bot.Customer{ID: "web:a"}, time.Now())
			if err := s.saveTx(tx, c, 1, []byte(fmt.Sprintf(`{"id":%q,"version":1}`, c.ID))); err != nil {
				return err
			}
			if err := flatten(tx, []byte(c.ID), true); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	for range 2 {
		var err error
		if s, err = Open(path, Options{SweepEvery: -1}); err != nil {
			t.Fatal(err)
		}
		noOldBuckets(t, s)
		for _, i := range []int{0, migrateBatch - 1, migrateBatch, n - 1} {
			id := bot.NewConversation(bot.Address{Channel: "web", Room: fmt.Sprint("r", i)}, bot.Customer{}, time.Now()).ID
			if c, err := s.Conversation(ctx, id); err != nil || c.Version != 1 {
				t.Fatalf("conversation %d: %+v, %v", i, c, err)
			}
		}
		if ids, err := s.CustomerConversations(ctx, "web:a"); err != nil || len(ids) != n {
			t.Fatalf("customer index: %d conversations, %v; want %d", len(ids), err, n)
		}
		s.Close()
	}
}

// TestHeadsMigrationRefusesMalformedExpiry: a conversation whose old expiry
// key is damaged stops the conversion at open with an error naming it, and
// the file keeps the conversation's keys as they were.
func TestHeadsMigrationRefusesMalformedExpiry(t *testing.T) {
	s := openTemp(t)
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "bad"}, bot.Customer{ID: "web:a"}, time.Now())
	if err := s.SaveConversation(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	mustSettle(t, s)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := flatten(tx, []byte(c.ID), true); err != nil {
			return err
		}
		return keysOf(tx, []byte(c.ID)).Put(kExp, []byte{1, 2, 3})
	}); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	_, err := Open(path, Options{SweepEvery: -1})
	if err == nil || !strings.Contains(err.Error(), string(c.ID)) || !strings.Contains(err.Error(), "malformed expiry") {
		t.Fatalf("Open = %v; want an error naming %s and its malformed expiry", err, c.ID)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		if rec := keysOf(tx, []byte(c.ID)).Get(kRec); len(rec) == 0 {
			t.Error("the conversation's record is gone")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
