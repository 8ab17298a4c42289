package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Keys the desk keeps in Conversation.Data.
const (
	dataSince        = "handoff.since"         // RFC 3339: when this wait for a human began
	dataTopic        = "handoff.topic"         // Request.Topic
	dataAgentName    = "handoff.agent_name"    // display name of the holder
	dataToldPos      = "handoff.told_pos"      // last position told to the customer
	dataToldAt       = "handoff.told_at"       // RFC 3339: when
	dataAwaitContact = "handoff.await_contact" // "1": asked for contact details
	dataAfterHours   = "handoff.after_hours"   // "1": handed off while closed
	dataCSATStage    = "handoff.csat"          // "comment": rated, one comment accepted
	dataSubject      = "handoff.subject"       // first customer message, shortened
	dataReleasedBy   = "handoff.released_by"   // agent who released or transferred it back to the queue
	dataRefPrefix    = "ref."                  // ref.<workspace>.<key>: Workspace.Announce refs
	// DataContact is where the customer's email or phone number is kept.
	DataContact = "contact"
)

// Card returns the card of conversation id as agents see it now.
func (d *Desk) Card(ctx context.Context, id bot.ConversationID) (Card, error) {
	c, err := d.conv.Conversation(ctx, id)
	if err != nil {
		return Card{}, fmt.Errorf("card %s: %w", id, err)
	}
	return d.card(ctx, c, nil)
}

// card builds the full card of c. queue, if not nil, is the current queue
// (to compute Position without reading it again).
func (d *Desk) card(ctx context.Context, c *bot.Conversation, queue []Entry) (Card, error) {
	k := d.lightCard(c)
	last, err := d.conv.Transcript(ctx, c.ID, max(d.conf().HistoryLen, summaryWindow))
	if err != nil {
		return Card{}, fmt.Errorf("card %s: transcript: %w", c.ID, err)
	}
	k.Last = last[max(0, len(last)-d.conf().HistoryLen):]
	k.Summary = d.summary(ctx, c, last)
	if k.History, err = d.history(ctx, c); err != nil {
		d.log.Warn("card: customer history", "conversation", c.ID, "err", err)
	}
	if c.State == bot.StateQueued {
		if queue == nil {
			if queue, err = d.st.Queue(ctx); err != nil {
				return Card{}, fmt.Errorf("card %s: queue: %w", c.ID, err)
			}
		}
		k.Position = position(queue, c.ID)
	}
	return k, nil
}

// lightCard is the card without reading the store: what Relay needs.
func (d *Desk) lightCard(c *bot.Conversation) Card {
	k := Card{
		Conv: c.ID, Customer: c.Customer, Platform: c.Address.Channel,
		Lang: c.Lang, AgentLang: d.agentLang(c), Intent: c.Intent, Confidence: c.Score,
		Reason: c.Reason, Tried: slices.Clone(c.Tried), Sentiment: sentimentLabel(c.Sentiment),
		State: c.State, Skill: c.Skill, Priority: c.Priority, Since: since(c),
		Topic: c.Data[dataTopic], Contact: c.Data[DataContact],
	}
	if c.State == bot.StateAgent || c.State == bot.StateResolved {
		k.Agent, k.AgentName = c.Agent, c.Data[dataAgentName]
	}
	if c.State == bot.StateQueued && c.Data[dataAfterHours] == "1" {
		if _, next := d.Open(d.now()); next.After(d.now()) {
			k.Opens = next
		}
	}
	return k
}

// refsOf returns the refs workspace ws keeps on c.
func refsOf(c *bot.Conversation, ws string) map[string]string {
	pre := dataRefPrefix + ws + "."
	var out map[string]string
	for k, v := range c.Data {
		if key, ok := strings.CutPrefix(k, pre); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[key] = v
		}
	}
	return out
}

// since is when the current wait for a human began.
func since(c *bot.Conversation) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, c.Data[dataSince]); err == nil {
		return t
	}
	return c.Queued
}

// position is the 1-based place of id in queue, 0 if absent.
func position(queue []Entry, id bot.ConversationID) int {
	for i, e := range queue {
		if e.Conv == id {
			return i + 1
		}
	}
	return 0
}

// sentimentLabel reads Conversation.Sentiment (-1..1).
func sentimentLabel(s float64) string {
	switch {
	case s <= -0.25:
		return "negative"
	case s >= 0.25:
		return "positive"
	}
	return "neutral"
}

// maxPast is how many earlier conversations a card shows.
const maxPast = 5

// history lists the customer's earlier conversations, newest first.
func (d *Desk) history(ctx context.Context, c *bot.Conversation) ([]Past, error) {
	if c.Customer.ID == "" {
		return nil, nil
	}
	ids, err := d.conv.CustomerConversations(ctx, c.Customer.ID)
	if err != nil {
		return nil, err
	}
	var out []Past
	for i := len(ids) - 1; i >= 0 && len(out) < maxPast; i-- {
		if ids[i] == c.ID {
			continue
		}
		p, err := d.conv.Conversation(ctx, ids[i])
		if errors.Is(err, bot.ErrNotFound) { // expired by retention
			continue
		}
		if err != nil {
			return out, err
		}
		past := Past{Conv: p.ID, Channel: p.Address.Channel, Outcome: outcome(p), Started: p.Created,
			Subject: p.Data[dataSubject]}
		if p.CSAT != nil {
			past.CSAT = p.CSAT.Score
		}
		if past.Subject == "" {
			past.Subject = d.subject(ctx, p.ID)
		}
		out = append(out, past)
	}
	return out, nil
}

// outcome says how a conversation ended (or where it stands).
func outcome(c *bot.Conversation) string {
	switch c.State {
	case bot.StateQueued:
		return "waiting"
	case bot.StateAgent:
		return "with agent"
	}
	human, abandoned := false, false
	for _, h := range c.History {
		human = human || h.To == bot.StateAgent
		abandoned = h.Reason == bot.ReasonAbandoned
	}
	switch {
	case abandoned && c.State == bot.StateBot:
		return "abandoned"
	case human && c.State == bot.StateResolved:
		return "resolved by agent"
	case human:
		return "agent"
	case c.State == bot.StateResolved:
		return "resolved"
	}
	return "bot"
}

// subject is the first customer message of id, shortened.
func (d *Desk) subject(ctx context.Context, id bot.ConversationID) string {
	msgs, err := d.conv.Transcript(ctx, id, 0)
	if err != nil {
		return ""
	}
	for _, m := range msgs {
		if m.Role == bot.RoleCustomer {
			return shorten(m.Text, 80)
		}
	}
	return ""
}

// shorten cuts s to at most n runes at a word boundary, adding "…".
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}
