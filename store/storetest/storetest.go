// Package storetest is the conformance suite of store.Store: every backend
// runs Run and passes. Each test is named for the contract sentence it checks.
//
// Expiry is tested without sleeping: the suite moves the stores' clock
// (Features.Clock, passed to the backend as its Now) into the past, writes,
// and moves it back, so the expiry instant is already over. A backend that
// expires by its own clock (Redis PEXPIREAT) and one that checks on read
// (embedded) must both forget the old data and keep the fresh.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store"
)

// Clock is a settable clock for Options.Now: the real time plus an offset,
// so a backend server's own clock and the store's agree until a test moves it.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the real time plus the offset, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off).UTC()
}

// Advance moves the clock by d (negative: into the past).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Reset makes the clock real again.
func (c *Clock) Reset() {
	c.mu.Lock()
	c.off = 0
	c.mu.Unlock()
}

// Features describe the backend under test.
type Features struct {
	// Clock is the Now of every store open returns. Required.
	Clock *Clock
	// Retention is the retention the stores are opened with. Required.
	Retention time.Duration
	// Reopen closes s and opens the same data again, as a restarted process
	// would. Required.
	Reopen func(t *testing.T, s store.Store) store.Store
	// Restart restarts the backend server, keeping its data; nil if there is
	// no server (the test is skipped).
	Restart func(t *testing.T)
	// Dump returns every key the backend holds for s, each with its whole
	// value as text (Redis: every key under s's prefix with its contents;
	// embedded: every key and value of every bucket). The customer-deletion
	// test searches it for the deleted customer. Required.
	Dump func(t *testing.T, s store.Store) []string
}

// Contenders is how many goroutines race in the concurrency tests.
const Contenders = 50

// Run runs the suite. open returns a store over fresh, empty data, closed
// when the test ends.
func Run(t *testing.T, f Features, open func(t *testing.T) store.Store) {
	if f.Clock == nil || f.Retention <= 0 || f.Reopen == nil || f.Dump == nil {
		t.Fatal("storetest: Features.Clock, Retention, Reopen and Dump are required")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer f.Clock.Reset()
			tc.fn(t, &f, open(t))
		})
	}
}

type suiteTest struct {
	name string
	fn   func(t *testing.T, f *Features, s store.Store)
}

var tests = []suiteTest{
	{"Conversation returns an error wrapping ErrNotFound for a missing id", testMissing},
	{"SaveConversation stores a new conversation at version 1 and Conversation reads it back", testCreateRead},
	{"SaveConversation with a stale version returns ErrConflict and leaves the record unchanged", testStale},
	{"SaveConversation of one version by 50 goroutines: exactly one wins, the rest get ErrConflict", testConcurrentSave},
	{"CustomerConversations lists a customer's conversations oldest first", testCustomerIndex},
	{"Transcript of a conversation without messages is empty, not an error", testEmptyTranscript},
	{"Transcript returns the last n messages oldest first, all if n <= 0", testTranscript},
	{"Append keeps order under concurrent appends to different conversations", testConcurrentAppendMany},
	{"Append loses nothing under concurrent appends to one conversation", testConcurrentAppendOne},
	{"FirstSeen is true for exactly one of 50 concurrent callers", testFirstSeen},
	{"FirstSeen forgets a key after its ttl", testFirstSeenTTL},
	{"Claim by 50 agents: exactly one wins, the rest get ErrClaimed", testConcurrentClaim},
	{"Claim removes the conversation from the queue; claiming again by the holder succeeds", testClaimQueue},
	{"Unclaim releases only the holder's claim; Held and Agents follow claims", testUnclaimHeld},
	{"Queue lists by priority high first, then age; Enqueue replaces; Dequeue of a missing entry is no error", testQueue},
	{"PutDoc versions documents, rejects a stale expect with ErrConflict, and keeps history", testDocs},
	{"Doc of a missing name returns ErrNotFound and DocVersion 0", testDocMissing},
	{"PutDoc by 50 goroutines with one expect: exactly one wins", testConcurrentPutDoc},
	{"A document written with Expires disappears, every version, once it passes; a later write without it keeps it", testDocExpires},
	{"Events returns since <= At < until, oldest first", testEvents},
	{"Lease is held by exactly one of 50 contenders; the holder renews; Unlease frees it", testLease},
	{"Lease expires after its ttl", testLeaseExpiry},
	{"Due hands each timer to exactly one of concurrent callers, earliest first", testTimers},
	{"Schedule replaces a timer of the same key; Cancel removes it", testTimerReplace},
	{"Retention expires idle conversations, transcripts, claims and index entries; fresh ones survive", testRetention},
	{"Retention drops events older than retention", testEventRetention},
	{"Data survives reopening the store", testReopen},
	{"Data survives a restart of the server", testRestart},
	{"Ping returns nil while the backend is reachable", testPing},
}

// ---- fixtures

var ctx = context.Background()

// conv returns a new conversation of customer cust, created at now.
func conv(name, cust string, now time.Time) *bot.Conversation {
	addr := bot.Address{Channel: "slack", Space: "T0001", Room: "C" + name, Thread: "1700000000.000100"}
	c := bot.NewConversation(addr, bot.Customer{ID: "slack:" + cust, Name: "Customer " + cust}, now)
	c.Lang = "en"
	return c
}

