package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store"
)

// The outbox contract (bot.OutboxStore); a backend without it skips these.
func init() {
	tests = append(tests,
		suiteTest{"Commit saves, appends and queues all or nothing; a stale version writes nothing", testCommit},
		suiteTest{"Commit of one version by 50 goroutines: exactly one wins and only its replies are queued", testConcurrentCommit},
		suiteTest{"OutboxDone pops only the named head; the mark goes with the last entry unless a commit re-marked it", testOutboxDone},
		suiteTest{"Outbox entries survive reopening the store", testOutboxReopen},
		suiteTest{"LeaseOutbox reads the head only for the lease holder; OutboxDoneUnlease gives the lease back with the last entry", testLeaseOutbox},
		suiteTest{"CommitTurn records the dedupe key and the events with the commit; a seen key or a stale version writes nothing", testCommitTurn},
	)
}

func outboxStore(t *testing.T, s store.Store) bot.OutboxStore {
	t.Helper()
	ob, ok := s.(bot.OutboxStore)
	if !ok {
		t.Skip("the backend has no outbox")
	}
	return ob
}

func outgoing(c *bot.Conversation, key string, at time.Time) bot.Outgoing {
	return bot.Outgoing{Key: key, To: c.Address, Reply: bot.Reply{Text: "reply " + key, Kind: bot.KindAnswer}, At: at}
}

func outKeys(xs []bot.Outgoing) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.Key
	}
	return out
}

func testCommit(t *testing.T, f *Features, s store.Store) {
	ob := outboxStore(t, s)
	now := f.Clock.Now()
	c := conv("commit", "ann", now)
	c.Inbound = "1700000000000-3"
	msgs := []bot.Message{msg(c, 1, bot.RoleCustomer, now), msg(c, 2, bot.RoleBot, now)}
	must(t, ob.Commit(ctx, c, msgs, []bot.Outgoing{outgoing(c, "m1-r0", now), outgoing(c, "m1-r1", now)}))
	same(t, "version after commit", c.Version, int64(1))
	got, err := s.Conversation(ctx, c.ID)
	must(t, err)
	same(t, "conversation", got, c)
	tr, err := s.Transcript(ctx, c.ID, 0)
	must(t, err)
	same(t, "transcript", tr, msgs)
	xs, err := ob.Outbox(ctx, c.ID, 0)
	must(t, err)
	same(t, "outbox", xs, []bot.Outgoing{outgoing(c, "m1-r0", now), outgoing(c, "m1-r1", now)})
	marks, err := ob.OutboxPending(ctx, now.Add(time.Minute), 100)
	must(t, err)
	if !hasMark(marks, c.ID) {
		t.Fatalf("no mark for %s in %v", c.ID, marks)
	}

	stale := *got
	stale.Version = 0
	err = ob.Commit(ctx, &stale, []bot.Message{msg(c, 3, bot.RoleCustomer, now)}, []bot.Outgoing{outgoing(c, "m3-r0", now)})
	if !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("stale commit: %v, want ErrConflict", err)
	}
	tr, _ = s.Transcript(ctx, c.ID, 0)
	xs, _ = ob.Outbox(ctx, c.ID, 0)
	same(t, "transcript after a stale commit", len(tr), 2)
	same(t, "outbox after a stale commit", outKeys(xs), []string{"m1-r0", "m1-r1"})

	// A commit without replies or messages only saves.
	must(t, ob.Commit(ctx, got, nil, nil))
	same(t, "version", got.Version, int64(2))
	xs, _ = ob.Outbox(ctx, c.ID, 1)
	same(t, "outbox head", outKeys(xs), []string{"m1-r0"})
	ids, err := s.CustomerConversations(ctx, c.Customer.ID)
	must(t, err)
	same(t, "customer index", ids, []bot.ConversationID{c.ID})
}

func hasMark(ms []bot.OutboxMark, id bot.ConversationID) bool {
	for _, m := range ms {
		if m.Conv == id {
			return true
		}
	}
	return false
}

