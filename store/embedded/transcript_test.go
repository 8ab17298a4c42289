package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

func texts(ms []bot.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func wantTexts(t *testing.T, got []bot.Message, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("got %d messages, want %d (%d…%d): %v", len(got), to-from, from, to-1, texts(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("m%d", from+i); m.Text != want {
			t.Fatalf("message %d is %q, want %q", i, m.Text, want)
		}
	}
}

// TestLongTranscript: a transcript longer than several chunks of its
// index reads back whole and in order, and its last n messages are the
// last n whatever chunks they span; a purge leaves none of its messages.
func TestLongTranscript(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now().UTC()
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "long"}, bot.Customer{ID: "web:a"}, now)
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	other := bot.NewConversation(bot.Address{Channel: "web", Room: "other"}, bot.Customer{ID: "web:b"}, now)
	if err := s.SaveConversation(ctx, other); err != nil {
		t.Fatal(err)
	}
	const total = 2*chunkLen + 37
	for i := 0; i < total; i += 3 { // batches that straddle chunk ends
		var ms []bot.Message
		for j := i; j < min(i+3, total); j++ {
			ms = append(ms, bot.Message{ID: fmt.Sprint(j), Role: bot.RoleCustomer, Text: fmt.Sprintf("m%d", j), At: now})
		}
		if err := s.Append(ctx, c.ID, ms...); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(ctx, other.ID, bot.Message{ID: fmt.Sprint(i), Text: "other"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Transcript(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, all, 0, total)
	for _, n := range []int{1, 5, 37, 38, chunkLen + 37, chunkLen + 38, total, total + 10} {
		got, err := s.Transcript(ctx, c.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		wantTexts(t, got, max(0, total-n), total)
	}
	if err := s.update("purge", func(tx *bolt.Tx) error { return purge(tx, []byte(c.ID)) }); err != nil {
		t.Fatal(err)
	}
	left := 0
	s.Dump(func(path string, v []byte) {
		if len(v) > 0 && json.Valid(v) {
			var m bot.Message
			if json.Unmarshal(v, &m) == nil && m.Text != "" && m.Text != "other" {
				left++
			}
		}
	})
	if left != 0 {
		t.Fatalf("%d messages of the purged conversation are still in the file", left)
	}
	mustSettle(t, s)
	s.db.View(func(tx *bolt.Tx) error {
		p := idPrefix([]byte(c.ID))
		if k, _ := tx.Bucket(bChunks).Cursor().Seek(p); bytes.HasPrefix(k, p) {
			t.Errorf("a chunk of the purged conversation is still in the file: %q", k)
		}
		return nil
	})
	if got, _ := s.Transcript(ctx, other.ID, 0); len(got) != (total+2)/3 {
		t.Fatalf("the other conversation has %d messages, want %d", len(got), (total+2)/3)
	}
}

// TestTranscriptsMigrated: transcripts written by a build that kept them
// inside each conversation's bucket read back whole after an upgrade, new
// messages follow them, and the old buckets are gone.
func TestTranscriptsMigrated(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now().UTC()
	var convs []*bot.Conversation
	for i := range 3 {
		c := bot.NewConversation(bot.Address{Channel: "web", Room: fmt.Sprint("r", i)}, bot.Customer{ID: "web:a"}, now)
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c)
	}
	// Rewrite the file as the earlier build left it: i+1 messages in
	// conv/<id>/msgs of conversation i, and no migration recorded.
	s = rewriteAndReopen(t, s, func(tx *bolt.Tx) error {
		for i, c := range convs {
			b, err := oldLayout(tx, c.ID)
			if err != nil {
				return err
			}
			m, err := b.CreateBucket(kMsgs)
			if err != nil {
				return err
			}
			for j := 0; j <= i; j++ {
				v, _ := json.Marshal(bot.Message{ID: fmt.Sprint(j), Text: fmt.Sprintf("m%d", j), At: now})
				if err := m.Put(binary.BigEndian.AppendUint64(nil, uint64(j+1)), v); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bMeta).Delete(kMsgs)
	})
	for i, c := range convs {
		got, err := s.Transcript(ctx, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantTexts(t, got, 0, i+1)
	}
	c := convs[2]
	if err := s.Append(ctx, c.ID, bot.Message{ID: "3", Text: "m3", At: now}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Transcript(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, got, 0, 4)
	noOldBuckets(t, s)
}

// rewriteAndReopen changes the file of s with fn (to make it as an earlier
// build left it), closes s and opens the file again.
func rewriteAndReopen(t *testing.T, s *Store, fn func(*bolt.Tx) error) *Store {
	t.Helper()
	mustSettle(t, s)
	if err := s.db.Update(fn); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(s.Path(), Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTemp opens a store in a new temporary directory, without a sweeper.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), FileName), Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustSettle folds every logged write of s into its file, for a test
// that reads or rewrites the file directly.
func mustSettle(t testing.TB, s *Store) {
	t.Helper()
	if err := s.settle(); err != nil {
		t.Fatal(err)
	}
}
