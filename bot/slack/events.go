package slack

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack/slackevents"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// onEvent routes one Events API event (either transport). Customer
// messages are deduped by the engine through Inbound.Key ("slack:" +
// event_id, the same on every retry), agent replies here (firstSeen).
func (c *Channel) onEvent(r *runner, e slackevents.EventsAPIEvent, retry int) {
	if e.Type != slackevents.CallbackEvent {
		return
	}
	outer, ok := e.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok {
		return
	}
	m, ok := e.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return
	}
	if retry > 0 {
		// Delivered again with the same key: the engine drops it if the
		// first delivery was taken, and handles it if that was lost.
		c.log.Info("Slack retried an event", "event", outer.EventID, "retry", retry)
	}
	c.onMessage(r, e.TeamID, outer.EventID, m)
}

// onMessage sorts a message: an agent's reply in a card thread, a customer
// message (DM or configured customer channel), or nothing for us.
func (c *Channel) onMessage(r *runner, team, eventID string, m *slackevents.MessageEvent) {
	self := c.identity()
	if m.BotID != "" || m.User == "" || m.User == self.UserID {
		return
	}
	switch m.SubType {
	case "", "thread_broadcast", "file_share":
	default: // edits, deletions, joins, bot messages
		return
	}
	r.do(m.Channel+"/"+m.ThreadTimeStamp, func(ctx context.Context) {
		if m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp {
			var queue func(context.Context) ([]handoff.Card, error)
			if d, err := c.getDesk(); err == nil && m.Channel == c.cfg.HandoffChannel {
				queue = d.Queue
			}
			if conv, ok := c.threads.find(ctx, m.Channel, m.ThreadTimeStamp, queue); ok {
				c.onAgentReply(ctx, conv, eventID, m)
				return
			}
		}
		if m.ChannelType != slackevents.ChannelTypeIM && !c.customer[m.Channel] {
			return
		}
		c.onCustomer(ctx, r, team, eventID, m)
	})
}

func (c *Channel) onCustomer(ctx context.Context, r *runner, team, eventID string, m *slackevents.MessageEvent) {
	text := Plain(stripMention(m.Text, c.identity().UserID), c.nameFunc(ctx))
	if strings.TrimSpace(text) == "" {
		return
	}
	addr := c.customerAddress(team, m.Channel, m.ThreadTimeStamp, m.TimeStamp)
	key := "slack:" + eventID
	if eventID == "" {
		key = "slack:" + m.Channel + ":" + m.TimeStamp
	}
	r.deliver(ctx, bot.Inbound{Key: key, Msg: bot.Message{
		ID: m.Channel + "-" + m.TimeStamp, From: addr, Customer: c.customerOf(ctx, m.User),
		Role: bot.RoleCustomer, Text: text, At: tsTime(m.TimeStamp),
	}})
}

// customerAddress is the conversation address of a customer message: one
// conversation per DM, one per thread in a customer channel (a top-level
// message starts a thread).
func (c *Channel) customerAddress(team, channel, threadTS, ts string) bot.Address {
	a := bot.Address{Channel: Name, Space: team, Room: channel}
	if c.customer[channel] {
		a.Thread = threadTS
		if a.Thread == "" {
			a.Thread = ts
		}
	}
	return a
}

// onAgentReply forwards an agent's reply in a card thread to the desk: to
// the customer, or as an internal note when it starts with the note prefix.
func (c *Channel) onAgentReply(ctx context.Context, conv bot.ConversationID, eventID string, m *slackevents.MessageEvent) {
	if eventID != "" && !c.firstSeen(ctx, "slack:agent:"+eventID) {
		return
	}
	d, err := c.getDesk()
	if err != nil {
		c.ephemeral(ctx, m.Channel, m.ThreadTimeStamp, m.User, "No handoff desk is running, so this reply went nowhere.")
		return
	}
	a := c.agent(ctx, d, m.User)
	raw := strings.TrimSpace(m.Text)
	verb := "reply"
	if note, ok := cutPrefixFold(raw, c.cfg.NotePrefix); ok {
		verb = "note"
		text := Plain(strings.TrimSpace(note), c.nameFunc(ctx))
		c.echo.first(string(conv)+"\x00"+text, c.now())
		err = d.Note(ctx, conv, a, text)
	} else {
		text := Plain(raw, c.nameFunc(ctx))
		c.echo.first(string(conv)+"\x00"+text, c.now())
		err = d.Reply(ctx, conv, a, text)
	}
	switch {
	case errors.Is(err, bot.ErrClaimed):
		c.ephemeral(ctx, m.Channel, m.ThreadTimeStamp, m.User,
			"This conversation is already taken by "+c.holder(conv, err)+"; your "+verb+" was not sent.")
	case err != nil:
		c.log.Warn("agent "+verb, "conversation", conv, "agent", a.ID, "err", err)
		c.ephemeral(ctx, m.Channel, m.ThreadTimeStamp, m.User, "Your "+verb+" could not be delivered: "+Escape(err.Error()))
	}
}

// holder names who holds conv for a denied agent: from the last card the
// desk showed us, else from the desk's error ("… held by <name>"), which
// may be newer than the card when two agents race.
func (c *Channel) holder(conv bot.ConversationID, err error) string {
	if err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, "held by "); i >= 0 {
			who, _, _ := strings.Cut(msg[i+len("held by "):], ": ")
			who = strings.TrimSpace(strings.TrimRight(who, ")"))
			if u, ok := strings.CutPrefix(who, Name+":"); ok {
				return "<@" + u + ">"
			}
			if who != "" {
				return Escape(clip(who, 80))
			}
		}
	}
	if h := c.threads.holder(conv); h != "" {
		return h
	}
	return "another agent"
}

// firstSeen dedupes agent events in this process and, with WithDeduper,
// across replicas. A store error counts as first: better twice than never.
func (c *Channel) firstSeen(ctx context.Context, key string) bool {
	if !c.seen.first(key, c.now()) {
		return false
	}
	if c.dedupe == nil {
		return true
	}
	first, err := c.dedupe.FirstSeen(ctx, key, 24*time.Hour)
	if err != nil {
		c.log.Warn("dedupe", "key", key, "err", err)
		return true
	}
	return first
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// tsTime converts a Slack ts ("1700000000.000100") to a time without
// going through a float.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000)
}
