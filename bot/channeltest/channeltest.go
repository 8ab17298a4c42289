// Package channeltest is the conformance suite every bot.Channel passes
// (cli, web, slack, discord), plus Fake, an in-memory Channel that passes it
// too and is used by engine tests.
package channeltest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Post is one message the adapter sent, as the platform saw it.
type Post struct {
	To      bot.Address
	Text    string
	Choices []string // button values, in order
	// Pings is true if the platform would notify someone beyond the
	// conversation (@everyone, @here, a user or role mention).
	Pings bool
}

// Platform is the fake chat platform behind an adapter under test.
type Platform interface {
	// Inject makes a customer write text, as the platform would send it. It
	// waits until the adapter is connected, so it may be called right after
	// Listen starts.
	Inject(t *testing.T, text string)
	// InjectOwn echoes a message written by the bot itself, which must be dropped.
	InjectOwn(t *testing.T, text string)
	// Redeliver sends the last injected event again (a retry or a resume).
	Redeliver(t *testing.T)
	// NextPost waits for the adapter's next post.
	NextPost(t *testing.T) Post
	// Press makes the customer press the button with value on post p.
	Press(t *testing.T, p Post, value string)
}

// Features says what a platform supports; tests skip what it lacks.
type Features struct {
	Buttons bool // Reply.Choices become buttons that Press can click
	Retries bool // the platform can redeliver an event (Redeliver is meaningful)
}

// Harness is one adapter wired to its fake platform.
type Harness struct {
	Channel  bot.Channel
	Platform Platform
}

// Wait is how long any single step may take before the test fails.
const Wait = 10 * time.Second

// Run runs every contract test against adapters made by newHarness. Each
// test gets a fresh harness.
func Run(t *testing.T, f Features, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Features, Harness)
	}{
		{"DeliversCustomerMessage", deliversCustomerMessage},
		{"DropsOwnMessages", dropsOwnMessages},
		{"SendReachesAddress", sendReachesAddress},
		{"SendNeverPings", sendNeverPings},
		{"ChoicesArePressable", choicesArePressable},
		{"RetryHasSameKey", retryHasSameKey},
		{"ConcurrentSend", concurrentSend},
		{"ListenReturnsNilOnCancel", listenReturnsNilOnCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f, newHarness(t)) })
	}
}

// listening runs Listen until the test ends and returns the deliveries.
func listening(t *testing.T, h Harness) <-chan bot.Inbound {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan bot.Inbound, 64)
	done := make(chan error, 1)
	go func() {
		done <- h.Channel.Listen(ctx, func(_ context.Context, i bot.Inbound) {
			if i.Ack != nil {
				i.Ack()
			}
			in <- i
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Listen returned %v after cancel, want nil", err)
			}
		case <-time.After(Wait):
			t.Errorf("Listen did not return within %v of cancel", Wait)
		}
	})
	return in
}

func next(t *testing.T, in <-chan bot.Inbound) bot.Inbound {
	t.Helper()
	select {
	case i := <-in:
		return i
	case <-time.After(Wait):
		t.Fatalf("no message delivered within %v", Wait)
	}
	return bot.Inbound{}
}

func deliversCustomerMessage(t *testing.T, _ Features, h Harness) {
	in := listening(t, h)
	h.Platform.Inject(t, "where is my order?")
	i := next(t, in)
	if i.Msg.Text != "where is my order?" {
		t.Errorf("text = %q, want the customer's words", i.Msg.Text)
	}
	if i.Key == "" || !strings.HasPrefix(i.Key, h.Channel.Name()+":") {
		t.Errorf("key = %q, want a dedupe key prefixed %q", i.Key, h.Channel.Name()+":")
	}
	if i.Msg.From.Channel != h.Channel.Name() || i.Msg.From.Room == "" {
		t.Errorf("from = %+v, want channel %q and a room", i.Msg.From, h.Channel.Name())
	}
	if i.Msg.Customer.ID == "" {
		t.Error("customer ID is empty; the desk needs it for history")
	}
}

