package slack_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/internal/fakeslack"
	"github.com/supportbot/supportbot/store/embedded"
)

func TestIgnoresBotsSelfAndEdits(t *testing.T) {
	e := start(t).listen().connected()
	e.push(fakeslack.Message{Channel: customerDM, User: "U0OTHER", BotID: "B0OTHER", Text: "another bot"})
	e.push(fakeslack.Message{Channel: customerDM, User: e.fake.BotUserID, Text: "myself"})
	e.push(fakeslack.Message{Channel: customerDM, SubType: "bot_message", BotID: e.fake.BotID, Text: "my post"})
	e.push(fakeslack.Message{Channel: customerDM, User: customerU, SubType: "message_changed", Text: "edited"})
	e.push(fakeslack.Message{Channel: "C0RANDOM", User: customerU, Text: "not a customer channel"})
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, Text: "agents chatting"})
	e.say("marker")
	if in := e.next(); in.Msg.Text != "marker" {
		t.Errorf("first delivery %q, want the marker", in.Msg.Text)
	}
}

func TestCustomerChannelThreadsAndMention(t *testing.T) {
	e := start(t).listen().connected()
	top := e.fake.NewTS()
	e.push(fakeslack.Message{Channel: helpCh, User: customerU, TS: top, Text: "<@" + e.fake.BotUserID + "> my invoice is wrong"})
	in := e.next()
	if in.Msg.Text != "my invoice is wrong" {
		t.Errorf("text %q, want the bot mention stripped", in.Msg.Text)
	}
	if in.Msg.From.Room != helpCh || in.Msg.From.Thread != top || in.Msg.From.Space != e.fake.Team {
		t.Errorf("address %+v, want a thread on the message in %s", in.Msg.From, helpCh)
	}
	e.push(fakeslack.Message{Channel: helpCh, User: customerU, ThreadTS: top, Text: "order 77"})
	if in2 := e.next(); in2.Msg.From.ConversationID() != in.Msg.From.ConversationID() {
		t.Errorf("thread reply in %s, want the same conversation %s", in2.Msg.From.ConversationID(), in.Msg.From.ConversationID())
	}
	if err := e.ch.Send(within(t), in.Msg.From, bot.Reply{Text: "Looking into it"}); err != nil {
		t.Fatal(err)
	}
	if p := e.waitPost(fakeslack.InThread(helpCh, top)); p.Text != "Looking into it" {
		t.Errorf("reply %q", p.Text)
	}
}

func TestReconnectsOnDisconnect(t *testing.T) {
	e := start(t).listen().connected()
	if err := e.fake.Disconnect(within(t)); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.WaitConnections(within(t), 2); err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	e.say("still there?")
	if in := e.next(); in.Msg.Text != "still there?" {
		t.Errorf("got %q", in.Msg.Text)
	}
}

func TestListenFailsOnBadToken(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	ch, err := slack.New(testConfig(), slack.Tokens{Bot: "xoxb-wrong", App: fake.AppToken}, nil, testLog(t), slack.WithAPIURL(fake.APIURL()))
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Listen(within(t), func(context.Context, bot.Inbound) {})
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("Listen = %v, want an invalid_auth error", err)
	}
	ch, _ = slack.New(testConfig(), slack.Tokens{Bot: fake.BotToken, App: "xapp-wrong"}, nil, testLog(t), slack.WithAPIURL(fake.APIURL()))
	if err := ch.Listen(within(t), func(context.Context, bot.Inbound) {}); err == nil {
		t.Error("Listen with a bad app token returned nil, want an error")
	}
}

