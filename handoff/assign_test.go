package handoff_test

import (
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

func TestLeastLoadedSelector(t *testing.T) {
	agents := []handoff.Agent{
		{ID: "a", Status: handoff.On, Capacity: 3, Active: 2, Skills: []string{"billing"}, Langs: []string{"en", "nb"}},
		{ID: "b", Status: handoff.On, Capacity: 2, Active: 1, Skills: []string{"Billing", "tech"}},
		{ID: "c", Status: handoff.Away, Capacity: 5, Active: 0, Skills: []string{"billing"}},
		{ID: "d", Status: handoff.On, Capacity: 0, Active: 1, Skills: []string{"billing"}}, // 0 means 1: full
		{ID: "e", Status: handoff.On, Capacity: 4, Active: 1, Skills: []string{"tech"}, Langs: []string{"sv"}},
		{ID: "f", Status: handoff.On, Capacity: 1, Active: 0, Langs: []string{"sr"}},
	}
	cases := []struct {
		name string
		e    handoff.Entry
		want string
	}{
		{"fewest held wins", handoff.Entry{}, "f"},
		{"skill, case-insensitive", handoff.Entry{Skill: "billing"}, "b"},
		{"skill and language", handoff.Entry{Skill: "billing", Lang: "nb-NO"}, "b"}, // b lists no languages: takes all
		{"tie on held: more free capacity", handoff.Entry{Skill: "tech"}, "e"},
		{"language", handoff.Entry{Skill: "tech", Lang: "sv"}, "e"},
		{"croatian reads serbian", handoff.Entry{Lang: "hr"}, "f"},
		{"nobody has the skill", handoff.Entry{Skill: "legal"}, ""},
		{"nobody speaks it", handoff.Entry{Skill: "tech", Lang: "fi"}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := handoff.LeastLoaded{}.Select(agents, tc.e)
			id := ""
			if got != nil {
				id = got.ID
			}
			if id != tc.want {
				t.Errorf("Select(%+v) = %q, want %q", tc.e, id, tc.want)
			}
		})
	}
}

func TestAssignRoutingPicksTheLeastLoadedMatchingAgentWithinCapacity(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{Routing: handoff.Assign}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 2, "billing")
		r.agent("web:bob", "Bob", 1, "billing")
		r.agent("web:carol", "Carol", 5, "shipping")
		dave := handoff.Agent{ID: "web:dave", Name: "Dave", Capacity: 5, Skills: []string{"billing"}}
		if err := r.desk.SetStatus(ctx, dave, handoff.Away); err != nil {
			t.Fatal(err)
		}
		// Alice already helps someone.
		r.send("old", "human")
		if err := r.desk.Claim(ctx, r.id("old"), alice); err != nil {
			t.Fatal(err)
		}
		r.runDesk()

		r.send("c1", "billing: invoice is wrong")
		if c := r.conv("c1"); c.State != bot.StateAgent || c.Agent != "web:bob" {
			t.Fatalf("c1: state %s agent %q; want Bob (holds nothing)", c.State, c.Agent)
		}
		if got := r.last("c1"); got != "Bob has joined the conversation." {
			t.Errorf("c1 told %q", got)
		}
		a := r.ws.For(r.id("c1"), "announce")
		if len(a) != 1 || a[0].Card.Agent != "web:bob" || a[0].Card.State != bot.StateAgent {
			t.Errorf("c1's card was not announced to Bob: %+v", a)
		}

		r.send("c2", "billing: refund please")
		if c := r.conv("c2"); c.Agent != "web:alice" {
			t.Fatalf("c2: agent %q; want Alice (Bob is full)", c.Agent)
		}
		r.send("c3", "billing: charged twice")
		if c := r.conv("c3"); c.State != bot.StateQueued {
			t.Fatalf("c3: state %s agent %q; want to wait (Alice and Bob are full, Carol lacks the skill, Dave is away)", c.State, c.Agent)
		}
		if n := len(r.ws.For(r.id("c3"), "announce")); n != 0 {
			t.Errorf("assign routing broadcast c3's card %d times", n)
		}

		if err := r.desk.Resolve(ctx, r.id("c1"), handoff.Agent{ID: "web:bob"}); err != nil {
			t.Fatal(err)
		}
		settle()
		if c := r.conv("c3"); c.Agent != "web:bob" {
			t.Errorf("c3: agent %q after Bob freed up; want Bob", c.Agent)
		}
		if err := r.desk.SetStatus(ctx, dave, handoff.On); err != nil {
			t.Fatal(err)
		}
		r.send("c4", "billing: where is my invoice")
		if c := r.conv("c4"); c.Agent != "web:dave" {
			t.Errorf("c4: agent %q; want Dave, back on duty", c.Agent)
		}
		agents, err := r.desk.Agents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range agents {
			if a.Active > max(a.Capacity, 1) {
				t.Errorf("%s holds %d, over capacity %d", a.ID, a.Active, a.Capacity)
			}
		}
	})
}

func TestAssignDoesNotHandAReleasedConversationBackToTheSameAgent(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{Routing: handoff.Assign}, rigOpt{})
		r.agent("web:alice", "Alice", 1)
		r.runDesk()
		r.send("ann", "human")
		if c := r.conv("ann"); c.Agent != "web:alice" {
			t.Fatalf("ann went to %q", c.Agent)
		}
		r.agent("web:bob", "Bob", 1)
		if err := r.desk.Release(ctx, r.id("ann"), handoff.Agent{ID: "web:alice"}); err != nil {
			t.Fatal(err)
		}
		settle()
		if c := r.conv("ann"); c.Agent != "web:bob" {
			t.Errorf("released conversation went to %q; want Bob, not Alice who released it", c.Agent)
		}
	})
}

func TestSetStatusKeepsWhatTheCallerLeftOut(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.agent("slack:U1", "Alice", 3, "billing")
		if err := r.desk.SetStatus(ctx, handoff.Agent{ID: "slack:U1"}, handoff.Away); err != nil {
			t.Fatal(err)
		}
		agents, err := r.desk.Agents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(agents) != 1 {
			t.Fatalf("agents %+v", agents)
		}
		if a := agents[0]; a.Status != handoff.Away || a.Name != "Alice" || a.Capacity != 3 || len(a.Skills) != 1 {
			t.Errorf("after a status-only change: %+v", a)
		}
	})
}

func TestAssignShowsAnUnassignableCardToEveryoneWhenTheSLARemindFires(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{Routing: handoff.Assign, RenotifyAfter: 5 * time.Minute}, rigOpt{})
		r.agent("web:carol", "Carol", 5, "shipping")
		r.runDesk()
		r.send("ann", "billing: wrong invoice")
		if n := len(r.ws.Calls("announce")); n != 0 {
			t.Fatalf("%d announcements before anyone fits", n)
		}
		time.Sleep(6 * time.Minute)
		a := r.ws.For(r.id("ann"), "announce")
		rem := r.ws.For(r.id("ann"), "remind")
		if len(a) != 1 || a[0].Card.Agent != "" || len(rem) != 1 || rem[0].Card.Refs["post"] == "" {
			t.Errorf("announcements %+v reminders %+v; want the card shown to all, then the reminder on it", a, rem)
		}
	})
}
