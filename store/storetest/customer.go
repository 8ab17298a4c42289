package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store"
)

func init() {
	tests = append(tests,
		suiteTest{"ExportCustomer returns the conversations, transcripts, claims, queue entries, timers and events of one customer only", testExportCustomer},
		suiteTest{"DeleteCustomer leaves no key or value naming the customer or its conversations; other customers keep theirs", testDeleteCustomer},
		suiteTest{"ExportCustomer and DeleteCustomer of an unknown customer are empty and no error", testUnknownCustomer},
	)
}

// secret marks every ID of the customer to delete, so a dump of the whole
// backend can be searched for it.
const secret = "Zq7xK"

type customerFixture struct {
	convs    []*bot.Conversation // the customer's conversations
	other    *bot.Conversation   // another customer's, which must survive
	msgs     map[bot.ConversationID][]bot.Message
	timers   []bot.Timer
	events   []bot.Event
	otherEvt bot.Event
}

// fillCustomer stores two live conversations of customer "web:"+secret
// (one queued, one claimed, with messages, timers and events) and an expired
// one whose event remains, and a conversation of another customer.
func fillCustomer(t *testing.T, f *Features, s store.Store) *customerFixture {
	t.Helper()
	now := f.Clock.Now()
	fx := &customerFixture{msgs: map[bot.ConversationID][]bot.Message{}}
	newConv := func(room, cust string, at time.Time) *bot.Conversation {
		c := bot.NewConversation(bot.Address{Channel: "web", Room: room}, bot.Customer{ID: "web:" + cust, Name: "N " + cust, Email: cust + "@example.com"}, at)
		must(t, s.SaveConversation(ctx, c))
		ms := []bot.Message{
			{ID: room + "-1", From: c.Address, Customer: c.Customer, Role: bot.RoleCustomer, Text: "my email is " + cust + "@example.com", At: at},
			{ID: room + "-2", From: c.Address, Role: bot.RoleBot, Text: "thanks", At: at},
		}
		must(t, s.Append(ctx, c.ID, ms...))
		fx.msgs[c.ID] = ms
		return c
	}
	// An old conversation whose records expired: its index entry may remain.
	f.Clock.Advance(-f.Retention - time.Hour)
	expired := newConv(secret+"-old", secret, f.Clock.Now())
	f.Clock.Reset()
	a := newConv(secret+"-a", secret, now.Add(-time.Minute))
	b := newConv(secret+"-b", secret, now)
	fx.convs = []*bot.Conversation{a, b}
	fx.other = newConv("Bob9-room", "Bob9", now)

	must(t, s.Claim(ctx, b.ID, "web:alice"))
	must(t, s.Claim(ctx, fx.other.ID, "web:alice"))
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: a.ID, Priority: 1, Since: now, Lang: "en"}))
	must(t, s.Enqueue(ctx, handoff.Entry{Conv: fx.other.ID, Since: now}))
	must(t, s.PutAgent(ctx, handoff.Agent{ID: "web:alice", Name: "Alice", Status: handoff.On, Capacity: 3}))
	fx.timers = []bot.Timer{
		{Key: "sla:" + string(a.ID), At: now.Add(time.Hour), Kind: "sla", Conv: a.ID, Payload: "1"},
		{Key: "followup:" + string(b.ID), At: now.Add(2 * time.Hour), Kind: "followup", Conv: b.ID},
	}
	for _, tm := range fx.timers {
		must(t, s.Schedule(ctx, tm))
	}
	must(t, s.Schedule(ctx, bot.Timer{Key: "sla:" + string(fx.other.ID), At: now.Add(time.Hour), Kind: "sla", Conv: fx.other.ID}))
	fx.events = []bot.Event{
		// Recorded while the expired conversation was live: only its
		// Customer field still links it to the customer.
		{At: now.Add(-2 * time.Minute), Type: "unanswered", Conv: expired.ID, Customer: expired.Customer.ID, Text: "old question"},
		{At: now.Add(-time.Minute), Type: "unanswered", Conv: a.ID, Channel: "web", Text: "where is my parcel " + secret},
		{At: now, Type: "handoff", Conv: a.ID, Reason: bot.ReasonRequested},
		{At: now, Type: "csat_comment", Conv: b.ID, Agent: "web:alice", Text: "great"},
	}
	for _, e := range fx.events {
		must(t, s.RecordEvent(ctx, e))
	}
	fx.otherEvt = bot.Event{At: now, Type: "handoff", Conv: fx.other.ID}
	must(t, s.RecordEvent(ctx, fx.otherEvt))
	_, err := s.FirstSeen(ctx, "web:ev-1", time.Hour)
	must(t, err)
	return fx
}