func testConcurrentCommit(t *testing.T, f *Features, s store.Store) {
	ob := outboxStore(t, s)
	now := f.Clock.Now()
	c := conv("race", "bob", now)
	must(t, s.SaveConversation(ctx, c))
	var wins atomic.Int32
	winner := make(chan int, Contenders)
	race(Contenders, func(i int) {
		cc := *c
		key := fmt.Sprintf("m%d-r0", i)
		err := ob.Commit(ctx, &cc, []bot.Message{msg(c, i, bot.RoleCustomer, now)}, []bot.Outgoing{outgoing(c, key, now)})
		switch {
		case err == nil:
			wins.Add(1)
			winner <- i
		case !errors.Is(err, bot.ErrConflict):
			t.Errorf("commit %d: %v", i, err)
		}
	})
	if wins.Load() != 1 {
		t.Fatalf("%d winners, want 1", wins.Load())
	}
	w := <-winner
	xs, err := ob.Outbox(ctx, c.ID, 0)
	must(t, err)
	same(t, "outbox", outKeys(xs), []string{fmt.Sprintf("m%d-r0", w)})
	tr, err := s.Transcript(ctx, c.ID, 0)
	must(t, err)
	same(t, "transcript", len(tr), 1)
}

// outboxDepth checks the store's OutboxDepth (metrics), if it has one.
func outboxDepth(t *testing.T, s any, want int64) {
	t.Helper()
	d, ok := s.(interface {
		OutboxDepth(context.Context) (int64, error)
	})
	if !ok {
		return
	}
	n, err := d.OutboxDepth(ctx)
	must(t, err)
	same(t, "OutboxDepth", n, want)
}

func testOutboxDone(t *testing.T, f *Features, s store.Store) {
	ob := outboxStore(t, s)
	now := f.Clock.Now()
	c := conv("done", "cy", now)
	outboxDepth(t, s, 0)
	must(t, ob.Commit(ctx, c, nil, []bot.Outgoing{outgoing(c, "a", now), outgoing(c, "b", now)}))
	must(t, ob.Commit(ctx, conv("done2", "cy", now), nil, []bot.Outgoing{outgoing(c, "x", now)}))
	outboxDepth(t, s, 2)
	must(t, ob.OutboxDone(ctx, c.ID, "b")) // not the head: no-op
	xs, _ := ob.Outbox(ctx, c.ID, 0)
	same(t, "after done of a non-head", outKeys(xs), []string{"a", "b"})
	must(t, ob.OutboxDone(ctx, c.ID, "a"))
	must(t, ob.OutboxDone(ctx, c.ID, "a")) // again: no-op
	xs, _ = ob.Outbox(ctx, c.ID, 0)
	same(t, "after done of a", outKeys(xs), []string{"b"})
	marks, _ := ob.OutboxPending(ctx, now.Add(time.Minute), 100)
	if !hasMark(marks, c.ID) {
		t.Fatal("mark gone while an entry is queued")
	}
	must(t, ob.OutboxDone(ctx, c.ID, "b"))
	xs, _ = ob.Outbox(ctx, c.ID, 0)
	same(t, "outbox after the last done", len(xs), 0)
	outboxDepth(t, s, 1)
	marks, _ = ob.OutboxPending(ctx, now.Add(time.Minute), 100)
	if hasMark(marks, c.ID) {
		t.Fatal("mark kept after the outbox emptied")
	}

	// A mark listed before a newer commit is not forgotten.
	must(t, ob.Commit(ctx, c, nil, []bot.Outgoing{outgoing(c, "c", now)}))
	marks, _ = ob.OutboxPending(ctx, now.Add(time.Minute), 100)
	var old bot.OutboxMark
	for _, m := range marks {
		if m.Conv == c.ID {
			old = m
		}
	}
	must(t, ob.Commit(ctx, c, nil, []bot.Outgoing{outgoing(c, "d", now)}))
	must(t, ob.OutboxForget(ctx, old))
	marks, _ = ob.OutboxPending(ctx, now.Add(time.Minute), 100)
	if !hasMark(marks, c.ID) {
		t.Fatal("OutboxForget of an outdated mark removed the current one")
	}
	// Marks are listed only when older than before.
	marks, _ = ob.OutboxPending(ctx, now.Add(-time.Minute), 100)
	if hasMark(marks, c.ID) {
		t.Fatal("a fresh mark listed as older than a minute ago")
	}
}