func msg(c *bot.Conversation, i int, role bot.Role, at time.Time) bot.Message {
	return bot.Message{ID: fmt.Sprintf("m%d", i), From: c.Address, Customer: c.Customer, Role: role,
		Text: fmt.Sprintf("message %d", i), At: at}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// same compares by JSON encoding, so equal times in different forms are equal.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// race runs fn(i) in n goroutines released together and waits for them.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// ---- conversations

func testMissing(t *testing.T, f *Features, s store.Store) {
	_, err := s.Conversation(ctx, "nope:x:y:z")
	if !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func testCreateRead(t *testing.T, f *Features, s store.Store) {
	c := conv("1", "u1", f.Clock.Now())
	c.Set("thread_ts", "1.2")
	c.Intent, c.Score = "billing", 0.75
	must(t, c.Transition(bot.StateQueued, bot.ReasonRequested, "", f.Clock.Now()))
	must(t, s.SaveConversation(ctx, c))
	if c.Version != 1 {
		t.Fatalf("version after first save = %d, want 1", c.Version)
	}
	got, err := s.Conversation(ctx, c.ID)
	must(t, err)
	same(t, "read back", got, c)
	got.Misses = 2
	must(t, s.SaveConversation(ctx, got))
	again, err := s.Conversation(ctx, c.ID)
	must(t, err)
	if again.Version != 2 || again.Misses != 2 {
		t.Fatalf("after update: version %d misses %d, want 2 2", again.Version, again.Misses)
	}
}

func testStale(t *testing.T, f *Features, s store.Store) {
	c := conv("1", "u1", f.Clock.Now())
	must(t, s.SaveConversation(ctx, c))
	a, _ := s.Conversation(ctx, c.ID)
	b, _ := s.Conversation(ctx, c.ID)
	a.Intent = "first"
	must(t, s.SaveConversation(ctx, a))
	b.Intent = "stale"
	if err := s.SaveConversation(ctx, b); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("stale save: err = %v, want ErrConflict", err)
	}
	if b.Version != 1 {
		t.Fatalf("failed save changed Version to %d", b.Version)
	}
	got, _ := s.Conversation(ctx, c.ID)
	if got.Intent != "first" || got.Version != 2 {
		t.Fatalf("stored %q v%d, want \"first\" v2", got.Intent, got.Version)
	}
	dup := conv("1", "u1", f.Clock.Now()) // version 0 again: a second "new" conversation
	if err := s.SaveConversation(ctx, dup); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("creating an existing conversation: err = %v, want ErrConflict", err)
	}
}

func testConcurrentSave(t *testing.T, f *Features, s store.Store) {
	c := conv("1", "u1", f.Clock.Now())
	must(t, s.SaveConversation(ctx, c))
	var mu sync.Mutex
	wins, conflicts := 0, 0
	var winner string
	race(Contenders, func(i int) {
		cc := *c
		cc.Intent = fmt.Sprint("writer", i)
		err := s.SaveConversation(ctx, &cc)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			wins++
			winner = cc.Intent
		case errors.Is(err, bot.ErrConflict):
			conflicts++
		default:
			t.Error(err)
		}
	})
	if wins != 1 || conflicts != Contenders-1 {
		t.Fatalf("wins %d conflicts %d, want 1 and %d", wins, conflicts, Contenders-1)
	}
	got, _ := s.Conversation(ctx, c.ID)
	if got.Intent != winner || got.Version != 2 {
		t.Fatalf("stored %q v%d, want the winner %q v2", got.Intent, got.Version, winner)
	}
}

func testCustomerIndex(t *testing.T, f *Features, s store.Store) {
	now := f.Clock.Now()
	var want []bot.ConversationID
	for i := range 3 { // saved newest first; listed oldest first
		c := conv(fmt.Sprint(i), "u1", now.Add(-time.Duration(i)*time.Minute))
		must(t, s.SaveConversation(ctx, c))
		must(t, s.SaveConversation(ctx, c)) // an update does not index twice
		want = append([]bot.ConversationID{c.ID}, want...)
	}
	must(t, s.SaveConversation(ctx, conv("other", "u2", now)))
	got, err := s.CustomerConversations(ctx, "slack:u1")
	must(t, err)
	same(t, "customer conversations", got, want)
	none, err := s.CustomerConversations(ctx, "slack:nobody")
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("unknown customer: %v", none)
	}
}

// ---- transcripts

func testEmptyTranscript(t *testing.T, f *Features, s store.Store) {
	for _, n := range []int{0, 5} {
		got, err := s.Transcript(ctx, "none:x:y:z", n)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Transcript(n=%d) = %#v, %v; want empty slice, nil", n, got, err)
		}
	}
}