func TestRateLimitedPostIsRetried(t *testing.T) {
	e := start(t)
	e.fake.RateLimit("chat.postMessage", 2, 0)
	to := bot.Address{Channel: "slack", Room: customerDM}
	if err := e.ch.Send(within(t), to, bot.Reply{Text: "after the 429s"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := e.fake.Calls("chat.postMessage"); n != 3 {
		t.Errorf("chat.postMessage called %d times, want 2 rate-limited + 1", n)
	}
	if ps := e.fake.Posts(); len(ps) != 1 || ps[0].Text != "after the 429s" {
		t.Errorf("posts = %s, want exactly one", dump(ps))
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a second")
	}
	e := start(t)
	e.fake.RateLimit("chat.postMessage", 1, time.Second)
	start := time.Now()
	if err := e.ch.Send(within(t), bot.Address{Channel: "slack", Room: customerDM}, bot.Reply{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, want the 1s Slack asked for", d)
	}
}

func TestSendChoicesAsButtons(t *testing.T) {
	e := start(t)
	to := bot.Address{Channel: "slack", Room: customerDM}
	r := bot.Reply{Text: "Did you mean… @here <!channel>", Kind: bot.KindSuggest, Choices: []bot.Choice{
		{Label: "Returns <!here>", Value: "returns"}, {Label: "Talk to a human", Value: "human"}}}
	if err := e.ch.Send(within(t), to, r); err != nil {
		t.Fatal(err)
	}
	p := e.waitPost(fakeslack.In(customerDM))
	b := p.Buttons()
	if len(b) != 2 || b[0].Value != "returns" || b[1].Value != "human" || b[0].Text != "Returns ‹!here›" {
		t.Errorf("buttons = %+v", b)
	}
	if why := pings(p); why != "" {
		t.Errorf("reply would ping: %s", why)
	}
}

// newEngine wires the real engine and embedded store to an adapter.
func newEngine(t *testing.T, e *env, h bot.HandlerFunc) *bot.Engine {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{SweepEvery: -1, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	eng := bot.New(bot.Config{}, st, h, testLog(t))
	eng.Add(e.ch)
	t.Cleanup(func() { _ = eng.Shutdown(context.Background()) })
	return eng
}

func TestRetriedEventGetsNoDuplicateReply(t *testing.T) {
	e := start(t)
	eng := newEngine(t, e, func(_ context.Context, turn *bot.Turn) error {
		turn.Reply(bot.Reply{Text: "echo: " + turn.Msg.Text})
		return nil
	})
	e.deliver = eng.Deliver
	e.listen().connected()
	payload, _ := e.fake.Event(fakeslack.Message{Channel: customerDM, User: customerU, Text: "once"})
	for i := range 3 { // the original and two retries with the same event_id
		env, err := e.fake.Push(within(t), fakeslack.Envelope{Type: "events_api", Payload: payload, RetryAttempt: i, RetryReason: "timeout"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.fake.WaitAck(within(t), env); err != nil {
			t.Fatal(err)
		}
	}
	e.waitPost(fakeslack.Contains("echo: once"))
	e.say("marker") // handled after the retries: same conversation, in order
	e.waitPost(fakeslack.Contains("echo: marker"))
	n := 0
	for _, p := range e.fake.Posts() {
		if strings.Contains(p.Text, "echo: once") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d replies to one event delivered 3 times, want 1", n)
	}
}

func TestSendLongReplyWithChoices(t *testing.T) {
	e := start(t)
	long := strings.Repeat("All about refunds & returns.\n", 300) // ~8.7 kB
	r := bot.Reply{Text: long, Choices: []bot.Choice{{Label: "Yes", Value: "yes"}}}
	if err := e.ch.Send(within(t), bot.Address{Channel: "slack", Room: customerDM}, r); err != nil {
		t.Fatal(err)
	}
	p := e.waitPost(fakeslack.In(customerDM))
	if p.Text != slack.Escape(long) {
		t.Errorf("fallback text was cut: %d bytes, want %d", len(p.Text), len(slack.Escape(long)))
	}
	var blocks []struct {
		Type string `json:"type"`
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal(p.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	for _, b := range blocks {
		if len(b.Text.Text) > 3000 {
			t.Errorf("a %s block has %d characters, over Slack's 3000", b.Type, len(b.Text.Text))
		}
		joined.WriteString(b.Text.Text)
	}
	if got := strings.ReplaceAll(joined.String(), "\n", ""); got != strings.ReplaceAll(slack.Escape(long), "\n", "") {
		t.Error("the sections do not add up to the whole text")
	}
	if len(p.Buttons()) != 1 {
		t.Errorf("buttons = %v", p.Buttons())
	}
}
