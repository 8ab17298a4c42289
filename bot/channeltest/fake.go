package channeltest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Fake is an in-memory bot.Channel. Tests write as a customer with Say and
// read what the bot sent from Posts. It passes Run.
type Fake struct {
	name  string
	in    chan bot.Inbound
	posts chan Post

	mu   sync.Mutex
	seq  int
	last bot.Inbound
	all  []Post
}

var _ bot.Channel = (*Fake)(nil)

// NewFake returns a Fake channel called name.
func NewFake(name string) *Fake {
	return &Fake{name: name, in: make(chan bot.Inbound, 1024), posts: make(chan Post, 4096)}
}

// Name implements bot.Channel.
func (f *Fake) Name() string { return f.name }

// Listen implements bot.Channel.
func (f *Fake) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case i := <-f.in:
			deliver(ctx, i)
		}
	}
}

// Send implements bot.Channel: mentions are neutralised before "posting".
func (f *Fake) Send(_ context.Context, to bot.Address, r bot.Reply) error {
	text := r.Text
	if r.Kind == bot.KindAgent && r.Author != "" {
		text = r.Author + ": " + text
	}
	text = strings.NewReplacer("@", "@\u200b", "<", "&lt;", ">", "&gt;").Replace(text)
	p := Post{To: to, Text: text}
	for _, c := range r.Choices {
		p.Choices = append(p.Choices, c.Value)
	}
	f.mu.Lock()
	f.all = append(f.all, p)
	f.mu.Unlock()
	f.posts <- p
	return nil
}

// Say makes customer write text in room and returns the inbound event.
// ack, if not nil, is closed when the engine is done with it.
func (f *Fake) Say(room, customer, text string, ack chan<- struct{}) bot.Inbound {
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("m%d", f.seq)
	f.mu.Unlock()
	i := bot.Inbound{Key: f.name + ":" + id, Msg: bot.Message{ID: id, Text: text,
		From:     bot.Address{Channel: f.name, Room: room},
		Customer: bot.Customer{ID: f.name + ":" + customer, Name: customer}, Role: bot.RoleCustomer}}
	if ack != nil {
		i.Ack = func() { close(ack) }
	}
	f.mu.Lock()
	f.last = i
	f.mu.Unlock()
	f.in <- i
	return i
}

// Resend delivers i again, as a platform retry would.
func (f *Fake) Resend(i bot.Inbound) { f.in <- i }

// Posts returns everything sent so far, in order.
func (f *Fake) Posts() []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Post(nil), f.all...)
}

// Next waits up to Wait for the next post.
func (f *Fake) Next(t testing.TB) Post {
	t.Helper()
	select {
	case p := <-f.posts:
		return p
	case <-time.After(Wait):
		t.Fatalf("%s: no post within %v", f.name, Wait)
	}
	return Post{}
}

// FakePlatform adapts a Fake to Platform for the conformance suite.
type FakePlatform struct{ F *Fake }

func (p FakePlatform) Inject(_ *testing.T, text string) { p.F.Say("room1", "cust", text, nil) }

// InjectOwn is a no-op: the Fake never echoes the bot's own posts.
func (p FakePlatform) InjectOwn(*testing.T, string) {}

func (p FakePlatform) Redeliver(*testing.T) {
	p.F.mu.Lock()
	i := p.F.last
	p.F.mu.Unlock()
	p.F.Resend(i)
}

func (p FakePlatform) NextPost(t *testing.T) Post {
	post := p.F.Next(t)
	post.Pings = strings.Contains(post.Text, "@everyone") || strings.Contains(post.Text, "@here") || strings.Contains(post.Text, "<@")
	return post
}

func (p FakePlatform) Press(_ *testing.T, post Post, value string) {
	p.F.Say(post.To.Room, "cust", value, nil)
}
