// Package handofftest has recording fakes for testing code around the desk:
// Workspace records what the desk shows agents, Channel records what the
// customer receives. Both are safe for concurrent use.
package handofftest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// Call is one call the desk made on a Workspace.
type Call struct {
	Op    string // "announce", "update", "relay", "remind"
	Card  handoff.Card
	Msg   bot.Message // relay
	Level int         // remind
}

// Workspace is a recording handoff.Workspace. Announce returns the refs
// {"post": "<name>-<n>"}.
type Workspace struct {
	name string

	mu    sync.Mutex
	calls []Call
	seq   int
}

var _ handoff.Workspace = (*Workspace)(nil)

// NewWorkspace returns a Workspace called name.
func NewWorkspace(name string) *Workspace { return &Workspace{name: name} }

// Name implements handoff.Workspace.
func (w *Workspace) Name() string { return w.name }

func (w *Workspace) add(c Call) {
	c.Card.Refs = maps.Clone(c.Card.Refs)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, c)
}

// Announce implements handoff.Workspace.
func (w *Workspace) Announce(_ context.Context, c handoff.Card) (map[string]string, error) {
	w.add(Call{Op: "announce", Card: c})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return map[string]string{"post": fmt.Sprintf("%s-%d", w.name, w.seq)}, nil
}

// Update implements handoff.Workspace.
func (w *Workspace) Update(_ context.Context, c handoff.Card) error {
	w.add(Call{Op: "update", Card: c})
	return nil
}

// Relay implements handoff.Workspace.
func (w *Workspace) Relay(_ context.Context, c handoff.Card, m bot.Message) error {
	w.add(Call{Op: "relay", Card: c, Msg: m})
	return nil
}

// Remind implements handoff.Workspace.
func (w *Workspace) Remind(_ context.Context, c handoff.Card, level int) error {
	w.add(Call{Op: "remind", Card: c, Level: level})
	return nil
}

// Calls returns the calls so far whose Op is one of ops (all if none), in order.
func (w *Workspace) Calls(ops ...string) []Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Call
	for _, c := range w.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// For returns the calls about conversation id whose Op is one of ops.
func (w *Workspace) For(id bot.ConversationID, ops ...string) []Call {
	var out []Call
	for _, c := range w.Calls(ops...) {
		if c.Card.Conv == id {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the calls so far.
func (w *Workspace) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = nil
}

// Sent is one reply the customer received.
type Sent struct {
	To    bot.Address
	Reply bot.Reply
}

// Channel is a recording bot.Channel for engine and desk tests. Listen
// only waits; tests hand messages to the engine with Message and
// bot.Engine.Deliver.
type Channel struct {
	name string

	mu   sync.Mutex
	sent []Sent
	seq  int
}

var _ bot.Channel = (*Channel)(nil)

// NewChannel returns a Channel called name.
func NewChannel(name string) *Channel { return &Channel{name: name} }

// Name implements bot.Channel.
func (c *Channel) Name() string { return c.name }

// Listen implements bot.Channel: it returns nil when ctx is canceled.
func (c *Channel) Listen(ctx context.Context, _ func(context.Context, bot.Inbound)) error {
	<-ctx.Done()
	return nil
}

// Send implements bot.Channel.
func (c *Channel) Send(_ context.Context, to bot.Address, r bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Choices = slices.Clone(r.Choices)
	r.Meta = maps.Clone(r.Meta)
	c.sent = append(c.sent, Sent{To: to, Reply: r})
	return nil
}

// Message returns an inbound message from customer in room, with a fresh
// platform ID.
func (c *Channel) Message(room, customer, text string) bot.Inbound {
	c.mu.Lock()
	c.seq++
	id := fmt.Sprintf("m%d", c.seq)
	c.mu.Unlock()
	return bot.Inbound{Key: c.name + ":" + id, Msg: bot.Message{ID: id, Text: text, Role: bot.RoleCustomer,
		From: bot.Address{Channel: c.name, Room: room}, Customer: bot.Customer{ID: c.name + ":" + customer, Name: customer}}}
}

// Sent returns the replies sent to room so far (all rooms if room is ""), in order.
func (c *Channel) Sent(room string) []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Sent
	for _, s := range c.sent {
		if room == "" || s.To.Room == room {
			out = append(out, s)
		}
	}
	return out
}

// Texts returns the texts sent to room so far, in order.
func (c *Channel) Texts(room string) []string {
	var out []string
	for _, s := range c.Sent(room) {
		out = append(out, s.Reply.Text)
	}
	return out
}

// Last returns the last reply sent to room, or the zero Sent.
func (c *Channel) Last(room string) Sent {
	s := c.Sent(room)
	if len(s) == 0 {
		return Sent{}
	}
	return s[len(s)-1]
}

// Contains reports whether any reply to room so far contains sub.
func (c *Channel) Contains(room, sub string) bool {
	for _, t := range c.Texts(room) {
		if strings.Contains(t, sub) {
			return true
		}
	}
	return false
}