func testOutboxReopen(t *testing.T, f *Features, s store.Store) {
	outboxStore(t, s)
	now := f.Clock.Now()
	c := conv("reopen", "di", now)
	must(t, s.(bot.OutboxStore).Commit(ctx, c, []bot.Message{msg(c, 1, bot.RoleCustomer, now)}, []bot.Outgoing{outgoing(c, "k", now)}))
	s = f.Reopen(t, s)
	xs, err := s.(bot.OutboxStore).Outbox(ctx, c.ID, 0)
	must(t, err)
	same(t, "outbox after reopen", outKeys(xs), []string{"k"})
}

func testCommitTurn(t *testing.T, f *Features, s store.Store) {
	tc, ok := s.(bot.TurnCommitter)
	if !ok {
		t.Skip("the backend has no CommitTurn")
	}
	now := f.Clock.Now()
	c := conv("turn", "ann", now)
	seen, err := tc.Seen(ctx, "in:k1")
	must(t, err)
	same(t, "seen before", seen, false)
	ev := bot.Event{At: now, Type: "answered", Conv: c.ID, Intent: "turn-intent"}
	turn := &bot.TurnCommit{Conv: c, Msgs: []bot.Message{msg(c, 1, bot.RoleCustomer, now)},
		Out: []bot.Outgoing{outgoing(c, "m1-r0", now)}, Dedupe: "in:k1", DedupeTTL: time.Hour, Events: []bot.Event{ev}}
	must(t, tc.CommitTurn(ctx, turn))
	same(t, "version after commit", c.Version, int64(1))
	// Head is optional (false: the engine reads the outbox), but never wrong.
	seen, err = tc.Seen(ctx, "in:k1")
	must(t, err)
	same(t, "seen after", seen, true)
	if el, ok := s.(bot.EventLog); ok {
		evs, err := el.Events(ctx, now.Add(-time.Minute), now.Add(time.Minute))
		must(t, err)
		n := 0
		for _, e := range evs {
			if e.Intent == "turn-intent" {
				n++
			}
		}
		same(t, "events recorded", n, 1)
	}
	// The same key again: nothing written.
	again := &bot.TurnCommit{Conv: c, Msgs: []bot.Message{msg(c, 2, bot.RoleCustomer, now)},
		Out: []bot.Outgoing{outgoing(c, "m2-r0", now)}, Dedupe: "in:k1", DedupeTTL: time.Hour}
	if err := tc.CommitTurn(ctx, again); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("CommitTurn with a seen key: %v, want ErrDuplicate", err)
	}
	same(t, "version after duplicate", c.Version, int64(1))
	// A stale version: the key is not recorded.
	stale := *c
	stale.Version = 0
	if err := tc.CommitTurn(ctx, &bot.TurnCommit{Conv: &stale, Dedupe: "in:k2", DedupeTTL: time.Hour}); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("CommitTurn with a stale version: %v, want ErrConflict", err)
	}
	seen, err = tc.Seen(ctx, "in:k2")
	must(t, err)
	same(t, "key of a refused commit", seen, false)
	// A second reply behind the first: not the head.
	turn = &bot.TurnCommit{Conv: c, Out: []bot.Outgoing{outgoing(c, "m3-r0", now)}, Dedupe: "in:k3", DedupeTTL: time.Hour}
	must(t, tc.CommitTurn(ctx, turn))
	same(t, "head behind an entry", turn.Head, false)
	xs, err := tc.Outbox(ctx, c.ID, 0)
	must(t, err)
	same(t, "outbox", outKeys(xs), []string{"m1-r0", "m3-r0"})
	// FirstSeen sees the keys CommitTurn recorded.
	first, err := s.FirstSeen(ctx, "in:k3", time.Hour)
	must(t, err)
	same(t, "FirstSeen of a committed key", first, false)
	// OutboxDoneLeft tells when the outbox is empty.
	left, err := tc.OutboxDoneLeft(ctx, c.ID, "m1-r0")
	must(t, err)
	same(t, "left after the first of two", left, true)
	left, err = tc.OutboxDoneLeft(ctx, c.ID, "m3-r0")
	must(t, err)
	same(t, "left after the last", left, false)
	xs, err = tc.Outbox(ctx, c.ID, 0)
	must(t, err)
	same(t, "outbox after", len(xs), 0)
}

