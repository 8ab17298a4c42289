package slack

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// threadIndex maps card threads (channel, ts) to conversations and
// remembers who holds each card. It is a cache: the truth is Card.Refs,
// kept with the conversation by the desk, optionally mirrored in a
// bot.DocStore so another replica or a restarted process finds it.
type threadIndex struct {
	docs bot.DocStore // may be nil
	now  func() time.Time

	mu    sync.Mutex
	convs map[string]bot.ConversationID // channel+"/"+ts → conversation
	cards map[bot.ConversationID]cardRef
}

type cardRef struct{ channel, ts, holder string }

const maxIndexed = 100000

func newThreadIndex(docs bot.DocStore, now func() time.Time) *threadIndex {
	return &threadIndex{docs: docs, now: now, convs: map[string]bot.ConversationID{}, cards: map[bot.ConversationID]cardRef{}}
}

func docName(channel, ts string) string { return "slack.thread/" + channel + "/" + ts }

// put indexes the card of conv at channel/ts, in memory and in the store.
func (x *threadIndex) put(ctx context.Context, conv bot.ConversationID, channel, ts string) error {
	if !x.remember(conv, channel, ts) || x.docs == nil {
		return nil
	}
	_, err := x.docs.PutDoc(ctx, bot.Doc{Name: docName(channel, ts), Data: []byte(conv), Author: Name,
		Expires: x.now().Add(ThreadKeep)}, 0)
	if errors.Is(err, bot.ErrConflict) {
		return nil
	}
	return err
}

// remember indexes in memory; it reports whether the entry is new.
func (x *threadIndex) remember(conv bot.ConversationID, channel, ts string) bool {
	if conv == "" || channel == "" || ts == "" {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	k := channel + "/" + ts
	if x.convs[k] == conv {
		return false
	}
	if len(x.convs) >= maxIndexed {
		clear(x.convs)
		clear(x.cards)
	}
	x.convs[k] = conv
	r := x.cards[conv]
	r.channel, r.ts = channel, ts
	x.cards[conv] = r
	return true
}

// observe learns from a card the desk handed over: its refs and holder.
func (x *threadIndex) observe(c handoff.Card) {
	x.remember(c.Conv, c.Refs[RefChannel], c.Refs[RefTS])
	x.mu.Lock()
	defer x.mu.Unlock()
	r, ok := x.cards[c.Conv]
	if !ok {
		return
	}
	r.holder = holderText(c)
	x.cards[c.Conv] = r
}

// holderText is how a card's holder is shown: a Slack mention for Slack
// agents, the escaped name for others.
func holderText(c handoff.Card) string {
	if c.State != bot.StateAgent || c.Agent == "" {
		return ""
	}
	if u, ok := strings.CutPrefix(c.Agent, Name+":"); ok {
		return "<@" + u + ">"
	}
	if c.AgentName != "" {
		return Escape(c.AgentName)
	}
	return Escape(c.Agent)
}

func (x *threadIndex) holder(conv bot.ConversationID) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.cards[conv].holder
}

// find returns the conversation whose card is channel/ts: from memory, then
// the store, then (if queue is set) the cards still waiting in the queue.
func (x *threadIndex) find(ctx context.Context, channel, ts string, queue func(context.Context) ([]handoff.Card, error)) (bot.ConversationID, bool) {
	x.mu.Lock()
	conv, ok := x.convs[channel+"/"+ts]
	x.mu.Unlock()
	if ok {
		return conv, true
	}
	if x.docs != nil {
		if d, err := x.docs.Doc(ctx, docName(channel, ts)); err == nil && len(d.Data) > 0 {
			conv = bot.ConversationID(d.Data)
			x.remember(conv, channel, ts)
			return conv, true
		}
	}
	if queue == nil {
		return "", false
	}
	cards, err := queue(ctx)
	if err != nil {
		return "", false
	}
	for _, c := range cards {
		x.observe(c)
		if c.Refs[RefChannel] == channel && c.Refs[RefTS] == ts {
			conv, ok = c.Conv, true
		}
	}
	return conv, ok
}
