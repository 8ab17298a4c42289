package handoff_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

func TestClaimIsAtomicAcrossReplicas(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		other := r.replica(handoff.Config{})
		r.send("ann", "human")
		desks := []*handoff.Desk{r.desk, other.desk}
		errs := make([]error, 50)
		var wg sync.WaitGroup
		for i := range errs {
			a := r.agent(fmt.Sprintf("web:a%02d", i), fmt.Sprintf("Agent %d", i), 1)
			wg.Go(func() { errs[i] = desks[i%2].Claim(ctx, r.id("ann"), a) })
		}
		wg.Wait()
		settle()
		winners := 0
		for _, err := range errs {
			if err == nil {
				winners++
			} else if !errors.Is(err, bot.ErrClaimed) {
				t.Errorf("loser: %v", err)
			}
		}
		if winners != 1 {
			t.Fatalf("%d winners across two replicas, want 1", winners)
		}
		joined := 0
		for _, s := range r.ch.Sent("ann") {
			if s.Reply.Meta["event"] == "joined" {
				joined++
			}
		}
		if joined != 1 || len(r.events(handoff.EventClaim)) != 1 {
			t.Errorf("customer told %d times that an agent joined; %d claim events", joined, len(r.events(handoff.EventClaim)))
		}
		c := r.conv("ann")
		if h, _ := r.st.Holder(ctx, r.id("ann")); h != c.Agent || c.State != bot.StateAgent {
			t.Errorf("store holder %q, conversation agent %q state %s", h, c.Agent, c.State)
		}
	})
}

func TestOnlyOneReplicaAssigns(t *testing.T) {
	bubble(t, func(t *testing.T) {
		cfg := handoff.Config{Routing: handoff.Assign}
		r := newRig(t, cfg, rigOpt{})
		other := r.replica(cfg)
		r.agent("web:alice", "Alice", 1)
		r.runDesk()
		other.run(t)
		r.send("c1", "human")
		other.send(r, "c2", "human")
		r.send("c3", "human")
		other.send(r, "c4", "human")
		agents, err := r.desk.Agents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if agents[0].Active != 1 {
			t.Errorf("Alice holds %d conversations with capacity 1", agents[0].Active)
		}
		if n := len(r.events(handoff.EventClaim)); n != 1 {
			t.Errorf("%d claims, want 1", n)
		}
		if c := r.conv("c1"); c.Agent != "web:alice" {
			t.Errorf("c1, first in line, went to %q", c.Agent)
		}
	})
}
