package embedded_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/store/storetest"
)

const retention = 72 * time.Hour

func openAt(t testing.TB, path string, clock *storetest.Clock) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(path, embedded.Options{Retention: retention, Now: clock.Now, SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	clock := &storetest.Clock{}
	storetest.Run(t, storetest.Features{
		Clock:     clock,
		Retention: retention,
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path := s.(*embedded.Store).Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openAt(t, path, clock)
		},
		Dump: func(t *testing.T, s store.Store) []string { return dump(t, s.(*embedded.Store)) },
	}, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), embedded.FileName), clock)
	})
}

// dump lists every key and value of every bucket of s.
func dump(t *testing.T, s *embedded.Store) []string {
	var out []string
	if err := s.Dump(func(path string, v []byte) { out = append(out, path+" = "+string(v)) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestartKeepsConversation is the newcomer's story: the bot process
// stops and starts again, and the conversation is still there.
func TestRestartKeepsConversation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), embedded.FileName)
	s, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	c := bot.NewConversation(bot.Address{Channel: "cli", Room: "tty"}, bot.Customer{ID: "cli:me"}, now)
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	in := bot.Message{ID: "1", From: c.Address, Customer: c.Customer, Role: bot.RoleCustomer, Text: "hello", At: now}
	out := bot.Message{ID: "2", From: c.Address, Customer: c.Customer, Role: bot.RoleBot, Text: "hi!", At: now}
	if err := s.Append(ctx, c.ID, in, out); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Ping after Close = %v, want ErrUnavailable", err)
	}

	s, err = embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Conversation(ctx, c.ID)
	if err != nil || got.Version != 1 || got.Customer.ID != "cli:me" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	tr, err := s.Transcript(ctx, c.ID, 0)
	if err != nil || len(tr) != 2 || tr[0].Text != "hello" || tr[1].Text != "hi!" {
		t.Fatalf("transcript after restart: %+v, %v", tr, err)
	}
}

// TestSecondProcessIsRefused: bbolt locks the file; a second opener gets a
// clear error instead of hanging.
func TestSecondProcessIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), embedded.FileName)
	openAt(t, path, &storetest.Clock{})
	_, err := embedded.Open(path, embedded.Options{})
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("second Open = %v, want ErrUnavailable (file in use)", err)
	}
}

