package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

// openLogged opens a store at path whose checkpointer waits an hour, so
// that writes stay in the log until a test folds them, with log files of
// logMax bytes (0: the default).
func openLogged(t *testing.T, path string, logMax int64) *Store {
	t.Helper()
	s, err := Open(path, Options{SweepEvery: -1, checkpointEvery: time.Hour, logMax: logMax})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// crash stops s as a crash would after its last write returned: the log
// is not folded, and its files stay.
func crash(t *testing.T, s *Store) {
	t.Helper()
	s.wmu.Lock()
	s.closed = true
	s.wmu.Unlock()
	s.stop()
	s.wg.Wait()
	s.logWG.Wait()
	s.flush.Stop()
	s.closeOnce.Do(func() {})
	if err := s.logf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// turn commits one turn of conversation room: the customer's message
// and a reply, queued.
func turn(t *testing.T, s *Store, c *bot.Conversation, text string) {
	t.Helper()
	if err := commitText(s, c, text); err != nil {
		t.Fatalf("turn %s: %v", text, err)
	}
}

func commitText(s *Store, c *bot.Conversation, text string) error {
	msgs := []bot.Message{{ID: text, Text: text, Role: bot.RoleCustomer}, {ID: text + "-r0", Text: "re " + text, Role: bot.RoleBot}}
	out := []bot.Outgoing{{Key: text + "-r0", To: c.Address, Reply: bot.Reply{Text: "re " + text}}}
	return s.CommitTurn(context.Background(), &bot.TurnCommit{Conv: c, Msgs: msgs, Out: out, Dedupe: "in:" + text})
}

func newConv(room string) *bot.Conversation {
	return bot.NewConversation(bot.Address{Channel: "web", Room: room}, bot.Customer{ID: "web:" + room}, time.Now())
}

// wantConv checks what a store holds of conversation c after n turns of
// which the first done replies were sent.
func wantConv(t *testing.T, s *Store, c *bot.Conversation, n, done int) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Conversation(ctx, c.ID)
	if err != nil || got.Version != int64(n) {
		t.Fatalf("%s: %+v, %v; want version %d", c.ID, got, err, n)
	}
	tr, err := s.Transcript(ctx, c.ID, 0)
	if err != nil || len(tr) != 2*n {
		t.Fatalf("%s: transcript of %d messages, %v; want %d", c.ID, len(tr), err, 2*n)
	}
	for i, m := range tr {
		if want := fmt.Sprintf("%s-%d", c.Address.Room, i/2); i%2 == 0 && m.Text != want {
			t.Fatalf("%s: message %d is %q, want %q", c.ID, i, m.Text, want)
		}
	}
	out, err := s.Outbox(ctx, c.ID, 0)
	if err != nil || len(out) != n-done {
		t.Fatalf("%s: outbox %+v, %v; want %d replies", c.ID, out, err, n-done)
	}
	if seen, err := s.Seen(ctx, fmt.Sprintf("in:%s-%d", c.Address.Room, n-1)); err != nil || !seen {
		t.Fatalf("%s: the last turn's dedupe key is not recorded: %v", c.ID, err)
	}
}

// TestSlowSyncsGoThroughTheScheduler: the log's syncs keep the syncer's P
// only while they are fast and another P exists; after a slow one, or with
// GOMAXPROCS 1, they go through the scheduler. Both kinds are durable.
func TestSlowSyncsGoThroughTheScheduler(t *testing.T) {
	for _, tc := range []struct {
		name  string
		max   time.Duration
		procs int
		held  int
	}{
		{"every sync slow", time.Nanosecond, 2, 1}, // the first is held: no sync was slow yet
		{"one P", time.Hour, 1, 0},
		{"never held", -1, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tc.procs))
			path := filepath.Join(t.TempDir(), FileName)
			s, err := Open(path, Options{SweepEvery: -1, checkpointEvery: time.Hour, heldSyncMax: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			c := newConv("a")
			for i := range 5 {
				turn(t, s, c, fmt.Sprint("a-", i))
			}
			crash(t, s)
			if s.heldSyncs != tc.held {
				t.Errorf("%d syncs kept the P, want %d", s.heldSyncs, tc.held)
			}
			wantConv(t, openLogged(t, path, 0), c, 5, 0)
		})
	}
}

