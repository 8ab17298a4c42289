package discord

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/internal/fakediscord"
)

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Features{Buttons: true, Retries: true}, func(t *testing.T) channeltest.Harness {
		fd := newFake(t)
		return channeltest.Harness{Channel: newAdapter(t, fd, testConfig()), Platform: &platform{fd: fd}}
	})
}

// platform drives the fake as channeltest.Platform: customers write in the
// support channel, so every conversation lives in its own thread.
type platform struct {
	fd *fakediscord.Server

	mu   sync.Mutex
	last map[string]any // the last injected MESSAGE_CREATE
	seen int            // posts returned by NextPost
}

func (p *platform) Inject(t *testing.T, text string) {
	connected(t, p.fd, 1)
	m := fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: text}
	d := p.fd.MessagePayload(&m)
	p.mu.Lock()
	p.last = d
	p.mu.Unlock()
	p.fd.Dispatch("MESSAGE_CREATE", d)
}

func (p *platform) InjectOwn(t *testing.T, text string) {
	connected(t, p.fd, 1)
	p.fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Content: text,
		Author: fakediscord.User{ID: p.fd.AppID, Name: "supportbot", Bot: true}})
}

func (p *platform) Redeliver(t *testing.T) {
	p.mu.Lock()
	d := p.last
	p.mu.Unlock()
	p.fd.Dispatch("MESSAGE_CREATE", d)
}

func (p *platform) NextPost(t *testing.T) channeltest.Post {
	p.mu.Lock()
	n := p.seen
	p.seen++
	p.mu.Unlock()
	if err := p.fd.Wait(wait, func() bool { return len(p.fd.Posts()) > n }); err != nil {
		t.Fatalf("no post #%d: %v", n+1, err)
	}
	post := p.fd.Posts()[n]
	var values []string
	for _, id := range post.CustomIDs() {
		v, _ := choiceValue(id)
		values = append(values, v)
	}
	return channeltest.Post{To: bot.Address{Channel: "discord", Space: guild, Room: post.ChannelID},
		Text: post.Content, Choices: values, Pings: pings(post)}
}

// pings reports whether Discord would notify anyone for post: only if
// allowed_mentions lets a mention in the text through.
func pings(post fakediscord.Post) bool {
	if post.AllowedMentions.None() {
		return false
	}
	return strings.Contains(post.Content, "@everyone") || strings.Contains(post.Content, "@here") ||
		strings.Contains(post.Content, "<@")
}

func (p *platform) Press(t *testing.T, cp channeltest.Post, value string) {
	for _, post := range slices.Backward(p.fd.PostsTo(cp.To.Room)) {
		for _, id := range post.CustomIDs() {
			if v, _ := choiceValue(id); v == value {
				p.fd.Click(fakediscord.Click{GuildID: guild, ChannelID: post.ChannelID, User: alice, MessageID: post.ID, CustomID: id})
				return
			}
		}
	}
	t.Fatalf("no button %q in %s", value, cp.To.Room)
}