func testTranscript(t *testing.T, f *Features, s store.Store) {
	c := conv("1", "u1", f.Clock.Now())
	var all []bot.Message
	for i := range 7 {
		m := msg(c, i, bot.RoleCustomer, f.Clock.Now())
		if i%2 == 1 {
			m = msg(c, i, bot.RoleBot, f.Clock.Now())
			m.Kind, m.Choices, m.Meta = bot.KindSuggest, []bot.Choice{{Label: "Yes", Value: "y"}}, map[string]string{"k": "v"}
		}
		all = append(all, m)
	}
	agent := msg(c, 7, bot.RoleAgent, f.Clock.Now())
	agent.From = bot.Address{Channel: "slack", Room: "CAGENTS", Thread: "42.1"}
	agent.Author, agent.Kind = "Alice", bot.KindAgent
	all = append(all, agent, bot.Message{ID: "zero", Text: "no address, no time"})
	must(t, s.Append(ctx, c.ID, all[:1]...))
	must(t, s.Append(ctx, c.ID, all[1:3]...))
	must(t, s.Append(ctx, c.ID, all[3:]...))
	must(t, s.Append(ctx, c.ID)) // nothing to append is fine
	for _, n := range []int{0, -1, 1, 3, len(all) - 1, len(all), len(all) + 5} {
		got, err := s.Transcript(ctx, c.ID, n)
		must(t, err)
		want := all
		if n > 0 && n < len(all) {
			want = all[len(all)-n:]
		}
		same(t, fmt.Sprintf("Transcript(n=%d)", n), got, want)
	}
}

func testConcurrentAppendMany(t *testing.T, f *Features, s store.Store) {
	const convs, per = 10, 20
	cs := make([]*bot.Conversation, convs)
	for i := range cs {
		cs[i] = conv(fmt.Sprint(i), fmt.Sprint("u", i), f.Clock.Now())
	}
	race(convs, func(i int) {
		for j := range per {
			if err := s.Append(ctx, cs[i].ID, msg(cs[i], j, bot.RoleCustomer, f.Clock.Now())); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i, c := range cs {
		got, err := s.Transcript(ctx, c.ID, 0)
		must(t, err)
		if len(got) != per {
			t.Fatalf("conversation %d: %d messages, want %d", i, len(got), per)
		}
		for j, m := range got {
			if m.ID != fmt.Sprintf("m%d", j) || m.Customer != c.Customer {
				t.Fatalf("conversation %d message %d = %s of %v", i, j, m.ID, m.Customer)
			}
		}
	}
}

func testConcurrentAppendOne(t *testing.T, f *Features, s store.Store) {
	const writers, per = 8, 10
	c := conv("1", "u1", f.Clock.Now())
	race(writers, func(i int) {
		for j := range per {
			m := msg(c, j, bot.RoleCustomer, f.Clock.Now())
			m.ID = fmt.Sprintf("w%d-%d", i, j)
			if err := s.Append(ctx, c.ID, m); err != nil {
				t.Error(err)
				return
			}
		}
	})
	got, err := s.Transcript(ctx, c.ID, 0)
	must(t, err)
	if len(got) != writers*per {
		t.Fatalf("%d messages, want %d", len(got), writers*per)
	}
	next := make([]int, writers) // each writer's messages stay in its order
	for _, m := range got {
		var w, j int
		fmt.Sscanf(m.ID, "w%d-%d", &w, &j)
		if j != next[w] {
			t.Fatalf("writer %d: message %d before %d", w, j, next[w])
		}
		next[w]++
	}
}

// ---- dedupe

func testFirstSeen(t *testing.T, f *Features, s store.Store) {
	for _, key := range []string{"slack:Ev001", "discord:123"} {
		var mu sync.Mutex
		firsts := 0
		race(Contenders, func(int) {
			first, err := s.FirstSeen(ctx, key, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
		if firsts != 1 {
			t.Fatalf("%s: %d callers saw it first, want 1", key, firsts)
		}
	}
}

func testFirstSeenTTL(t *testing.T, f *Features, s store.Store) {
	f.Clock.Advance(-2 * time.Minute)
	first, err := s.FirstSeen(ctx, "old", time.Minute) // its minute is over by now
	must(t, err)
	f.Clock.Reset()
	if !first {
		t.Fatal("first FirstSeen of old: false")
	}
	fresh, err := s.FirstSeen(ctx, "fresh", time.Hour)
	must(t, err)
	again, err := s.FirstSeen(ctx, "old", time.Hour)
	must(t, err)
	repeat, err := s.FirstSeen(ctx, "fresh", time.Hour)
	must(t, err)
	if !fresh || !again || repeat {
		t.Fatalf("fresh %v, expired key seen first again %v, fresh repeat %v; want true true false", fresh, again, repeat)
	}
}

// ---- claims and the queue

func testConcurrentClaim(t *testing.T, f *Features, s store.Store) {
	c := conv("1", "u1", f.Clock.Now())
	must(t, s.SaveConversation(ctx, c))
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: c.ID, Since: f.Clock.Now()}))
	var mu sync.Mutex
	var winners []string
	claimed := 0
	race(Contenders, func(i int) {
		agent := fmt.Sprint("web:agent", i)
		err := s.Claim(ctx, c.ID, agent)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			winners = append(winners, agent)
		case errors.Is(err, bot.ErrClaimed):
			claimed++
		default:
			t.Error(err)
		}
	})
	if len(winners) != 1 || claimed != Contenders-1 {
		t.Fatalf("winners %v, ErrClaimed %d; want one winner and %d", winners, claimed, Contenders-1)
	}
	if h, err := s.Holder(ctx, c.ID); err != nil || h != winners[0] {
		t.Fatalf("Holder = %q, %v; want %q", h, err, winners[0])
	}
	if q, err := s.Queue(ctx); err != nil || len(q) != 0 {
		t.Fatalf("queue after claim = %v, %v; want empty", q, err)
	}
}

func testClaimQueue(t *testing.T, f *Features, s store.Store) {
	now := f.Clock.Now()
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: "a", Since: now}))
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: "b", Since: now.Add(time.Second)}))
	must(t, s.Claim(ctx, "a", "web:alice"))
	q, err := s.Queue(ctx)
	must(t, err)
	if len(q) != 1 || q[0].Conv != "b" {
		t.Fatalf("queue after claiming a = %v, want [b]", q)
	}
	must(t, s.Claim(ctx, "a", "web:alice"))
	if err := s.Claim(ctx, "a", "web:bob"); !errors.Is(err, bot.ErrClaimed) {
		t.Fatalf("claim of a held conversation: %v, want ErrClaimed", err)
	}
	if h, _ := s.Holder(ctx, "b"); h != "" {
		t.Fatalf("Holder of unclaimed b = %q", h)
	}
}