// TestCrashLosesNoWrite: every write that returned before a crash is
// there after Open, which replays the log; none twice, and decisions made
// on them (versions, dedupe keys, outbox heads) hold.
func TestCrashLosesNoWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s := openLogged(t, path, 0)
	a, b := newConv("a"), newConv("b")
	for i := range 3 {
		turn(t, s, a, fmt.Sprint("a-", i))
	}
	// Folded, then more written: the replay must skip what was folded.
	if err := s.checkpoint(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		turn(t, s, b, fmt.Sprint("b-", i))
	}
	turn(t, s, a, "a-3")
	if left, err := s.OutboxDoneLeft(ctx, a.ID, "a-0-r0"); err != nil || !left {
		t.Fatalf("done: %v, %v", left, err)
	}
	if first, err := s.FirstSeen(ctx, "slack:ev1", time.Hour); err != nil || !first {
		t.Fatalf("first seen: %v, %v", first, err)
	}
	crash(t, s)
	if files, _ := logFiles(path); len(files) == 0 {
		t.Fatal("no log file after the crash")
	}

	s = openLogged(t, path, 0)
	wantConv(t, s, a, 4, 1)
	wantConv(t, s, b, 2, 0)
	if first, err := s.FirstSeen(ctx, "slack:ev1", time.Hour); err != nil || first {
		t.Fatalf("first seen after the crash: %v, %v", first, err)
	}
	stale := *b
	stale.Version = 1
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: &stale}); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("a stale version after replay: %v", err)
	}
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: b, Dedupe: "in:b-1"}); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("a replayed dedupe key: %v", err)
	}
	// Clean close: folded, and the log is gone but for the spare.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := logFiles(path); len(files) != 0 {
		t.Fatalf("log files after Close: %v", files)
	}
	s = openLogged(t, path, 0)
	wantConv(t, s, a, 4, 1)
}

// TestTornLogTail: a crash in the middle of a group's write leaves a
// torn record at the end of the log; none of its writes was
// acknowledged, so Open drops it and keeps every write before it.
func TestTornLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openLogged(t, path, 0)
	c := newConv("t")
	for i := range 3 {
		turn(t, s, c, fmt.Sprint("t-", i))
	}
	crash(t, s)
	files, _ := logFiles(path)
	name := files[len(files)-1].name
	ops, _, err := readLog(name)
	if err != nil || len(ops) != 3 {
		t.Fatalf("%d records, %v", len(ops), err)
	}
	// The last record loses its end.
	size := 0
	for _, o := range ops {
		size += len(o.append(nil))
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xde, 0xad, 0xbe}, int64(size-3)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = openLogged(t, path, 0)
	c.Version = 2
	wantConv(t, s, c, 2, 0)
	turn(t, s, c, "t-2") // the dropped turn again: its version and dedupe key are free
}

// TestLogGapRefused: a log file whose records stop short while a later
// file goes on (a lost block) is an error at Open naming the file, not a
// silent loss, and the data file is left as it was.
func TestLogGapRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openLogged(t, path, 1500) // about a turn per file
	c := newConv("g")
	for i := range 6 {
		turn(t, s, c, fmt.Sprint("g-", i))
	}
	crash(t, s)
	files, _ := logFiles(path)
	if len(files) < 3 {
		t.Fatalf("%d log files, want several", len(files))
	}
	f, err := os.OpenFile(files[1].name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{1, 2, 3, 4}, 10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(path, Options{SweepEvery: -1})
	if !errors.Is(err, errRecord) || !strings.Contains(fmt.Sprint(err), filepath.Base(files[2].name)) {
		t.Fatalf("open with a gap in the log: %v", err)
	}
	for _, f := range files {
		if _, err := os.Stat(f.name); err != nil {
			t.Fatalf("the log was changed by the failed open: %v", err)
		}
	}
}