func testExportCustomer(t *testing.T, f *Features, s store.Store) {
	fx := fillCustomer(t, f, s)
	d, err := s.ExportCustomer(ctx, "web:"+secret)
	must(t, err)
	if d.CustomerID != "web:"+secret {
		t.Errorf("customer ID %q", d.CustomerID)
	}
	if len(d.Conversations) != 2 {
		t.Fatalf("%d conversations, want the 2 live ones: %v", len(d.Conversations), d.IDs())
	}
	for i, c := range d.Conversations {
		want := fx.convs[i]
		if c.Record.ID != want.ID || c.Record.Customer.Email != want.Customer.Email {
			t.Fatalf("conversation %d: %+v, want %s", i, c.Record, want.ID)
		}
		same(t, "transcript of "+string(want.ID), c.Transcript, fx.msgs[want.ID])
	}
	if q := d.Conversations[0].Queue; q == nil || q.Conv != fx.convs[0].ID || q.Priority != 1 {
		t.Errorf("queue entry of the first conversation: %+v", q)
	}
	if d.Conversations[1].Queue != nil || d.Conversations[1].Holder != "web:alice" {
		t.Errorf("second conversation: queue %+v, holder %q; want no entry and web:alice", d.Conversations[1].Queue, d.Conversations[1].Holder)
	}
	slices.SortFunc(d.Timers, func(a, b bot.Timer) int { return strings.Compare(a.Key, b.Key) })
	want := slices.Clone(fx.timers)
	slices.SortFunc(want, func(a, b bot.Timer) int { return strings.Compare(a.Key, b.Key) })
	same(t, "timers", d.Timers, want)
	slices.SortStableFunc(d.Events, func(a, b bot.Event) int { return a.At.Compare(b.At) })
	if len(d.Events) != len(fx.events) {
		t.Fatalf("%d events, want %d: %+v", len(d.Events), len(fx.events), d.Events)
	}
	for _, e := range d.Events {
		if e.Conv == fx.other.ID {
			t.Fatalf("export contains another customer's event %+v", e)
		}
	}
}

func testDeleteCustomer(t *testing.T, f *Features, s store.Store) {
	fx := fillCustomer(t, f, s)
	if ob, ok := s.(bot.OutboxStore); ok {
		// A reply waiting in the outbox names the customer's conversation too.
		c, err := s.Conversation(ctx, fx.convs[0].ID)
		must(t, err)
		must(t, ob.Commit(ctx, c, nil, []bot.Outgoing{outgoing(c, "pending-"+secret, f.Clock.Now())}))
	}
	before := f.Dump(t, s)
	if !mentions(before, secret) {
		t.Fatalf("the dump does not show the customer before deletion (%d keys): Dump is broken", len(before))
	}
	must(t, s.DeleteCustomer(ctx, "web:"+secret))
	after := f.Dump(t, s)
	var left []string
	for _, kv := range after {
		if strings.Contains(kv, secret) {
			left = append(left, kv)
		}
	}
	if len(left) > 0 {
		t.Fatalf("%d of %d keys still name the customer or its conversations after DeleteCustomer:\n%s",
			len(left), len(after), strings.Join(left, "\n"))
	}
	t.Logf("%d keys before, %d after; none names the customer", len(before), len(after))

	// Through the API too.
	for _, c := range fx.convs {
		if _, err := s.Conversation(ctx, c.ID); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("conversation %s: %v, want ErrNotFound", c.ID, err)
		}
		if tr, err := s.Transcript(ctx, c.ID, 0); err != nil || len(tr) != 0 {
			t.Errorf("transcript %s: %d messages, %v", c.ID, len(tr), err)
		}
		if h, err := s.Holder(ctx, c.ID); err != nil || h != "" {
			t.Errorf("holder of %s: %q, %v", c.ID, h, err)
		}
	}
	if ids, err := s.CustomerConversations(ctx, "web:"+secret); err != nil || len(ids) != 0 {
		t.Errorf("customer index: %v, %v", ids, err)
	}
	d, err := s.ExportCustomer(ctx, "web:"+secret)
	must(t, err)
	if !d.Empty() {
		t.Errorf("export after delete: %+v", d)
	}
	// The other customer keeps everything.
	got, err := s.Conversation(ctx, fx.other.ID)
	must(t, err)
	same(t, "other conversation", got, fx.other)
	tr, err := s.Transcript(ctx, fx.other.ID, 0)
	must(t, err)
	same(t, "other transcript", tr, fx.msgs[fx.other.ID])
	if q, _ := s.Queue(ctx); len(q) != 1 || q[0].Conv != fx.other.ID {
		t.Errorf("queue %v, want only the other customer's entry", q)
	}
	if held, _ := s.Held(ctx, "web:alice"); !slices.Equal(held, []bot.ConversationID{fx.other.ID}) {
		t.Errorf("held %v, want only the other customer's", held)
	}
	if a, _ := s.Agents(ctx); len(a) != 1 || a[0].Active != 1 {
		t.Errorf("agents %+v, want alice with 1 active", a)
	}
	now := f.Clock.Now()
	evs, err := s.Events(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	must(t, err)
	if len(evs) != 1 || evs[0].Conv != fx.other.ID {
		t.Errorf("events %+v, want only the other customer's", evs)
	}
	due, err := s.Due(ctx, now.Add(3*time.Hour), 0)
	must(t, err)
	if len(due) != 1 || due[0].Conv != fx.other.ID {
		t.Errorf("timers %+v, want only the other customer's", due)
	}
	if first, _ := s.FirstSeen(ctx, "web:ev-1", time.Hour); first {
		t.Error("an unrelated dedupe key was deleted")
	}
	// Deleting again is no error.
	must(t, s.DeleteCustomer(ctx, "web:"+secret))
}

func testUnknownCustomer(t *testing.T, f *Features, s store.Store) {
	d, err := s.ExportCustomer(ctx, "web:nobody")
	must(t, err)
	if !d.Empty() || d.CustomerID != "web:nobody" {
		t.Errorf("export of an unknown customer: %+v", d)
	}
	must(t, s.DeleteCustomer(ctx, "web:nobody"))
}

func mentions(kvs []string, s string) bool {
	for _, kv := range kvs {
		if strings.Contains(kv, s) {
			return true
		}
	}
	return false
}