// TestSweepDeletesExpired: reads hide expired data at once; Sweep frees it,
// and a write in between extends a conversation's life.
func TestSweepDeletesExpired(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	s := openAt(t, filepath.Join(t.TempDir(), embedded.FileName), clock)
	now := clock.Now()
	idle := bot.NewConversation(bot.Address{Channel: "web", Room: "idle"}, bot.Customer{ID: "web:a"}, now)
	busy := bot.NewConversation(bot.Address{Channel: "web", Room: "busy"}, bot.Customer{ID: "web:a"}, now)
	for _, c := range []*bot.Conversation{idle, busy} {
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(ctx, c.ID, bot.Message{ID: "1", Text: "x", At: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FirstSeen(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordEvent(ctx, bot.Event{At: now, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(retention - time.Hour)
	if err := s.Append(ctx, busy.ID, bot.Message{ID: "2", Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour) // idle is past retention, busy was written an hour ago
	n, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // idle, the dedupe key, the event
		t.Fatalf("Sweep deleted %d, want 3", n)
	}
	if _, err := s.Conversation(ctx, idle.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("idle: %v", err)
	}
	if tr, _ := s.Transcript(ctx, busy.ID, 0); len(tr) != 2 {
		t.Fatalf("busy transcript: %v", tr)
	}
	if ids, _ := s.CustomerConversations(ctx, "web:a"); len(ids) != 1 || ids[0] != busy.ID {
		t.Fatalf("customer index: %v", ids)
	}
	if n, _ := s.Sweep(ctx); n != 0 {
		t.Fatalf("second Sweep deleted %d", n)
	}
	clock.Advance(retention) // busy's last write is now past retention too
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep after busy expired: %d, %v; want 1", n, err)
	}
	if ids, _ := s.CustomerConversations(ctx, "web:a"); len(ids) != 0 {
		t.Fatalf("customer index after both expired: %v", ids)
	}
}

// TestSweepAfterShorterRetention: a conversation written after the store is
// reopened with a shorter retention is swept by the new retention, not the
// one it was first saved under.
func TestSweepAfterShorterRetention(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	path := filepath.Join(t.TempDir(), embedded.FileName)
	s := openAt(t, path, clock)
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "r"}, bot.Customer{ID: "web:a"}, clock.Now())
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := embedded.Open(path, embedded.Options{Retention: time.Hour, Now: clock.Now, SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(ctx, c.ID, bot.Message{ID: "1", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep: %d, %v; want 1 (the conversation, an hour past the new retention)", n, err)
	}
	if tr, err := s.Transcript(ctx, c.ID, 0); err != nil || len(tr) != 0 {
		t.Fatalf("transcript after sweep: %v, %v", tr, err)
	}
}

// TestSweeperStopsOnClose: the sweeper goroutine runs and Close waits for it.
func TestSweeperStopsOnClose(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), embedded.FileName), embedded.Options{SweepEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func BenchmarkMessagePath(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), embedded.FileName), &storetest.Clock{})
	storetest.BenchmarkMessagePath(b, s)
}

// TestSweepDeletesExpiredDocs: a document past its Expires is hidden, then
// freed by Sweep with every version; one rewritten without Expires stays.
func TestSweepDeletesExpiredDocs(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	s := openAt(t, filepath.Join(t.TempDir(), embedded.FileName), clock)
	in := clock.Now().Add(time.Hour)
	for i, d := range []bot.Doc{
		{Name: "slack.thread/C1/1", Data: []byte("secret-conv"), Expires: in},
		{Name: "slack.thread/C1/1", Data: []byte("secret-conv-2"), Expires: in},
		{Name: "kept", Data: []byte("k1"), Expires: in},
		{Name: "kept", Data: []byte("k2")},
	} {
		expect := int64(0)
		if i%2 == 1 {
			expect = 1
		}
		if _, err := s.PutDoc(ctx, d, expect); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.Doc(ctx, "slack.thread/C1/1"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("expired doc: %v, want ErrNotFound", err)
	}
	if !strings.Contains(strings.Join(dump(t, s), "\n"), "slack.thread/C1/1") {
		t.Fatal("the file does not hold the expired document before Sweep: the check below would prove nothing")
	}
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the one expired document", n, err)
	}
	if d, err := s.Doc(ctx, "kept"); err != nil || string(d.Data) != "k2" {
		t.Fatalf("kept = %q, %v", d.Data, err)
	}
	for _, kv := range dump(t, s) {
		if strings.Contains(kv, "slack.thread") {
			t.Fatalf("swept document still in the file: %q", kv)
		}
	}
}

// TestExpiryIndexOfOlderFile: a conversation of a file from before the
// expiry index kept where it filed each conversation (it was filed at its
// expiry) is kept while written to, and swept once it really expires.
func TestExpiryIndexOfOlderFile(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	s, err := embedded.Open(filepath.Join(t.TempDir(), embedded.FileName), embedded.Options{Retention: time.Hour, Now: clock.Now, SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "old"}, bot.Customer{ID: "web:a"}, clock.Now())
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := embedded.Flatten(s, c.ID, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = embedded.Open(s.Path(), embedded.Options{Retention: time.Hour, Now: clock.Now, SweepEvery: -1}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(30 * time.Minute)
	if err := s.Append(ctx, c.ID, bot.Message{ID: "1", Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(45 * time.Minute) // past where it was filed, not past its last write's expiry
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep before it expired: %d, %v", n, err)
	}
	if tr, err := s.Transcript(ctx, c.ID, 0); err != nil || len(tr) != 1 {
		t.Fatalf("transcript: %v, %v", tr, err)
	}
	clock.Advance(time.Hour)
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep after it expired: %d, %v; want 1", n, err)
	}
}