func dropsOwnMessages(t *testing.T, _ Features, h Harness) {
	in := listening(t, h)
	h.Platform.InjectOwn(t, "I am the bot")
	h.Platform.Inject(t, "marker")
	if i := next(t, in); i.Msg.Text != "marker" {
		t.Errorf("first delivery = %q, want the bot's own message dropped", i.Msg.Text)
	}
}

func sendReachesAddress(t *testing.T, _ Features, h Harness) {
	in := listening(t, h)
	h.Platform.Inject(t, "hello")
	i := next(t, in)
	if err := h.Channel.Send(context.Background(), i.Msg.From, bot.Reply{Text: "Hi! How can I help?"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	p := h.Platform.NextPost(t)
	if !strings.Contains(p.Text, "Hi! How can I help?") {
		t.Errorf("posted %q, want the reply text", p.Text)
	}
	if p.To.Room != i.Msg.From.Room || p.To.Thread != i.Msg.From.Thread {
		t.Errorf("posted to %+v, want %+v", p.To, i.Msg.From)
	}
}

func sendNeverPings(t *testing.T, _ Features, h Harness) {
	in := listening(t, h)
	h.Platform.Inject(t, "hello")
	i := next(t, in)
	evil := "@everyone @here <!channel> <!everyone> <@U123> <@&456> <!subteam^S1> look"
	if err := h.Channel.Send(context.Background(), i.Msg.From, bot.Reply{Text: evil, Kind: bot.KindAgent, Author: "Eve"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if p := h.Platform.NextPost(t); p.Pings {
		t.Errorf("post %q would ping someone", p.Text)
	}
}

func choicesArePressable(t *testing.T, f Features, h Harness) {
	if !f.Buttons {
		t.Skip("platform has no buttons")
	}
	in := listening(t, h)
	h.Platform.Inject(t, "refund")
	i := next(t, in)
	r := bot.Reply{Text: "Did you mean…", Kind: bot.KindSuggest,
		Choices: []bot.Choice{{Label: "Returns", Value: "returns"}, {Label: "Refund status", Value: "refund status"}}}
	if err := h.Channel.Send(context.Background(), i.Msg.From, r); err != nil {
		t.Fatalf("Send: %v", err)
	}
	p := h.Platform.NextPost(t)
	if len(p.Choices) != 2 {
		t.Fatalf("post has choices %v, want 2 buttons", p.Choices)
	}
	h.Platform.Press(t, p, "refund status")
	got := next(t, in)
	if got.Msg.Text != "refund status" {
		t.Errorf("pressing delivered %q, want the choice value", got.Msg.Text)
	}
	if got.Msg.From.ConversationID() != i.Msg.From.ConversationID() {
		t.Errorf("press landed in %s, want %s", got.Msg.From.ConversationID(), i.Msg.From.ConversationID())
	}
}

func retryHasSameKey(t *testing.T, f Features, h Harness) {
	if !f.Retries {
		t.Skip("platform never redelivers")
	}
	in := listening(t, h)
	h.Platform.Inject(t, "once")
	a := next(t, in)
	h.Platform.Redeliver(t)
	b := next(t, in)
	if a.Key != b.Key {
		t.Errorf("redelivered key %q != original %q; the engine could not dedupe", b.Key, a.Key)
	}
}

func concurrentSend(t *testing.T, _ Features, h Harness) {
	in := listening(t, h)
	h.Platform.Inject(t, "hello")
	i := next(t, in)
	const n = 10
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			if err := h.Channel.Send(context.Background(), i.Msg.From, bot.Reply{Text: "part " + string(rune('a'+k))}); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	seen := map[string]bool{}
	for range n {
		seen[h.Platform.NextPost(t).Text] = true
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("got %d distinct posts, want %d", len(seen), n)
	}
}

func listenReturnsNilOnCancel(t *testing.T, _ Features, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Channel.Listen(ctx, func(context.Context, bot.Inbound) {}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Listen = %v after cancel, want nil", err)
		}
	case <-time.After(Wait):
		t.Fatalf("Listen still running %v after cancel", Wait)
	}
}