func testUnclaimHeld(t *testing.T, f *Features, s store.Store) {
	must(t, s.PutAgent(ctx, handoff.Agent{ID: "web:bob", Name: "Bob", Status: handoff.On, Capacity: 2, Active: 7}))
	must(t, s.PutAgent(ctx, handoff.Agent{ID: "web:alice", Name: "Alice", Status: handoff.Away, Skills: []string{"billing"}}))
	must(t, s.Claim(ctx, "c2", "web:alice"))
	must(t, s.Claim(ctx, "c1", "web:alice"))
	must(t, s.Claim(ctx, "c3", "web:bob"))
	must(t, s.Unclaim(ctx, "c3", "web:alice")) // not the holder: nothing happens
	if h, _ := s.Holder(ctx, "c3"); h != "web:bob" {
		t.Fatalf("Unclaim by a non-holder released the claim: holder %q", h)
	}
	held, err := s.Held(ctx, "web:alice")
	must(t, err)
	same(t, "Held(alice)", held, []bot.ConversationID{"c1", "c2"})
	agents, err := s.Agents(ctx)
	must(t, err)
	same(t, "Agents", agents, []handoff.Agent{
		{ID: "web:alice", Name: "Alice", Status: handoff.Away, Skills: []string{"billing"}, Active: 2},
		{ID: "web:bob", Name: "Bob", Status: handoff.On, Capacity: 2, Active: 1}})
	must(t, s.Unclaim(ctx, "c1", "web:alice"))
	if h, _ := s.Holder(ctx, "c1"); h != "" {
		t.Fatalf("after Unclaim holder = %q", h)
	}
	held, _ = s.Held(ctx, "web:alice")
	same(t, "Held(alice) after Unclaim", held, []bot.ConversationID{"c2"})
	must(t, s.Claim(ctx, "c1", "web:bob")) // free again
	if held, _ := s.Held(ctx, "web:nobody"); len(held) != 0 {
		t.Fatalf("Held(nobody) = %v", held)
	}
}

func testQueue(t *testing.T, f *Features, s store.Store) {
	base := f.Clock.Now().Truncate(time.Second)
	entries := []handoff.Entry{
		{Conv: "low-old", Priority: 0, Since: base},
		{Conv: "high-new", Priority: 5, Since: base.Add(3 * time.Second), Skill: "billing", Lang: "de"},
		{Conv: "low-new", Priority: 0, Since: base.Add(2 * time.Second)},
		{Conv: "high-old", Priority: 5, Since: base.Add(time.Second)},
		{Conv: "neg", Priority: -1, Since: base.Add(-time.Hour)},
	}
	for _, e := range entries {
		must(t, s.Enqueue(ctx, e))
	}
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: "low-new", Priority: 0, Since: base.Add(-time.Second)})) // replaces
	must(t, s.Dequeue(ctx, "neg"))
	must(t, s.Dequeue(ctx, "never-queued"))
	q, err := s.Queue(ctx)
	must(t, err)
	var order []bot.ConversationID
	for _, e := range q {
		order = append(order, e.Conv)
	}
	same(t, "queue order", order, []bot.ConversationID{"high-old", "high-new", "low-new", "low-old"})
	same(t, "entry fields", q[1], entries[1])
}

// ---- docs

