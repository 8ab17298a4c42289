package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

func TestHandoffTellsPositionAndETA(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.agent("web:alice", "Alice", 1)
		r.seedWaits(2*time.Minute, 4*time.Minute, 6*time.Minute)

		r.send("ann", "human")
		got := r.last("ann")
		for _, want := range []string{"won't need to repeat yourself", "You are next in the queue.", "Estimated wait: about 4 minutes."} {
			if !strings.Contains(got, want) {
				t.Errorf("first customer was told %q; want it to contain %q", got, want)
			}
		}
		if k := r.ch.Last("ann").Reply; k.Kind != bot.KindQueue || len(k.Choices) != 1 || k.Choices[0].Value != "queue:leave" {
			t.Errorf("queue reply: kind %q choices %v; want kind queue with a leave button", k.Kind, k.Choices)
		}

		r.send("bob", "human")
		got = r.last("bob")
		// One agent online: the second customer waits for two rounds.
		for _, want := range []string{"You are number 2 in the queue.", "Estimated wait: about 8 minutes."} {
			if !strings.Contains(got, want) {
				t.Errorf("second customer was told %q; want it to contain %q", got, want)
			}
		}

		c := r.conv("ann")
		if c.State != bot.StateQueued || c.Reason != bot.ReasonRequested {
			t.Errorf("conversation: state %s reason %s; want queued/requested", c.State, c.Reason)
		}
		if n := len(r.events(handoff.EventHandoff)); n != 2 {
			t.Errorf("%d handoff events, want 2", n)
		}
		ann := r.ws.For(r.id("ann"), "announce")
		if len(ann) != 1 {
			t.Fatalf("ann's card announced %d times, want 1", len(ann))
		}
		if k := ann[0].Card; k.Position != 1 || k.Reason != bot.ReasonRequested || k.State != bot.StateQueued || k.Platform != "web" {
			t.Errorf("announced card: position %d reason %s state %s platform %s", k.Position, k.Reason, k.State, k.Platform)
		}
		if c.Data["ref.slack.post"] == "" {
			t.Errorf("the workspace's refs were not kept on the conversation: %v", c.Data)
		}
	})
}

func TestHandoffWithoutWaitDataSaysSoHonestly(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.agent("web:alice", "Alice", 1)
		r.seedWaits(3 * time.Minute) // one sample is not enough to estimate
		r.send("ann", "human")
		if got := r.last("ann"); !strings.Contains(got, "I can't estimate the wait yet.") || strings.Contains(got, "minute") {
			t.Errorf("told %q; want an honest 'cannot estimate' and no made-up minutes", got)
		}
		r.lang["per"] = "nb"
		r.send("per", "human")
		if got := r.last("per"); !strings.Contains(got, "Du er nummer 2 i køen.") || !strings.Contains(got, "Jeg kan ikke anslå ventetiden ennå.") {
			t.Errorf("Norwegian customer was told %q", got)
		}
		r.lang["ana"] = "sr-Latn"
		r.send("ana", "human")
		if got := r.last("ana"); !strings.Contains(got, "Vi ste 3. u redu.") {
			t.Errorf("Serbian customer was told %q", got)
		}
	})
}

func TestQueueServesComplaintsAndUpsetCustomersFirst(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.send("ann", "human")
		r.send("bob", "human")
		r.send("cat", "angry: nothing works")
		r.send("dan", "complaint: you charged me twice")
		if got := r.last("dan"); !strings.Contains(got, "You are next in the queue.") {
			t.Errorf("complaint told %q; want to be next", got)
		}
		if got := r.last("cat"); !strings.Contains(got, "You are next in the queue.") {
			t.Errorf("upset customer told %q; want to be next (before the calm ones)", got)
		}
		cards, err := r.desk.Queue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for i, k := range cards {
			order = append(order, k.Customer.Name)
			if k.Position != i+1 {
				t.Errorf("card %s has position %d, want %d", k.Customer.Name, k.Position, i+1)
			}
			if k.Since.IsZero() {
				t.Errorf("card %s has no Since", k.Customer.Name)
			}
		}
		if got := strings.Join(order, ","); got != "dan,cat,ann,bob" {
			t.Errorf("queue order %s, want dan,cat,ann,bob", got)
		}
		if k := cards[0]; k.Priority != handoff.PriorityComplaint || k.Topic != "Complaint" {
			t.Errorf("complaint card: priority %d topic %q", k.Priority, k.Topic)
		}
		if k := cards[1]; k.Sentiment != "negative" || k.Reason != bot.ReasonNegativeSentiment {
			t.Errorf("upset card: sentiment %q reason %s", k.Sentiment, k.Reason)
		}
	})
}

