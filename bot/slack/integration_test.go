package slack_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/internal/fakeslack"
	"github.com/supportbot/supportbot/store/embedded"
)

// TestIntegrationEngineDeskSlack wires the real engine, the real desk and
// the embedded store to the adapter on a fake Slack and walks a whole
// handoff: bot answer, "human", card, claim race, relay both ways, a note,
// resolve, CSAT.
func TestIntegrationEngineDeskSlack(t *testing.T) {
	e := start(t)
	log := testLog(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{SweepEvery: -1, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	var desk *handoff.Desk
	router := bot.HandlerFunc(func(ctx context.Context, turn *bot.Turn) error {
		if strings.Contains(strings.ToLower(turn.Msg.Text), "human") {
			return desk.Handoff(ctx, turn, handoff.Request{Reason: bot.ReasonRequested})
		}
		turn.Conv.Intent, turn.Conv.Score = "refund_status", 0.42
		turn.Conv.Tried = append(turn.Conv.Tried, "faq:refund-times")
		turn.Reply(bot.Reply{Kind: bot.KindAnswer, Text: "Refunds take 5-7 days."})
		return nil
	})
	eng := bot.New(bot.Config{}, st, nil, log)
	desk = handoff.NewDesk(handoff.Config{Tick: 50 * time.Millisecond}, st, st, st, st, eng, log, handoff.WithWorkspaces(e.ch))
	eng.SetHandler(desk.Gate(router))
	eng.Add(e.ch)
	e.ch.SetDesk(desk)

	ctx, cancel := context.WithCancel(context.Background())
	engDone, deskDone := make(chan error, 1), make(chan error, 1)
	go func() { engDone <- eng.Run(ctx) }()
	go func() { deskDone <- desk.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for _, c := range []chan error{engDone, deskDone} {
			select {
			case err := <-c:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(wait):
				t.Error("engine or desk did not stop")
			}
		}
		_ = st.Close()
	})
	e.connected()
	dm := func(p fakeslack.Post) bool { return p.Channel == customerDM && p.Method == "chat.postMessage" }

	e.say("where is my refund?")
	e.waitPost(fakeslack.And(dm, fakeslack.Contains("Refunds take 5-7 days.")))

	e.command(alice, "on")
	e.command(bob, "on")

	before := e.fake.Len()
	e.say("I need a human")
	card := e.waitPostFrom(before, fakeslack.In(handoffCh))
	for _, want := range []string{"cara on slack", "refund_status (42%)", "faq:refund-times", "requested", "I need a human"} {
		if !strings.Contains(card.AllText(), want) {
			t.Errorf("card lacks %q:\n%s", want, card.AllText())
		}
	}

	before = e.fake.Len()
	e.click(alice, card, "handoff_claim")
	claimed := e.waitPostFrom(before, fakeslack.And(fakeslack.Updated(handoffCh, card.TS), fakeslack.Contains("Claimed by <@"+alice+">")))
	e.click(bob, card, "handoff_claim")
	if p := e.waitPostFrom(before, fakeslack.EphemeralTo(bob)); !strings.Contains(p.Text, "Already taken by") {
		t.Errorf("bob was told %q", p.Text)
	}

	before = e.fake.Len()
	e.say("it was order 1234")
	if p := e.waitPostFrom(before, fakeslack.InThread(handoffCh, card.TS)); !strings.Contains(p.Text, "it was order 1234") {
		t.Errorf("relayed %q", p.Text)
	}

	before = e.fake.Len()
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "note: VIP, refund by hand"})
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "Refunded today, sorry for the wait"})
	e.waitPostFrom(before, fakeslack.And(dm, fakeslack.Contains("Refunded today")))
	for _, p := range e.fake.Posts()[before:] {
		if strings.Contains(p.AllText(), "VIP") {
			t.Errorf("the note was posted to %s: %q", p.Channel, p.Text)
		}
	}

	before = e.fake.Len()
	e.click(alice, claimed, "handoff_resolve")
	e.waitPostFrom(before, fakeslack.And(fakeslack.Updated(handoffCh, card.TS), fakeslack.Contains("Resolved")))
	csat := e.waitPostFrom(before, func(p fakeslack.Post) bool { return dm(p) && len(p.Buttons()) >= 5 })
	var five string
	for _, b := range csat.Buttons() {
		if strings.HasSuffix(b.Value, "5") {
			five = b.ActionID
		}
	}
	before = e.fake.Len()
	e.click(customerU, csat, five)
	thanks := e.waitPostFrom(before, dm) // the desk thanks the customer once the rating is saved
	c, err := st.Conversation(within(t), customerAddr().ConversationID())
	if err != nil {
		t.Fatal(err)
	}
	if c.CSAT == nil || c.CSAT.Score != 5 || !c.CSAT.ByAgent {
		t.Errorf("CSAT = %+v after %q, want 5 by agent", c.CSAT, thanks.Text)
	}
}