func testDocs(t *testing.T, f *Features, s store.Store) {
	d1, err := s.PutDoc(ctx, bot.Doc{Name: "kb", Data: []byte("v1 data"), Author: "alice", Note: "first"}, 0)
	must(t, err)
	if d1.Version != 1 || d1.At.IsZero() {
		t.Fatalf("first PutDoc = v%d at %v", d1.Version, d1.At)
	}
	d2, err := s.PutDoc(ctx, bot.Doc{Name: "kb", Data: []byte("v2 data"), Author: "bob"}, 1)
	must(t, err)
	if _, err := s.PutDoc(ctx, bot.Doc{Name: "kb", Data: []byte("stale")}, 1); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("stale PutDoc: %v, want ErrConflict", err)
	}
	if _, err := s.PutDoc(ctx, bot.Doc{Name: "kb", Data: []byte("ahead")}, 5); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("PutDoc ahead of the latest: %v, want ErrConflict", err)
	}
	d3, err := s.PutDoc(ctx, bot.Doc{Name: "kb", Data: []byte("v3 data"), Note: "third"}, 2)
	must(t, err)
	latest, err := s.Doc(ctx, "kb")
	must(t, err)
	same(t, "Doc", latest, d3)
	old, err := s.DocAt(ctx, "kb", 1)
	must(t, err)
	same(t, "DocAt(1)", old, d1)
	if v, err := s.DocVersion(ctx, "kb"); err != nil || v != 3 {
		t.Fatalf("DocVersion = %d, %v; want 3", v, err)
	}
	if _, err := s.DocAt(ctx, "kb", 4); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("DocAt(4): %v, want ErrNotFound", err)
	}
	if _, err := s.DocAt(ctx, "kb", 0); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("DocAt(0): %v, want ErrNotFound", err)
	}
	strip := func(d bot.Doc) bot.Doc { d.Data = nil; return d }
	hist, err := s.DocHistory(ctx, "kb", 2)
	must(t, err)
	same(t, "DocHistory(2)", hist, []bot.Doc{strip(d3), strip(d2)})
	hist, err = s.DocHistory(ctx, "kb", 0)
	must(t, err)
	same(t, "DocHistory(all)", hist, []bot.Doc{strip(d3), strip(d2), strip(d1)})
	if h, err := s.DocHistory(ctx, "none", 5); err != nil || len(h) != 0 {
		t.Fatalf("DocHistory(none) = %v, %v", h, err)
	}
}

func testDocMissing(t *testing.T, f *Features, s store.Store) {
	if _, err := s.Doc(ctx, "missing"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Doc: %v, want ErrNotFound", err)
	}
	if _, err := s.DocAt(ctx, "missing", 1); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("DocAt: %v, want ErrNotFound", err)
	}
	if v, err := s.DocVersion(ctx, "missing"); err != nil || v != 0 {
		t.Fatalf("DocVersion = %d, %v; want 0, nil", v, err)
	}
}

func testConcurrentPutDoc(t *testing.T, f *Features, s store.Store) {
	var mu sync.Mutex
	wins := 0
	race(Contenders, func(i int) {
		_, err := s.PutDoc(ctx, bot.Doc{Name: "settings", Data: []byte(fmt.Sprint(i))}, 0)
		if err != nil && !errors.Is(err, bot.ErrConflict) {
			t.Error(err)
		}
		if err == nil {
			mu.Lock()
			wins++
			mu.Unlock()
		}
	})
	if v, _ := s.DocVersion(ctx, "settings"); wins != 1 || v != 1 {
		t.Fatalf("wins %d, version %d; want 1 and 1", wins, v)
	}
}

// ---- events

func testEvents(t *testing.T, f *Features, s store.Store) {
	// Six events across the retention window: several days if it is long enough.
	base, step := f.Clock.Now().Add(-f.Retention+time.Hour), (f.Retention-2*time.Hour)/6
	var all []bot.Event
	for i := range 6 {
		e := bot.Event{At: base.Add(time.Duration(i) * step), Type: "message", Conv: "c1",
			Channel: "web", Value: float64(i), Meta: map[string]string{"i": fmt.Sprint(i)}}
		all = append(all, e)
	}
	all = append(all, bot.Event{At: all[2].At, Type: "duplicate-time"}, bot.Event{At: all[2].At, Type: "duplicate-time"})
	for _, i := range []int{3, 0, 5, 2, 1, 4, 6, 7} { // out of order
		must(t, s.RecordEvent(ctx, all[i]))
	}
	got, err := s.Events(ctx, all[1].At, all[4].At)
	must(t, err)
	var types []string
	for i, e := range got {
		if i > 0 && e.At.Before(got[i-1].At) {
			t.Fatalf("events not oldest first: %v before %v", got[i-1].At, e.At)
		}
		types = append(types, fmt.Sprint(e.Type, e.Value))
	}
	slices.Sort(types) // the order of events at the same instant is unspecified
	same(t, "Events[1,4)", types, []string{"duplicate-time0", "duplicate-time0", "message1", "message2", "message3"})
	same(t, "first event", got[0], all[1])
	got, err = s.Events(ctx, time.Time{}, f.Clock.Now().Add(time.Hour))
	must(t, err)
	if len(got) != len(all) {
		t.Fatalf("all events: %d, want %d", len(got), len(all))
	}
	if got, _ := s.Events(ctx, all[4].At, all[4].At); len(got) != 0 {
		t.Fatalf("empty range: %v", got)
	}
	must(t, s.RecordEvent(ctx, bot.Event{Type: "now"})) // At defaults to now
	got, _ = s.Events(ctx, f.Clock.Now().Add(-time.Minute), f.Clock.Now().Add(time.Minute))
	if len(got) != 1 || got[0].Type != "now" {
		t.Fatalf("event without At: %v", got)
	}
}