func TestCustomerCanLeaveTheQueue(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.send("ann", "human")
		r.send("ann", "I want to cancel my order 1234")
		if c := r.conv("ann"); c.State != bot.StateQueued {
			t.Fatalf("a message about cancelling an order left the queue (state %s)", c.State)
		}
		if n := len(r.ws.For(r.id("ann"), "relay")); n != 1 {
			t.Errorf("%d relays of the waiting customer's message, want 1", n)
		}
		r.send("ann", "queue:leave")
		c := r.conv("ann")
		if c.State != bot.StateBot || c.History[len(c.History)-1].Reason != bot.ReasonAbandoned {
			t.Fatalf("after leaving: state %s history %+v", c.State, c.History)
		}
		if got := r.ch.Last("ann").Reply; !strings.Contains(got.Text, "You've left the queue") || got.Meta["event"] != "left" {
			t.Errorf("told %q (meta %v), want the notice marked event=left (the widget shows \"Talk to a person\" again)", got.Text, got.Meta)
		}
		if q, _ := r.desk.Queue(context.Background()); len(q) != 0 {
			t.Errorf("queue still has %d cards", len(q))
		}
		if e := r.events(handoff.EventAbandon); len(e) != 1 {
			t.Errorf("%d abandon events, want 1", len(e))
		}
		if u := r.ws.For(r.id("ann"), "update"); len(u) == 0 || u[len(u)-1].Card.State != bot.StateBot {
			t.Errorf("card not updated after the customer left: %+v", u)
		}
		r.send("ann", "where is my parcel?")
		if got := r.last("ann"); got != "bot: where is my parcel?" {
			t.Errorf("after leaving, the bot answered %q", got)
		}
	})
}

func TestQueueStatusQuestionIsAnsweredOtherMessagesOnlyRelayed(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.send("ann", "human")
		n := len(r.ch.Sent("ann"))
		r.send("ann", "my order number is 55512")
		if got := len(r.ch.Sent("ann")); got != n {
			t.Errorf("the bot answered a waiting customer's message: %q", r.last("ann"))
		}
		r.send("ann", "how long do I have to wait?")
		if got := r.last("ann"); !strings.Contains(got, "You are next in the queue.") {
			t.Errorf("status question answered %q", got)
		}
		relays := r.ws.For(r.id("ann"), "relay")
		if len(relays) != 2 || relays[0].Msg.Text != "my order number is 55512" {
			t.Errorf("relays: %+v", relays)
		}
	})
}

func TestPositionUpdatesAreMeaningfulNotSpam(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{UpdateEvery: 10 * time.Minute}, rigOpt{})
		r.runDesk()
		alice := r.agent("web:alice", "Alice", 5)
		for _, c := range []string{"c1", "c2", "c3", "c4", "c5", "c6"} {
			r.send(c, "human")
		}
		before := map[string]int{}
		for _, c := range []string{"c4", "c5", "c6"} {
			before[c] = len(r.ch.Sent(c))
		}
		if err := r.desk.Claim(context.Background(), r.id("c1"), alice); err != nil {
			t.Fatal(err)
		}
		settle()
		if got := r.last("c4"); len(r.ch.Sent("c4")) != before["c4"]+1 || !strings.Contains(got, "you are now number 3") {
			t.Errorf("c4 reached position 3 and was told %q", got)
		}
		if len(r.ch.Sent("c5")) != before["c5"] || len(r.ch.Sent("c6")) != before["c6"] {
			t.Errorf("c5/c6 moved from 5/6 to 4/5 minutes after being told: should not be messaged, got %q / %q", r.last("c5"), r.last("c6"))
		}
		time.Sleep(11 * time.Minute)
		if err := r.desk.Claim(context.Background(), r.id("c2"), alice); err != nil {
			t.Fatal(err)
		}
		settle()
		if got := r.last("c6"); !strings.Contains(got, "you are now number 4") {
			t.Errorf("after %v, c6 moved to 4 and was told %q", 11*time.Minute, got)
		}
	})
}
