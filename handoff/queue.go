package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Handoff hands the conversation of turn t to a human. The router calls it
// inside the turn. It moves the conversation to the queue with r's reason
// code, priority (complaints and negative sentiment first) and skill, tells
// the customer their place and an estimated wait from real recent waits (or
// that it cannot estimate yet), or, outside business hours, when the team
// opens (and, with AfterHours "contact", asks for an email or phone number).
// Once the turn is saved the card goes to every workspace (Broadcast) or the
// queue loop assigns an agent (Assign). A conversation already waiting is
// told where it stands; one held by a human is left alone.
func (d *Desk) Handoff(ctx context.Context, t *bot.Turn, r Request) error {
	c := t.Conv
	if r.Reason == "" {
		r.Reason = bot.ReasonRequested
	}
	switch c.State {
	case bot.StateQueued:
		raised := false
		if p := max(r.Priority, priorityOf(r.Reason, c.Sentiment)); p > c.Priority {
			c.Priority, raised = p, true
			if err := d.st.Enqueue(ctx, entryOf(c)); err != nil {
				return fmt.Errorf("handoff %s: enqueue: %w", c.ID, err)
			}
		}
		d.tellStatus(ctx, t, false)
		if raised {
			d.later(c.ID, "update cards", func(ctx context.Context) error { return d.refresh(ctx, c.ID) })
		}
		return nil
	case bot.StateAgent:
		return nil
	case bot.StateResolved:
		d.reopen(t)
	}
	if err := c.Transition(bot.StateQueued, r.Reason, "", t.Now); err != nil {
		return fmt.Errorf("handoff %s: %w", c.ID, err)
	}
	c.Priority = max(r.Priority, priorityOf(r.Reason, c.Sentiment))
	c.Skill = r.Skill
	clearEpisode(c)
	c.Set(dataSince, t.Now.Format(time.RFC3339Nano))
	if r.Topic != "" {
		c.Set(dataTopic, r.Topic)
	}
	if c.Data[dataSubject] == "" {
		if s := d.subject(ctx, c.ID); s != "" {
			c.Set(dataSubject, s)
		} else if t.Msg.Role == bot.RoleCustomer {
			c.Set(dataSubject, shorten(t.Msg.Text, 80))
		}
	}
	if err := d.st.Enqueue(ctx, entryOf(c)); err != nil {
		return fmt.Errorf("handoff %s: enqueue: %w", c.ID, err)
	}
	open, opens := d.Open(t.Now)
	t.Record(bot.Event{Type: EventHandoff, Reason: r.Reason, Intent: c.Intent,
		Meta: map[string]string{"skill": r.Skill, "priority": strconv.Itoa(c.Priority), "after_hours": strconv.FormatBool(!open)}})

	slaFrom := t.Now
	if !open {
		c.Set(dataAfterHours, "1")
		if !opens.IsZero() {
			slaFrom = opens
		}
	}
	d.scheduleSLA(ctx, c.ID, slaFrom)

	lang := c.Lang
	if open {
		d.tellStatus(ctx, t, true)
	} else {
		text := say(lang, msgIntro) + " " + d.closedText(lang, t.Now, opens)
		if d.conf().AfterHours == AfterHoursContact {
			text += " " + say(lang, msgAskContact)
			c.Set(dataAwaitContact, "1")
			if !opens.IsZero() {
				d.schedule(ctx, bot.Timer{Key: timerKey(timerFollowUp, c.ID), At: opens, Kind: timerFollowUp, Conv: c.ID})
			}
		} else {
			text += " " + say(lang, msgKeepPlace)
		}
		t.Reply(bot.Reply{Kind: bot.KindQueue, Text: text, Choices: leaveChoice(lang),
			Meta: map[string]string{"after_hours": "true", "opens": opens.Format(time.RFC3339)}})
	}

	id := c.ID
	if d.conf().Routing == Assign {
		d.later(id, "assign", func(ctx context.Context) error {
			if _, err := d.peek(ctx, id); err != nil { // wait until the turn is saved
				return err
			}
			d.poke()
			return nil
		})
	} else {
		d.later(id, "announce", func(ctx context.Context) error { return d.announce(ctx, id, "") })
	}
	return nil
}

// priorityOf is the priority the desk gives a reason and sentiment.
func priorityOf(r bot.Reason, sentiment float64) int {
	switch {
	case r == bot.ReasonComplaint:
		return PriorityComplaint
	case r == bot.ReasonNegativeSentiment || sentiment <= -0.25:
		return PriorityUpset
	}
	return PriorityNormal
}

// entryOf is the queue entry of a waiting conversation.
func entryOf(c *bot.Conversation) Entry {
	return Entry{Conv: c.ID, Priority: c.Priority, Since: since(c), Skill: c.Skill, Lang: c.Lang}
}

