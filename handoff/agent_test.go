package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

var ctx = context.Background()

func TestFiftyConcurrentClaimsHaveExactlyOneWinner(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.send("ann", "human")
		var agents []handoff.Agent
		for i := range 50 {
			agents = append(agents, r.agent(fmt.Sprintf("web:a%02d", i), fmt.Sprintf("Agent %d", i), 1))
		}
		time.Sleep(90 * time.Second)
		errs := make([]error, len(agents))
		var wg sync.WaitGroup
		for i, a := range agents {
			wg.Go(func() { errs[i] = r.desk.Claim(ctx, r.id("ann"), a) })
		}
		wg.Wait()
		settle()
		winners := 0
		var winner handoff.Agent
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = agents[i]
			case !errors.Is(err, bot.ErrClaimed):
				t.Errorf("loser %s: %v; want an error wrapping bot.ErrClaimed", agents[i].ID, err)
			}
		}
		if winners != 1 {
			t.Fatalf("%d winners, want exactly 1", winners)
		}
		c := r.conv("ann")
		if c.State != bot.StateAgent || c.Agent != winner.ID {
			t.Errorf("conversation: state %s agent %s; want agent %s", c.State, c.Agent, winner.ID)
		}
		if h, _ := r.st.Holder(ctx, r.id("ann")); h != winner.ID {
			t.Errorf("store holder %q, want %q", h, winner.ID)
		}
		joined := 0
		for _, s := range r.ch.Sent("ann") {
			if s.Reply.Meta["event"] == "joined" {
				joined++
				if s.Reply.Text != winner.Name+" has joined the conversation." || s.Reply.Author != winner.Name {
					t.Errorf("joined notice %q by %q", s.Reply.Text, s.Reply.Author)
				}
			}
		}
		if joined != 1 {
			t.Errorf("customer told %d times that an agent joined, want 1", joined)
		}
		if e := r.events(handoff.EventClaim); len(e) != 1 || e[0].Agent != winner.ID || e[0].Value != 90 {
			t.Errorf("claim events %+v; want one for the winner with the wait in seconds", e)
		}
		if err := r.desk.Claim(ctx, r.id("ann"), winner); err != nil {
			t.Errorf("claiming again by the holder: %v", err)
		}
		u := r.ws.For(r.id("ann"), "update")
		if len(u) != 1 || u[0].Card.State != bot.StateAgent || u[0].Card.AgentName != winner.Name || u[0].Card.Refs["post"] == "" {
			t.Errorf("card updates after the claim: %+v", u)
		}
	})
}

func TestBotStaysSilentWhileAnAgentHoldsTheConversation(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 2)
		r.send("ann", "human")
		if err := r.desk.Claim(ctx, r.id("ann"), alice); err != nil {
			t.Fatal(err)
		}
		n := len(r.ch.Sent("ann"))
		for _, text := range []string{"hello?", "human", "how long do I have to wait", "cancel"} {
			r.send("ann", text)
		}
		if got := r.ch.Sent("ann"); len(got) != n {
			t.Errorf("the bot answered while a human holds the conversation: %+v", got[n:])
		}
		relays := r.ws.For(r.id("ann"), "relay")
		if len(relays) != 4 || relays[0].Msg.Text != "hello?" || relays[0].Msg.Role != bot.RoleCustomer {
			t.Errorf("customer messages relayed to the agent: %+v", relays)
		}
		if c := r.conv("ann"); c.State != bot.StateAgent {
			t.Errorf("state %s, want agent", c.State)
		}
		var texts []string
		for _, m := range r.transcript("ann") {
			if m.Role == bot.RoleCustomer {
				texts = append(texts, m.Text)
			}
		}
		if got := strings.Join(texts, "|"); got != "human|hello?|human|how long do I have to wait|cancel" {
			t.Errorf("transcript of the customer: %s", got)
		}

		if err := r.desk.Reply(ctx, r.id("ann"), alice, "Hi Ann, I'm looking at your order now."); err != nil {
			t.Fatal(err)
		}
		last := r.ch.Last("ann").Reply
		if last.Kind != bot.KindAgent || last.Author != "Alice" || last.Text != "Hi Ann, I'm looking at your order now." {
			t.Errorf("agent reply reached the customer as %+v", last)
		}
		bob := r.agent("web:bob", "Bob", 1)
		if err := r.desk.Reply(ctx, r.id("ann"), bob, "me too"); !errors.Is(err, handoff.ErrNotHolder) || !errors.Is(err, bot.ErrClaimed) {
			t.Errorf("another agent's reply: %v; want ErrNotHolder and bot.ErrClaimed", err)
		}
	})
}