// ---- leases

func testLease(t *testing.T, f *Features, s store.Store) {
	var mu sync.Mutex
	var holders []string
	race(Contenders, func(i int) {
		owner := fmt.Sprint("replica", i)
		ok, err := s.Lease(ctx, "assigner", owner, time.Minute)
		if err != nil {
			t.Error(err)
		}
		if ok {
			mu.Lock()
			holders = append(holders, owner)
			mu.Unlock()
		}
	})
	if len(holders) != 1 {
		t.Fatalf("holders %v, want exactly one", holders)
	}
	h := holders[0]
	if ok, _ := s.Lease(ctx, "assigner", h, time.Minute); !ok {
		t.Fatal("the holder could not renew")
	}
	if ok, _ := s.Lease(ctx, "assigner", "intruder", time.Minute); ok {
		t.Fatal("another owner took a held lease")
	}
	if ok, _ := s.Lease(ctx, "shard-1", "intruder", time.Minute); !ok {
		t.Fatal("a different lease name is independent")
	}
	must(t, s.Unlease(ctx, "assigner", "intruder")) // not the holder: no effect
	if ok, _ := s.Lease(ctx, "assigner", "intruder", time.Minute); ok {
		t.Fatal("Unlease by a non-holder freed the lease")
	}
	must(t, s.Unlease(ctx, "assigner", h))
	if ok, _ := s.Lease(ctx, "assigner", "intruder", time.Minute); !ok {
		t.Fatal("lease not free after Unlease")
	}
}

func testLeaseExpiry(t *testing.T, f *Features, s store.Store) {
	f.Clock.Advance(-2 * time.Minute)
	ok, err := s.Lease(ctx, "shard-0", "old", time.Minute) // over a minute ago
	must(t, err)
	f.Clock.Reset()
	if !ok {
		t.Fatal("first lease failed")
	}
	if ok, _ := s.Lease(ctx, "shard-0", "new", time.Minute); !ok {
		t.Fatal("an expired lease was not free")
	}
	if ok, _ := s.Lease(ctx, "shard-0", "old", time.Minute); ok {
		t.Fatal("the old owner took the lease back")
	}
}

// ---- timers

func testTimers(t *testing.T, f *Features, s store.Store) {
	now := f.Clock.Now()
	const due, future = 60, 5
	for i := range due + future {
		at := now.Add(-time.Duration(due-i) * time.Second)
		if i >= due {
			at = at.Add(time.Second) // in the future
		}
		must(t, s.Schedule(ctx, bot.Timer{Key: fmt.Sprint("t", i), At: at, Kind: "sla", Conv: "c1", Payload: fmt.Sprint(i)}))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	race(8, func(int) {
		for {
			ts, err := s.Due(ctx, now, 7)
			if err != nil {
				t.Error(err)
				return
			}
			if len(ts) == 0 {
				return
			}
			if len(ts) > 7 {
				t.Errorf("Due(n=7) returned %d", len(ts))
			}
			for i, tm := range ts {
				if tm.At.After(now) {
					t.Errorf("timer %s at %v is not due at %v", tm.Key, tm.At, now)
				}
				if i > 0 && tm.At.Before(ts[i-1].At) {
					t.Errorf("batch not earliest first: %v", ts)
				}
			}
			mu.Lock()
			for _, tm := range ts {
				seen[tm.Key]++
			}
			mu.Unlock()
		}
	})
	if len(seen) != due {
		t.Fatalf("%d distinct timers fired, want %d", len(seen), due)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("timer %s fired %d times", k, n)
		}
	}
	rest, err := s.Due(ctx, now.Add(time.Hour), 0)
	must(t, err)
	if len(rest) != future || rest[0].Key != fmt.Sprint("t", due) || rest[0].Payload != fmt.Sprint(due) {
		t.Fatalf("future timers: %v", rest)
	}
}

func testTimerReplace(t *testing.T, f *Features, s store.Store) {
	now := f.Clock.Now()
	must(t, s.Schedule(ctx, bot.Timer{Key: "a", At: now.Add(-time.Minute), Kind: "first"}))
	must(t, s.Schedule(ctx, bot.Timer{Key: "a", At: now.Add(time.Minute), Kind: "moved"}))
	must(t, s.Schedule(ctx, bot.Timer{Key: "b", At: now.Add(-time.Minute), Kind: "cancelled"}))
	must(t, s.Cancel(ctx, "b"))
	must(t, s.Cancel(ctx, "never"))
	if ts, _ := s.Due(ctx, now, 10); len(ts) != 0 {
		t.Fatalf("Due now = %v, want none (a moved, b cancelled)", ts)
	}
	ts, err := s.Due(ctx, now.Add(2*time.Minute), 10)
	must(t, err)
	if len(ts) != 1 || ts[0].Kind != "moved" {
		t.Fatalf("Due later = %v, want the moved a", ts)
	}
}

// ---- retention