// TestLogFilesReused: the log moves to a new file as it fills, a folded
// file becomes the spare the next one reuses, and no more than a few
// files stay however much is written.
func TestLogFilesReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openLogged(t, path, 4096)
	c := newConv("f")
	for i := range 40 {
		turn(t, s, c, fmt.Sprint("f-", i))
		if i%5 == 4 {
			if err := s.checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := logFiles(path)
	if len(files) > 2 {
		t.Errorf("%d log files after checkpoints, want at most 2", len(files))
	}
	if _, err := os.Stat(spareName(path)); err != nil {
		t.Errorf("no spare log file: %v", err)
	}
	if files[0].n < 5 {
		t.Errorf("the log is at file %d after 40 turns of about 1 KB in files of 4 KB", files[0].n)
	}
	crash(t, s)
	s = openLogged(t, path, 4096)
	wantConv(t, s, c, 40, 0)
}

// TestQueuedRemoval: a removal nobody waits for is logged before the call
// returns, shares the sync of the next write, and is synced on its own
// (by the timer, or by Close) when no other write comes.
func TestQueuedRemoval(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openLogged(t, path, 0)
	c := newConv("q")
	for i := range 3 {
		turn(t, s, c, fmt.Sprint("q-", i))
	}
	type res struct {
		left bool
		err  error
	}
	results := make(chan res, 1)
	done := func(left bool, err error) { results <- res{left, err} }

	// Carried by the next write: one sync, its result first.
	SetLaterWait(s, time.Hour)
	before := s.Commits()
	s.OutboxDoneQueue(c.ID, "q-0-r0", done)
	turn(t, s, c, "q-3")
	select {
	case r := <-results:
		if r.err != nil || !r.left {
			t.Fatalf("queued removal: %+v", r)
		}
	default:
		t.Fatal("the queued removal's result came after the write that carried it returned")
	}
	if n := s.Commits() - before; n != 1 {
		t.Errorf("%d syncs for a queued removal and the write after it, want 1", n)
	}

	// Alone: the timer syncs it.
	SetLaterWait(s, time.Millisecond)
	s.OutboxDoneQueue(c.ID, "q-1-r0", done)
	if r := <-results; r.err != nil || !r.left {
		t.Fatalf("queued removal alone: %+v", r)
	}
	// Not the head: nothing to write, left reported.
	s.OutboxDoneQueue(c.ID, "q-3-r0", done)
	if r := <-results; r.err != nil || !r.left {
		t.Fatalf("a removal of another key: %+v", r)
	}

	// Queued at Close: synced and folded before the file is closed.
	SetLaterWait(s, time.Hour)
	s.OutboxDoneQueue(c.ID, "q-2-r0", done)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-results; r.err != nil {
		t.Fatal(r.err)
	}
	s = openLogged(t, path, 0)
	wantConv(t, s, c, 4, 3)
	s.OutboxDoneQueue(c.ID, "q-3-r0", done)
	if r := <-results; r.err != nil || r.left {
		t.Fatalf("the last removal: %+v", r)
	}
	s.Close()
	s.OutboxDoneQueue(c.ID, "q-3-r0", done)
	if r := <-results; !errors.Is(r.err, bot.ErrUnavailable) {
		t.Fatalf("a removal after Close: %+v", r)
	}
}

// TestLoggedAndExclusiveWrites: turns of many conversations logged
// concurrently with writes that bypass the log (SaveConversation, Claim,
// Sweep) and with checkpoints: every write that returned is kept once,
// in order, and every version check holds.
func TestLoggedAndExclusiveWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(path, Options{SweepEvery: -1, checkpointEvery: time.Millisecond, logMax: 8192})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const convs, turns = 8, 30
	cs := make([]*bot.Conversation, convs)
	var wg sync.WaitGroup
	for i := range convs {
		cs[i] = newConv(fmt.Sprint("c", i))
		wg.Go(func() {
			for j := range turns {
				if err := commitText(s, cs[i], fmt.Sprintf("c%d-%d", i, j)); err != nil {
					t.Error(err)
					return
				}
				if j%10 == 9 {
					if _, err := s.OutboxDoneLeft(ctx, cs[i].ID, fmt.Sprintf("c%d-%d-r0", i, j/10)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for j := range 20 {
			c := cs[j%convs]
			if err := s.Claim(ctx, c.ID, "agent"); err != nil {
				t.Error(err)
			}
			if _, err := s.Sweep(ctx); err != nil {
				t.Error(err)
			}
			other := newConv(fmt.Sprint("other", j))
			if err := s.SaveConversation(ctx, other); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, c := range cs {
		wantConv(t, s, c, turns, 3)
	}
	crash(t, s)
	s = openLogged(t, path, 0)
	for _, c := range cs {
		wantConv(t, s, c, turns, 3)
		if h, err := s.Holder(ctx, c.ID); err != nil || h != "agent" {
			t.Fatalf("%s: holder %q, %v", c.ID, h, err)
		}
	}
}

// TestDeleteCustomerScrubsLog: after a customer's data is deleted, none of
// their messages is left in the write log's files (folded, current or
// spare), where a crash-consistent backup would keep them.
func TestDeleteCustomerScrubsLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s := openLogged(t, path, 6000)
	gone, kept := newConv("gone"), newConv("kept")
	for i := range 8 {
		turn(t, s, gone, fmt.Sprint("gone-", i))
		turn(t, s, kept, fmt.Sprint("kept-", i))
		if i%3 == 2 {
			if err := s.checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	logBytes := func() string {
		names, _ := filepath.Glob(path + "-log-*")
		var all []byte
		for _, n := range names {
			b, _ := os.ReadFile(n)
			all = append(all, b...)
		}
		return string(all)
	}
	if !strings.Contains(logBytes(), "gone-7") {
		t.Fatal("the test writes nothing to the log")
	}
	if err := s.DeleteCustomer(ctx, gone.Customer.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logBytes(), "gone-") {
		t.Fatal("a deleted customer's message is still in the write log")
	}
	turn(t, s, kept, "kept-8")
	crash(t, s)
	s = openLogged(t, path, 0)
	wantConv(t, s, kept, 9, 0)
	if _, err := s.Conversation(ctx, gone.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("the deleted conversation: %v", err)
	}
}

// openClocked returns a function that opens the same store, whose
// checkpointer waits an hour, with the clock *now and a retention of an
// hour.
func openClocked(t *testing.T, now *time.Time) func() *Store {
	path := filepath.Join(t.TempDir(), FileName)
	return func() *Store {
		t.Helper()
		s, err := Open(path, Options{SweepEvery: -1, checkpointEvery: time.Hour, Retention: time.Hour, Now: func() time.Time { return *now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestRepliesSentWithinACheckpoint: a reply queued and removed between two
// checkpoints never reaches the file (the fold skips both), and the
// outboxes after the fold are what the writes made: replies the file held
// before, removed in order; replies left queued, with their mark; and a
// conversation that expired and started again, whose old replies go.
func TestRepliesSentWithinACheckpoint(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	open := openClocked(t, &now)
	s := open()
	done := func(id bot.ConversationID, key string) {
		t.Helper()
		if _, err := s.OutboxDoneLeft(ctx, id, key); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := newConv("a"), newConv("b"), newConv("c")
	turn(t, s, c, "c-0")
	now = now.Add(2 * time.Hour) // c expires; its next turn starts it again
	turn(t, s, a, "a-0")
	turn(t, s, a, "a-1")
	if err := s.checkpoint(); err != nil { // a-0-r0, a-1-r0 and c-0-r0 in the file
		t.Fatal(err)
	}
	done(a.ID, "a-0-r0")
	turn(t, s, a, "a-2")
	done(a.ID, "a-1-r0")
	done(a.ID, "a-2-r0") // queued in this fold: skipped
	turn(t, s, a, "a-3")
	turn(t, s, a, "a-4")
	done(a.ID, "a-3-r0") // skipped

	turn(t, s, b, "b-0")
	turn(t, s, b, "b-1")
	done(b.ID, "b-0-r0") // skipped
	done(b.ID, "b-1-r0") // skipped

	c2 := newConv("c")
	turn(t, s, c2, "c-1")
	done(c.ID, "c-1-r0")
	turn(t, s, a, "a-5")
	if err := s.checkpoint(); err != nil {
		t.Fatal(err)
	}

	want := map[bot.ConversationID][]string{a.ID: {"a-4-r0", "a-5-r0"}, b.ID: nil, c.ID: nil}
	check := func(s *Store) {
		t.Helper()
		for id, keys := range want {
			out, err := s.Outbox(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range out {
				got = append(got, o.Key)
			}
			if fmt.Sprint(got) != fmt.Sprint(keys) {
				t.Errorf("%s: outbox %v, want %v", id, got, keys)
			}
		}
		marks, err := s.OutboxPending(ctx, now.Add(time.Second), 0)
		if err != nil || len(marks) != 1 || marks[0].Conv != a.ID {
			t.Errorf("pending outboxes %+v, %v; want only %s's", marks, err, a.ID)
		}
	}
	check(s)
	// Written to the file: a-0, a-1 and c-0 by the first fold; a-4, a-5,
	// and c-1 (c's removal did not take the reply it named in the replay,
	// so c's writes were applied one by one) by the second.
	var put uint64
	if err := s.db.View(func(tx *bolt.Tx) error { put = tx.Bucket(bOutbox).Sequence(); return nil }); err != nil {
		t.Fatal(err)
	}
	if put != 6 {
		t.Errorf("%d replies written to the file, want 6", put)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(open())
}

// TestTurnsFoldedTogether: many turns of a conversation in one checkpoint
// (its head written once) keep every message, the last record and
// expiry; one that expired between two of its turns starts again, with
// nothing of before.
func TestTurnsFoldedTogether(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	open := openClocked(t, &now)
	s := open()
	x, y := newConv("x"), newConv("y")
	for i := range 3 {
		turn(t, s, x, fmt.Sprint("x-", i))
	}
	now = now.Add(2 * time.Hour) // x expires
	for i := range 5 {
		turn(t, s, y, fmt.Sprint("y-", i))
		now = now.Add(40 * time.Minute) // each turn moves y's expiry on
	}
	x = newConv("x")
	turn(t, s, x, "x-0")
	turn(t, s, x, "x-1")
	if err := s.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open() // all from the file
	wantConv(t, s, x, 2, 0)
	wantConv(t, s, y, 5, 0)
	if ids, err := s.CustomerConversations(ctx, "web:x"); err != nil || len(ids) != 1 {
		t.Fatalf("x's customer has %v, %v; want one conversation", ids, err)
	}
	// y's last turn was 40 minutes ago: it expires in 20.
	now = now.Add(19 * time.Minute)
	if _, err := s.Conversation(ctx, y.ID); err != nil {
		t.Fatalf("y before its expiry: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.Conversation(ctx, y.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("y after its expiry: %v", err)
	}
}
