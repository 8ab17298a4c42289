package slack_test

import (
	"sync"
	"testing"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/internal/fakeslack"
)

// platform drives the fake Slack for the conformance suite: the customer
// writes in their DM with the bot.
type platform struct {
	e    *env
	mu   sync.Mutex
	last []byte // payload of the last injected event
	seen int    // posts already returned by NextPost
}

func (p *platform) Inject(t *testing.T, text string) {
	payload, _ := p.e.fake.Event(fakeslack.Message{Channel: customerDM, User: customerU, Text: text})
	p.mu.Lock()
	p.last = payload
	p.mu.Unlock()
	p.pushEvent(t, fakeslack.Envelope{Type: "events_api", Payload: payload})
}

func (p *platform) InjectOwn(t *testing.T, text string) {
	payload, _ := p.e.fake.Event(fakeslack.Message{Channel: customerDM, SubType: "bot_message",
		BotID: p.e.fake.BotID, User: p.e.fake.BotUserID, Text: text})
	p.pushEvent(t, fakeslack.Envelope{Type: "events_api", Payload: payload})
}

func (p *platform) Redeliver(t *testing.T) {
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	p.pushEvent(t, fakeslack.Envelope{Type: "events_api", Payload: last, RetryAttempt: 1, RetryReason: "timeout"})
}

func (p *platform) pushEvent(t *testing.T, env fakeslack.Envelope) {
	t.Helper()
	id, err := p.e.fake.Push(within(t), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.e.fake.WaitAck(within(t), id); err != nil {
		t.Fatal(err)
	}
}

func (p *platform) NextPost(t *testing.T) channeltest.Post {
	t.Helper()
	p.mu.Lock()
	from := p.seen
	p.mu.Unlock()
	got, err := p.e.fake.WaitPostFrom(within(t), from, func(fakeslack.Post) bool { return true })
	if err != nil {
		t.Fatalf("no post: %v", err)
	}
	p.mu.Lock()
	p.seen = from + 1
	p.mu.Unlock()
	post := channeltest.Post{To: bot.Address{Channel: "slack", Space: p.e.fake.Team, Room: got.Channel, Thread: got.ThreadTS},
		Text: got.Text, Pings: pings(got) != ""}
	for _, b := range got.Buttons() {
		post.Choices = append(post.Choices, b.Value)
	}
	return post
}

func (p *platform) Press(t *testing.T, post channeltest.Post, value string) {
	t.Helper()
	for _, x := range p.e.fake.Posts() {
		if x.Channel != post.To.Room || x.Text != post.Text {
			continue
		}
		for _, b := range x.Buttons() {
			if b.Value == value {
				if err := p.e.press(within(t), customerU, x, b.ActionID); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("no button %q on %+v", value, post)
}

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Features{Buttons: true, Retries: true}, func(t *testing.T) channeltest.Harness {
		e := start(t)
		return channeltest.Harness{Channel: e.ch, Platform: &platform{e: e}}
	})
}