func testRetention(t *testing.T, f *Features, s store.Store) {
	f.Clock.Advance(-f.Retention - time.Hour) // everything written now has expired by the real now
	old := conv("old", "u1", f.Clock.Now())
	must(t, s.SaveConversation(ctx, old))
	must(t, s.Append(ctx, old.ID, msg(old, 0, bot.RoleCustomer, f.Clock.Now())))
	must(t, s.Claim(ctx, old.ID, "web:alice"))
	f.Clock.Reset()
	fresh := conv("fresh", "u1", f.Clock.Now())
	must(t, s.SaveConversation(ctx, fresh))
	must(t, s.Append(ctx, fresh.ID, msg(fresh, 0, bot.RoleCustomer, f.Clock.Now())))
	must(t, s.Claim(ctx, fresh.ID, "web:alice"))

	if _, err := s.Conversation(ctx, old.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("expired conversation: %v, want ErrNotFound", err)
	}
	if tr, err := s.Transcript(ctx, old.ID, 0); err != nil || len(tr) != 0 {
		t.Fatalf("expired transcript: %v, %v", tr, err)
	}
	if h, _ := s.Holder(ctx, old.ID); h != "" {
		t.Fatalf("expired claim still held by %q", h)
	}
	ids, err := s.CustomerConversations(ctx, "slack:u1")
	must(t, err)
	same(t, "customer index", ids, []bot.ConversationID{fresh.ID})
	held, err := s.Held(ctx, "web:alice")
	must(t, err)
	same(t, "held", held, []bot.ConversationID{fresh.ID})
	if c, err := s.Conversation(ctx, fresh.ID); err != nil || c.Version != 1 {
		t.Fatalf("fresh conversation: %v, %v", c, err)
	}
	if tr, _ := s.Transcript(ctx, fresh.ID, 0); len(tr) != 1 {
		t.Fatalf("fresh transcript: %v", tr)
	}
	// The same address starts over as a new conversation.
	again := conv("old", "u1", f.Clock.Now())
	must(t, s.SaveConversation(ctx, again))
	if tr, _ := s.Transcript(ctx, again.ID, 0); len(tr) != 0 {
		t.Fatalf("a new conversation at an expired address inherited %d messages", len(tr))
	}
}

func testDocExpires(t *testing.T, f *Features, s store.Store) {
	f.Clock.Advance(-2 * time.Hour) // written "2 h ago": exp passed "1 h ago", in3h is due in 1 h
	exp, in3h := f.Clock.Now().Add(time.Hour), f.Clock.Now().Add(3*time.Hour)
	_, err := s.PutDoc(ctx, bot.Doc{Name: "slack.thread/C1/1", Data: []byte("conv-1")}, 0)
	must(t, err)
	_, err = s.PutDoc(ctx, bot.Doc{Name: "slack.thread/C1/1", Data: []byte("conv-1b"), Expires: exp}, 1)
	must(t, err)
	_, err = s.PutDoc(ctx, bot.Doc{Name: "kept", Data: []byte("k1"), Expires: in3h}, 0)
	must(t, err)
	_, err = s.PutDoc(ctx, bot.Doc{Name: "kept", Data: []byte("k2")}, 1) // no Expires: kept for good
	must(t, err)
	_, err = s.PutDoc(ctx, bot.Doc{Name: "later", Data: []byte("l1"), Expires: in3h}, 0)
	must(t, err)
	f.Clock.Reset()

	if _, err := s.Doc(ctx, "slack.thread/C1/1"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("expired Doc: %v, want ErrNotFound", err)
	}
	if _, err := s.DocAt(ctx, "slack.thread/C1/1", 1); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("expired DocAt(1): %v, want ErrNotFound", err)
	}
	if v, err := s.DocVersion(ctx, "slack.thread/C1/1"); err != nil || v != 0 {
		t.Fatalf("expired DocVersion = %d, %v; want 0", v, err)
	}
	if h, err := s.DocHistory(ctx, "slack.thread/C1/1", 0); err != nil || len(h) != 0 {
		t.Fatalf("expired DocHistory = %v, %v; want none", h, err)
	}
	// The name starts over at version 1, with no old version left.
	d, err := s.PutDoc(ctx, bot.Doc{Name: "slack.thread/C1/1", Data: []byte("conv-2")}, 0)
	must(t, err)
	if h, _ := s.DocHistory(ctx, d.Name, 0); d.Version != 1 || len(h) != 1 {
		t.Fatalf("rewritten after expiry: version %d, history %v; want version 1 alone", d.Version, h)
	}
	for name, want := range map[string]string{"kept": "k2", "later": "l1"} {
		if got, err := s.Doc(ctx, name); err != nil || string(got.Data) != want {
			t.Errorf("Doc(%s) = %q, %v; want %q", name, got.Data, err, want)
		}
	}
	if v, _ := s.DocVersion(ctx, "kept"); v != 2 {
		t.Errorf("DocVersion(kept) = %d, want 2", v)
	}
}

