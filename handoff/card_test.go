package handoff_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

func TestCardHasEverythingTheAgentNeeds(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{HistoryLen: 4}, rigOpt{})
		r.lang["ann"] = "nb"
		r.send("ann", "hei")
		r.send("ann", "Jeg har bestilt en jakke, ordre 88812, men fikk feil størrelse levert")
		r.send("ann", "kan jeg bytte den gratis?")
		r.send("ann", "angry: ingen svarer meg")
		k, err := r.desk.Card(ctx, r.id("ann"))
		if err != nil {
			t.Fatal(err)
		}
		if k.Customer.Name != "ann" || k.Platform != "web" || k.Lang != "nb" {
			t.Errorf("customer %+v platform %q lang %q", k.Customer, k.Platform, k.Lang)
		}
		if k.Intent != "faq.generic" || k.Confidence != 0.9 || len(k.Tried) != 3 {
			t.Errorf("intent %q confidence %v tried %v", k.Intent, k.Confidence, k.Tried)
		}
		if k.Reason != bot.ReasonNegativeSentiment || k.Sentiment != "negative" || k.Priority != handoff.PriorityUpset {
			t.Errorf("reason %s sentiment %q priority %d", k.Reason, k.Sentiment, k.Priority)
		}
		if !strings.Contains(k.Summary, "ordre 88812") || strings.Contains(k.Summary, "hei") {
			t.Errorf("summary %q; want the informative message, not the greeting", k.Summary)
		}
		if len(k.Last) != 4 || k.Last[3].Role != bot.RoleBot || k.Last[2].Text != "angry: ingen svarer meg" {
			t.Errorf("last messages: %+v", k.Last)
		}
		if k.State != bot.StateQueued || k.Position != 1 || k.Since.IsZero() {
			t.Errorf("state %s position %d since %v", k.State, k.Position, k.Since)
		}
		if _, err := r.desk.Card(ctx, r.id("nobody")); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("card of a missing conversation: %v", err)
		}
	})
}

func TestCardShowsTheCustomersEarlierConversations(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		alice := r.agent("web:alice", "Alice", 3)

		// Yesterday: a question the bot answered.
		r.sendAs("room1", "ann", "do you ship to Sweden?")
		time.Sleep(time.Hour)
		// Then one resolved by Alice, rated 5.
		r.sendAs("room2", "ann", "my discount code SAVE10 does not work")
		r.sendAs("room2", "ann", "human")
		id2 := bot.Address{Channel: "web", Room: "room2"}.ConversationID()
		if err := r.desk.Claim(ctx, id2, alice); err != nil {
			t.Fatal(err)
		}
		if err := r.desk.Resolve(ctx, id2, alice); err != nil {
			t.Fatal(err)
		}
		r.sendAs("room2", "ann", "csat:5")
		// Then one she left while waiting.
		r.sendAs("room3", "ann", "human")
		r.sendAs("room3", "ann", "cancel")
		// Someone else, to be sure it is per customer.
		r.sendAs("room9", "zed", "hello there")
		time.Sleep(24 * time.Hour)

		r.sendAs("room4", "ann", "human")
		k, err := r.desk.Card(context.Background(), bot.Address{Channel: "web", Room: "room4"}.ConversationID())
		if err != nil {
			t.Fatal(err)
		}
		if len(k.History) != 3 {
			t.Fatalf("history %+v; want ann's 3 earlier conversations", k.History)
		}
		h := k.History // newest first
		if h[0].Outcome != "abandoned" || h[1].Outcome != "resolved by agent" || h[1].CSAT != 5 || h[2].Outcome != "bot" {
			t.Errorf("outcomes: %+v", h)
		}
		if h[1].Subject != "my discount code SAVE10 does not work" || h[2].Subject != "do you ship to Sweden?" {
			t.Errorf("subjects: %q, %q", h[1].Subject, h[2].Subject)
		}
		if h[2].Started.IsZero() || h[2].Channel != "web" {
			t.Errorf("past conversation: %+v", h[2])
		}
		if a := r.ws.For(k.Conv, "announce"); len(a) != 1 || len(a[0].Card.History) != 3 {
			t.Errorf("the announced card lacks the history: %+v", a)
		}
	})
}

type fakeSummarizer struct{ err error }

func (f fakeSummarizer) Summarize(_ context.Context, msgs []bot.Message) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	return "LLM: customer wants a refund", nil
}

func TestSummarizerReplacesTheExtractiveSummaryAndFallsBack(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{opts: []handoff.Option{handoff.WithSummarizer(fakeSummarizer{})}})
		r.send("ann", "I returned the shoes two weeks ago and still have no refund")
		r.send("ann", "human")
		if k, _ := r.desk.Card(ctx, r.id("ann")); k.Summary != "LLM: customer wants a refund" {
			t.Errorf("summary %q", k.Summary)
		}
		r2 := newRig(t, handoff.Config{}, rigOpt{opts: []handoff.Option{handoff.WithSummarizer(fakeSummarizer{err: errors.New("down")})}})
		r2.send("ann", "I returned the shoes two weeks ago and still have no refund")
		r2.send("ann", "human")
		if k, _ := r2.desk.Card(ctx, r2.id("ann")); !strings.Contains(k.Summary, "returned the shoes") {
			t.Errorf("fallback summary %q", k.Summary)
		}
	})
}

func TestExtractPicksTheInformativeCustomerMessages(t *testing.T) {
	msg := func(role bot.Role, text string) bot.Message { return bot.Message{Role: role, Text: text} }
	msgs := []bot.Message{
		msg(bot.RoleCustomer, "hi"),
		msg(bot.RoleCustomer, "My order 12345 arrived damaged, the screen is cracked"),
		msg(bot.RoleBot, "Sorry to hear that! Here is our returns policy with many informative words"),
		msg(bot.RoleCustomer, "csat:5"),
		msg(bot.RoleCustomer, "human please"),
		msg(bot.RoleCustomer, "Can you send a replacement before Friday?"),
		msg(bot.RoleCustomer, "ok"),
	}
	got := handoff.Extract(msgs, 2)
	want := "My order 12345 arrived damaged, the screen is cracked / Can you send a replacement before Friday?"
	if got != want {
		t.Errorf("Extract = %q\nwant      %q", got, want)
	}
	if got := handoff.Extract(msgs[:1], 2); got != "" {
		t.Errorf("a greeting alone summarised as %q", got)
	}
}