func TestNotesStayInternal(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 1)
		r.send("ann", "human")
		if err := r.desk.Claim(ctx, r.id("ann"), alice); err != nil {
			t.Fatal(err)
		}
		n := len(r.ch.Sent("ann"))
		if err := r.desk.Reply(ctx, r.id("ann"), alice, "Note: customer is a VIP, refund without asking"); err != nil {
			t.Fatal(err)
		}
		if err := r.desk.Note(ctx, r.id("ann"), alice, "checked the warehouse"); err != nil {
			t.Fatal(err)
		}
		if got := r.ch.Sent("ann"); len(got) != n {
			t.Fatalf("a note reached the customer: %+v", got[n:])
		}
		var notes []bot.Message
		for _, m := range r.transcript("ann") {
			if m.Kind == handoff.KindNote {
				notes = append(notes, m)
			}
		}
		if len(notes) != 2 || notes[0].Text != "customer is a VIP, refund without asking" || notes[0].Role != bot.RoleSystem || notes[0].Author != "Alice" {
			t.Errorf("notes in the transcript: %+v", notes)
		}
		relays := r.ws.For(r.id("ann"), "relay")
		if len(relays) != 2 || relays[1].Msg.Kind != handoff.KindNote || relays[1].Msg.Meta["agent"] != "web:alice" {
			t.Errorf("notes relayed to the workspace: %+v", relays)
		}
		if err := r.desk.Reply(ctx, r.id("ann"), alice, "note:   "); !errors.Is(err, handoff.ErrEmpty) {
			t.Errorf("empty note: %v, want ErrEmpty", err)
		}
	})
}

func TestReplyToAnUnclaimedConversationClaimsIt(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		bob := r.agent("slack:U2", "Bob", 1)
		r.send("ann", "human")
		if err := r.desk.Reply(ctx, r.id("ann"), handoff.Agent{ID: bob.ID}, "Hi, Bob here."); err != nil {
			t.Fatal(err)
		}
		c := r.conv("ann")
		if c.State != bot.StateAgent || c.Agent != "slack:U2" {
			t.Fatalf("state %s agent %q; want held by slack:U2", c.State, c.Agent)
		}
		sent := r.ch.Sent("ann")
		if len(sent) < 2 || sent[len(sent)-2].Reply.Text != "Bob has joined the conversation." || sent[len(sent)-1].Reply.Author != "Bob" {
			t.Errorf("customer got %+v; want the join notice, then Bob's reply", sent)
		}
		if len(r.events(handoff.EventClaim)) != 1 {
			t.Errorf("no claim event for a claim by reply")
		}
	})
}

func TestReleaseAndTransfer(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 1)
		bob := r.agent("web:bob", "Bob", 1, "billing")
		r.send("ann", "human")
		r.send("ben", "human")
		id := r.id("ann")
		if err := r.desk.Claim(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		if err := r.desk.Release(ctx, id, bob); !errors.Is(err, handoff.ErrNotHolder) {
			t.Errorf("release by a non-holder: %v, want ErrNotHolder", err)
		}
		if err := r.desk.Release(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		c := r.conv("ann")
		if c.State != bot.StateQueued || c.History[len(c.History)-1].Reason != bot.ReasonReleased || c.Reason != bot.ReasonRequested {
			t.Errorf("after release: state %s history %+v reason %s", c.State, c.History, c.Reason)
		}
		if got := r.last("ann"); !strings.Contains(got, "back in the queue") || !strings.Contains(got, "You are next in the queue.") {
			t.Errorf("released customer told %q; want to keep their place (next)", got)
		}
		if h, _ := r.st.Holder(ctx, id); h != "" {
			t.Errorf("store still says %q holds it", h)
		}

		if err := r.desk.Claim(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		if err := r.desk.Transfer(ctx, id, alice, "web:nobody", ""); !errors.Is(err, handoff.ErrUnknownAgent) {
			t.Errorf("transfer to an unknown agent: %v", err)
		}
		if err := r.desk.Transfer(ctx, id, alice, bob.ID, ""); err != nil {
			t.Fatal(err)
		}
		c = r.conv("ann")
		if c.State != bot.StateAgent || c.Agent != bob.ID || c.History[len(c.History)-1].Reason != bot.ReasonTransferred {
			t.Errorf("after transfer to Bob: state %s agent %s history %+v", c.State, c.Agent, c.History)
		}
		if got := r.last("ann"); got != "Bob is taking over the conversation." {
			t.Errorf("customer told %q", got)
		}
		if a := r.ws.For(id, "announce"); len(a) != 2 || a[1].Card.Agent != bob.ID {
			t.Errorf("Bob was not shown the transferred card: %+v", a)
		}
		if h, _ := r.st.Holder(ctx, id); h != bob.ID {
			t.Errorf("store holder %q after transfer", h)
		}

		if err := r.desk.Transfer(ctx, id, bob, "", "billing"); err != nil {
			t.Fatal(err)
		}
		c = r.conv("ann")
		if c.State != bot.StateQueued || c.Skill != "billing" {
			t.Errorf("after transfer to billing: state %s skill %q", c.State, c.Skill)
		}
		if got := r.last("ann"); !strings.Contains(got, "colleague") {
			t.Errorf("customer told %q", got)
		}
		q, _ := r.desk.Queue(ctx)
		if len(q) != 2 || q[0].Conv != id || q[0].Skill != "billing" {
			t.Errorf("queue after transfer: %+v; want ann first (kept her place) with skill billing", q)
		}
	})
}