func testEventRetention(t *testing.T, f *Features, s store.Store) {
	now := f.Clock.Now()
	must(t, s.RecordEvent(ctx, bot.Event{At: now.Add(-f.Retention - time.Hour), Type: "old"}))
	must(t, s.RecordEvent(ctx, bot.Event{At: now.Add(-f.Retention + time.Hour), Type: "kept"}))
	got, err := s.Events(ctx, time.Time{}, now.Add(time.Hour))
	must(t, err)
	if len(got) != 1 || got[0].Type != "kept" {
		t.Fatalf("events = %v, want only the one younger than retention", got)
	}
}

// ---- durability

// fill writes one of everything; check reads it all back.
func fill(t *testing.T, f *Features, s store.Store) (check func(t *testing.T, s store.Store)) {
	now := f.Clock.Now()
	c := conv("durable", "u1", now)
	must(t, s.SaveConversation(ctx, c))
	msgs := []bot.Message{msg(c, 0, bot.RoleCustomer, now), msg(c, 1, bot.RoleBot, now)}
	must(t, s.Append(ctx, c.ID, msgs...))
	_, err := s.FirstSeen(ctx, "slack:Ev9", time.Hour)
	must(t, err)
	d, err := s.PutDoc(ctx, bot.Doc{Name: "kb", Data: []byte("faq")}, 0)
	must(t, err)
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: "queued", Priority: 1, Since: now}))
	must(t, s.Claim(ctx, c.ID, "web:alice"))
	must(t, s.PutAgent(ctx, handoff.Agent{ID: "web:alice", Name: "Alice"}))
	must(t, s.Schedule(ctx, bot.Timer{Key: "sla", At: now.Add(-time.Second), Kind: "sla"}))
	ev := bot.Event{At: now, Type: "handoff", Conv: c.ID}
	must(t, s.RecordEvent(ctx, ev))
	ok, err := s.Lease(ctx, "assigner", "replica1", time.Hour)
	must(t, err)
	if !ok {
		t.Fatal("lease")
	}
	return func(t *testing.T, s store.Store) {
		got, err := s.Conversation(ctx, c.ID)
		must(t, err)
		same(t, "conversation", got, c)
		tr, err := s.Transcript(ctx, c.ID, 0)
		must(t, err)
		same(t, "transcript", tr, msgs)
		if first, err := s.FirstSeen(ctx, "slack:Ev9", time.Hour); err != nil || first {
			t.Fatalf("dedupe key forgotten: %v %v", first, err)
		}
		gd, err := s.Doc(ctx, "kb")
		must(t, err)
		same(t, "doc", gd, d)
		q, _ := s.Queue(ctx)
		if len(q) != 1 || q[0].Conv != "queued" {
			t.Fatalf("queue: %v", q)
		}
		if h, _ := s.Holder(ctx, c.ID); h != "web:alice" {
			t.Fatalf("holder %q", h)
		}
		if a, _ := s.Agents(ctx); len(a) != 1 || a[0].Active != 1 {
			t.Fatalf("agents %v", a)
		}
		if ts, _ := s.Due(ctx, f.Clock.Now(), 10); len(ts) != 1 || ts[0].Key != "sla" {
			t.Fatalf("timers %v", ts)
		}
		evs, _ := s.Events(ctx, now.Add(-time.Minute), now.Add(time.Minute))
		if len(evs) != 1 {
			t.Fatalf("events %v", evs)
		}
		same(t, "event", evs[0], ev)
		if ok, _ := s.Lease(ctx, "assigner", "replica2", time.Hour); ok {
			t.Fatal("lease lost")
		}
		if ids, _ := s.CustomerConversations(ctx, "slack:u1"); !slices.Equal(ids, []bot.ConversationID{c.ID}) {
			t.Fatalf("customer index %v", ids)
		}
	}
}

func testReopen(t *testing.T, f *Features, s store.Store) {
	check := fill(t, f, s)
	s = f.Reopen(t, s)
	check(t, s)
}

func testRestart(t *testing.T, f *Features, s store.Store) {
	if f.Restart == nil {
		t.Skip("the backend has no server to restart")
	}
	check := fill(t, f, s)
	f.Restart(t)
	check(t, s) // the same store reconnects
}

func testPing(t *testing.T, f *Features, s store.Store) {
	must(t, s.Ping(ctx))
}

// ---- benchmarks

// BenchmarkMessagePath measures the per-message store work of the engine:
// load the conversation, append the customer's message and the reply, save.
func BenchmarkMessagePath(b *testing.B, s store.Store) {
	now := time.Now().UTC()
	c := conv("bench", "u1", now)
	if err := s.SaveConversation(ctx, c); err != nil {
		b.Fatal(err)
	}
	in, out := msg(c, 0, bot.RoleCustomer, now), msg(c, 1, bot.RoleBot, now)
	in.Text, out.Text = "Hi, where is my order #12345?", "Your order shipped yesterday; tracking: https://example.com/t/1Z999"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cc, err := s.Conversation(ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Append(ctx, c.ID, in, out); err != nil {
			b.Fatal(err)
		}
		cc.Intent, cc.Updated = "order_status", time.Now().UTC()
		if err := s.SaveConversation(ctx, cc); err != nil {
			b.Fatal(err)
		}
	}
}