// clearEpisode forgets what the desk kept about the previous wait.
func clearEpisode(c *bot.Conversation) {
	for _, k := range []string{dataSince, dataToldPos, dataToldAt, dataAwaitContact, dataAfterHours, dataCSATStage, dataTopic, dataReleasedBy} {
		delete(c.Data, k)
	}
}

func leaveChoice(lang string) []bot.Choice {
	return []bot.Choice{{Label: say(lang, msgLeaveLabel), Value: valueLeave}}
}

// closedText says when a person will answer.
func (d *Desk) closedText(lang string, now, opens time.Time) string {
	if opens.IsZero() {
		return say(lang, msgClosed, "{when}", "—")
	}
	return say(lang, msgClosed, "{when}", sayWhen(lang, now, opens))
}

// tellStatus replies with the customer's place in the queue and the wait
// estimate (intro first when they just joined), and remembers what was told.
func (d *Desk) tellStatus(ctx context.Context, t *bot.Turn, intro bool) {
	c := t.Conv
	lang := c.Lang
	if open, opens := d.Open(t.Now); !open {
		t.Reply(bot.Reply{Kind: bot.KindQueue, Text: d.closedText(lang, t.Now, opens) + " " + say(lang, msgKeepPlace),
			Choices: leaveChoice(lang), Meta: map[string]string{"after_hours": "true"}})
		return
	}
	q, err := d.st.Queue(ctx)
	if err != nil {
		d.log.Warn("queue status", "conversation", c.ID, "err", err)
	}
	pos := position(q, c.ID)
	var parts []string
	if intro {
		parts = append(parts, say(lang, msgIntro))
	}
	parts = append(parts, d.placeText(ctx, lang, pos, false))
	parts = append(parts, say(lang, msgLeaveHint))
	t.Reply(bot.Reply{Kind: bot.KindQueue, Text: strings.Join(parts, " "), Choices: leaveChoice(lang),
		Meta: map[string]string{"position": strconv.Itoa(pos)}})
	if pos > 0 {
		c.Set(dataToldPos, strconv.Itoa(pos))
		c.Set(dataToldAt, t.Now.Format(time.RFC3339Nano))
	}
}

// placeText is "You are number N in the queue. Estimated wait: …".
func (d *Desk) placeText(ctx context.Context, lang string, pos int, update bool) string {
	var s string
	switch {
	case pos == 1:
		s = say(lang, msgNext)
	case update:
		s = say(lang, msgUpdate, "{n}", strconv.Itoa(pos))
	case pos > 1:
		s = say(lang, msgPosition, "{n}", strconv.Itoa(pos))
	}
	if eta, ok := d.estimate(ctx, max(pos, 1)); ok {
		return strings.TrimSpace(s + " " + say(lang, msgETA, "{eta}", sayWait(lang, eta)))
	}
	return strings.TrimSpace(s + " " + say(lang, msgNoETA))
}

// tellPosition tells a waiting customer their new place if it changed
// meaningfully: it improved, and it is now 1 to 3 or the last update is
// UpdateEvery old; or the team has just opened after an after-hours handoff.
func (d *Desk) tellPosition(ctx context.Context, id bot.ConversationID, pos int) error {
	err := d.run.Do(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		c := t.Conv
		if c.State != bot.StateQueued {
			return errPeek
		}
		if open, _ := d.Open(t.Now); !open {
			return errPeek
		}
		told, _ := strconv.Atoi(c.Data[dataToldPos])
		toldAt, _ := time.Parse(time.RFC3339Nano, c.Data[dataToldAt])
		opened := c.Data[dataAfterHours] == "1"
		if !opened && (told == 0 || pos >= told || (pos > 3 && t.Now.Sub(toldAt) < d.conf().UpdateEvery)) {
			return errPeek
		}
		delete(c.Data, dataAfterHours)
		t.Reply(bot.Reply{Kind: bot.KindQueue, Text: d.placeText(ctx, c.Lang, pos, true), Choices: leaveChoice(c.Lang),
			Meta: map[string]string{"position": strconv.Itoa(pos)}})
		c.Set(dataToldPos, strconv.Itoa(pos))
		c.Set(dataToldAt, t.Now.Format(time.RFC3339Nano))
		return nil
	})
	if errors.Is(err, errPeek) {
		return nil
	}
	return err
}

// Queue lists the waiting conversations, first served first, as cards with
// Position and Since.
func (d *Desk) Queue(ctx context.Context) ([]Card, error) {
	entries, err := d.st.Queue(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var live []Entry
	var convs []*bot.Conversation
	for _, e := range entries {
		c, err := d.conv.Conversation(ctx, e.Conv)
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		if c.State != bot.StateQueued {
			continue // left or claimed; the queue loop removes it
		}
		live = append(live, e)
		convs = append(convs, c)
	}
	cards := make([]Card, 0, len(convs))
	for _, c := range convs {
		k, err := d.card(ctx, c, live)
		if err != nil {
			return nil, err
		}
		cards = append(cards, k)
	}
	return cards, nil
}