func TestResolveAsksOneCSATQuestionAndStoresRatingAndComment(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 1)
		r.send("ann", "human")
		id := r.id("ann")
		if err := r.desk.Claim(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Minute)
		if err := r.desk.Resolve(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		sent := r.ch.Sent("ann")
		q := sent[len(sent)-1].Reply
		if q.Kind != bot.KindCSAT || len(q.Choices) != 5 || q.Choices[0].Value != "csat:1" || q.Choices[4].Value != "csat:5" {
			t.Fatalf("CSAT question: %+v", q)
		}
		if got := sent[len(sent)-2].Reply.Text; !strings.Contains(got, "Alice has marked your question as resolved") {
			t.Errorf("resolve notice %q", got)
		}
		if c := r.conv("ann"); c.State != bot.StateResolved || !c.AwaitCSAT {
			t.Errorf("after resolve: state %s await %v", c.State, c.AwaitCSAT)
		}
		if e := r.events(handoff.EventResolve); len(e) != 1 || e[0].Agent != alice.ID || e[0].Value != 300 {
			t.Errorf("resolve events %+v", e)
		}
		if u := r.ws.For(id, "update"); u[len(u)-1].Card.State != bot.StateResolved {
			t.Errorf("card not updated to resolved")
		}

		r.send("ann", "csat:4")
		if got := r.ch.Last("ann").Reply; !strings.Contains(got.Text, "anything you'd like to tell us") || len(got.Choices) != 1 {
			t.Errorf("after the rating: %+v", got)
		}
		r.send("ann", "Quick and friendly, thanks!")
		if got := r.last("ann"); got != "Thank you for your feedback!" {
			t.Errorf("after the comment: %q", got)
		}
		c := r.conv("ann")
		if c.CSAT == nil || c.CSAT.Score != 4 || c.CSAT.Comment != "Quick and friendly, thanks!" || !c.CSAT.ByAgent {
			t.Errorf("stored CSAT %+v", c.CSAT)
		}
		e := r.events(handoff.EventCSAT)
		if len(e) != 1 || e[0].Value != 4 || e[0].Meta["by_agent"] != "true" || e[0].Agent != alice.ID {
			t.Errorf("csat events %+v", e)
		}
		if e := r.events(handoff.EventCSATComment); len(e) != 1 || e[0].Text != "Quick and friendly, thanks!" {
			t.Errorf("csat comment events %+v", e)
		}
		if c.State != bot.StateResolved {
			t.Errorf("the CSAT exchange changed the state to %s", c.State)
		}
		ids := map[string]bool{}
		for _, m := range r.transcript("ann") {
			if m.ID == "" || ids[m.ID] {
				t.Errorf("transcript message ID %q is empty or repeated: %+v", m.ID, m)
			}
			ids[m.ID] = true
		}
	})
}

func TestReopenedConversationGoesToTheBotNotBackToTheQueue(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 1)
		r.send("ann", "angry: my parcel is lost")
		id := r.id("ann")
		if err := r.desk.Claim(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		if err := r.desk.Resolve(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		// Instead of rating, the customer asks something new.
		r.send("ann", "what are your opening hours?")
		if got := r.last("ann"); got != "bot: what are your opening hours?" {
			t.Errorf("reopened conversation answered %q; want the bot's answer", got)
		}
		c := r.conv("ann")
		if c.State != bot.StateBot || c.History[len(c.History)-1].Reason != bot.ReasonReopened {
			t.Errorf("state %s last history %+v; want bot/reopened", c.State, c.History[len(c.History)-1])
		}
		if c.AwaitCSAT || c.Sentiment != 0 || c.Priority != 0 {
			t.Errorf("reopened conversation kept the old episode: await %v sentiment %v priority %d", c.AwaitCSAT, c.Sentiment, c.Priority)
		}
		if q, _ := r.desk.Queue(ctx); len(q) != 0 {
			t.Errorf("reopened conversation is in the queue: %+v", q)
		}
		if n := len(r.transcript("ann")); n < 6 {
			t.Errorf("history lost: %d messages", n)
		}
		r.send("ann", "csat:5") // a late click on the old buttons
		if c := r.conv("ann"); c.State != bot.StateBot || c.CSAT == nil || c.CSAT.Score != 5 || !c.CSAT.ByAgent {
			t.Errorf("a late rating after reopening: state %s csat %+v; want it taken, still with the bot", c.State, c.CSAT)
		}
		if got := r.last("ann"); got != "Thank you for your feedback!" {
			t.Errorf("late rating answered %q; it must not reach the router", got)
		}
		if e := r.events(handoff.EventCSAT); len(e) != 1 || e[0].Agent != alice.ID {
			t.Errorf("late csat events %+v", e)
		}
		r.send("ann", "human")
		if c := r.conv("ann"); c.State != bot.StateQueued {
			t.Errorf("asking for a human after reopening: state %s", c.State)
		}
	})
}