func testLeaseOutbox(t *testing.T, f *Features, s store.Store) {
	ol, ok := s.(bot.OutboxLeaser)
	if !ok {
		t.Skip("the backend has no LeaseOutbox")
	}
	ob := outboxStore(t, s)
	now := f.Clock.Now()
	c := conv("leaseout", "ann", now)
	must(t, ob.Commit(ctx, c, nil, []bot.Outgoing{outgoing(c, "a", now), outgoing(c, "b", now)}))
	ok, head, err := ol.LeaseOutbox(ctx, "outbox:x", "r1", time.Minute, c.ID, 16)
	must(t, err)
	same(t, "lease taken", ok, true)
	same(t, "head", outKeys(head), []string{"a", "b"})
	ok, head, err = ol.LeaseOutbox(ctx, "outbox:x", "r2", time.Minute, c.ID, 16)
	must(t, err)
	same(t, "lease held by another", ok, false)
	same(t, "no head without the lease", len(head), 0)
	left, unleased, err := ol.OutboxDoneUnlease(ctx, c.ID, "a", "outbox:x", "r1")
	must(t, err)
	same(t, "left after a", left, true)
	same(t, "unleased after a", unleased, false)
	left, unleased, err = ol.OutboxDoneUnlease(ctx, c.ID, "b", "outbox:x", "r1")
	must(t, err)
	same(t, "left after b", left, false)
	same(t, "unleased after b", unleased, true)
	ok, head, err = ol.LeaseOutbox(ctx, "outbox:x", "r2", time.Minute, c.ID, 16)
	must(t, err)
	same(t, "lease free again", ok, true)
	if head == nil || len(head) != 0 {
		t.Fatalf("head of an empty outbox: %#v, want an empty slice", head)
	}
	marks, err := ob.OutboxPending(ctx, now.Add(time.Hour), 0)
	must(t, err)
	for _, m := range marks {
		if m.Conv == c.ID {
			t.Fatalf("mark left on the emptied outbox: %+v", m)
		}
	}
	// CommitTurn may take the lease with the commit, never from another owner.
	tc, ok := s.(bot.TurnCommitter)
	if !ok {
		return
	}
	turn := &bot.TurnCommit{Conv: c, Out: []bot.Outgoing{outgoing(c, "c", now)}, Lease: "outbox:x", LeaseOwner: "r1", LeaseTTL: time.Minute}
	must(t, tc.CommitTurn(ctx, turn))
	same(t, "leased from another owner", turn.Leased, false)
	xs, err := ob.Outbox(ctx, c.ID, 0)
	must(t, err)
	same(t, "committed without the lease", outKeys(xs), []string{"c"})
	if _, _, err := ol.OutboxDoneUnlease(ctx, c.ID, "c", "outbox:x", "r2"); err != nil {
		t.Fatal(err)
	}
	turn = &bot.TurnCommit{Conv: c, Out: []bot.Outgoing{outgoing(c, "d", now)}, Lease: "outbox:x", LeaseOwner: "r1", LeaseTTL: time.Minute}
	must(t, tc.CommitTurn(ctx, turn))
	if turn.Leased {
		ok, _, err := ol.LeaseOutbox(ctx, "outbox:x", "r2", time.Minute, c.ID, 16)
		must(t, err)
		same(t, "lease taken by the commit", ok, false)
	}
}