func TestRatedConversationThenNewQuestionGoesToTheBot(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 1)
		r.send("ann", "human")
		id := r.id("ann")
		if err := r.desk.Claim(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		if err := r.desk.Resolve(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
		r.send("ann", "5")
		r.send("ann", "csat:skip")
		if got := r.last("ann"); got != "Thank you for your feedback!" {
			t.Errorf("after skipping the comment: %q", got)
		}
		r.send("ann", "csat:3")
		if got := r.last("ann"); got != "Thank you, we already have your rating." {
			t.Errorf("second rating: %q", got)
		}
		if c := r.conv("ann"); c.CSAT == nil || c.CSAT.Score != 5 || c.CSAT.Comment != "" {
			t.Errorf("CSAT %+v, want 5 without comment", c.CSAT)
		}
		r.send("ann", "do you ship to Norway?")
		if got := r.last("ann"); got != "bot: do you ship to Norway?" {
			t.Errorf("new question after the rating answered %q", got)
		}
		r.send("ann", "human")
		if c := r.conv("ann"); c.State != bot.StateQueued {
			t.Errorf("asking for a human again: state %s, want queued", c.State)
		}
	})
}

func TestAgentActionsOnABotConversationFail(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 1)
		r.send("ann", "hi")
		if err := r.desk.Claim(ctx, r.id("ann"), alice); !errors.Is(err, handoff.ErrNotWaiting) {
			t.Errorf("claim of a bot conversation: %v, want ErrNotWaiting", err)
		}
		if err := r.desk.Reply(ctx, r.id("ann"), alice, "hello"); !errors.Is(err, handoff.ErrNotWaiting) {
			t.Errorf("reply to a bot conversation: %v, want ErrNotWaiting", err)
		}
		if err := r.desk.Claim(ctx, r.id("nobody"), alice); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("claim of a missing conversation: %v, want bot.ErrNotFound", err)
		}
		if err := r.desk.SetStatus(ctx, alice, "busy"); err == nil {
			t.Errorf("SetStatus accepted an unknown availability")
		}
	})
}

// flakyRunner fails the next n agent turns after they ran, as a store
// that cannot save would.
type flakyRunner struct {
	handoff.Runner
	mu   sync.Mutex
	fail int
}

func (f *flakyRunner) Do(ctx context.Context, id bot.ConversationID, fn func(context.Context, *bot.Turn) error) error {
	return f.Runner.Do(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		if err := fn(ctx, t); err != nil {
			return err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail > 0 {
			f.fail--
			return fmt.Errorf("save: %w", bot.ErrUnavailable)
		}
		return nil
	})
}

func TestAFailedClaimLeavesTheConversationWaitingAndClaimable(t *testing.T) {
	bubble(t, func(t *testing.T) {
		flaky := &flakyRunner{}
		r := newRig(t, handoff.Config{}, rigOpt{wrap: func(run handoff.Runner) handoff.Runner { flaky.Runner = run; return flaky }})
		alice := r.agent("web:alice", "Alice", 1)
		bob := r.agent("web:bob", "Bob", 1)
		r.send("ann", "human")
		flaky.mu.Lock()
		flaky.fail = 1
		flaky.mu.Unlock()
		if err := r.desk.Claim(ctx, r.id("ann"), alice); !errors.Is(err, bot.ErrUnavailable) {
			t.Fatalf("claim with a failing store: %v", err)
		}
		if h, _ := r.st.Holder(ctx, r.id("ann")); h != "" {
			t.Errorf("the failed claim left %q holding it", h)
		}
		if q, _ := r.desk.Queue(ctx); len(q) != 1 {
			t.Errorf("the failed claim took the conversation out of the queue: %+v", q)
		}
		if err := r.desk.Claim(ctx, r.id("ann"), bob); err != nil {
			t.Errorf("claim after a failed one: %v", err)
		}
	})
}
