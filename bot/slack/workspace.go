package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// ErrNoCard is returned by Update, Relay and Remind for a card whose Refs
// do not say where it was posted in Slack.
var ErrNoCard = errors.New("slack: card was not announced in Slack")

// Announce posts the card to the handoff channel, or to the assigned
// agent's DM when c.Agent is a Slack agent, and returns its references
// (RefChannel, RefTS) to keep with the conversation.
func (c *Channel) Announce(ctx context.Context, k handoff.Card) (map[string]string, error) {
	target := c.cfg.HandoffChannel
	if u, ok := strings.CutPrefix(k.Agent, Name+":"); ok && k.State != bot.StateAgent {
		target = u
	}
	blocks, text := renderCard(k, c.now())
	ch, ts, err := c.post(ctx, target, slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...),
		slackgo.MsgOptionDisableLinkUnfurl(), slackgo.MsgOptionDisableMediaUnfurl())
	if err != nil {
		return nil, fmt.Errorf("slack: announce %s: %w", k.Conv, err)
	}
	refs := map[string]string{RefChannel: ch, RefTS: ts}
	if err := c.threads.put(ctx, k.Conv, ch, ts); err != nil {
		c.log.Warn("store card thread", "conversation", k.Conv, "err", err)
	}
	k.Refs = refs
	c.threads.observe(k)
	return refs, nil
}

func cardRefs(k handoff.Card) (channel, ts string, err error) {
	channel, ts = k.Refs[RefChannel], k.Refs[RefTS]
	if channel == "" || ts == "" {
		return "", "", fmt.Errorf("%w: %s", ErrNoCard, k.Conv)
	}
	return channel, ts, nil
}

// Update re-renders the card in place (chat.update): "claimed by", the
// buttons of the new state, or resolved.
func (c *Channel) Update(ctx context.Context, k handoff.Card) error {
	ch, ts, err := cardRefs(k)
	if err != nil {
		return err
	}
	c.threads.observe(k)
	blocks, text := renderCard(k, c.now())
	if err := c.update(ctx, ch, ts, slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("slack: update card %s: %w", k.Conv, err)
	}
	return nil
}

// Relay posts m in the card's thread: customer messages while an agent
// holds the conversation, internal notes and agent replies. What a Slack
// agent wrote (Meta["agent"] is "slack:…", or the text just came from this
// thread) is not echoed back.
func (c *Channel) Relay(ctx context.Context, k handoff.Card, m bot.Message) error {
	ch, ts, err := cardRefs(k)
	if err != nil {
		return err
	}
	c.threads.observe(k)
	if m.Role != bot.RoleCustomer {
		fromHere := strings.HasPrefix(m.Meta["agent"], Name+":")
		if c.echo.take(string(k.Conv)+"\x00"+m.Text, c.now()) || fromHere {
			return nil // written in this thread already
		}
	}
	body := Escape(clip(m.Text, maxText))
	var text string
	switch m.Role {
	case bot.RoleCustomer:
		text = "*" + Escape(clip(firstNonEmpty(k.Customer.Name, m.Customer.Name, "Customer"), 80)) + ":* " + body
	case bot.RoleAgent:
		text = "*" + Escape(clip(firstNonEmpty(m.Author, "Agent"), 80)) + "* (to the customer): " + body
	case bot.RoleSystem:
		text = ":memo: _Internal note"
		if m.Author != "" {
			text += " by " + Escape(clip(m.Author, 80))
		}
		text += "_: " + body
	default:
		text = "*Bot:* " + body
	}
	_, _, err = c.post(ctx, ch, slackgo.MsgOptionText(text, false), slackgo.MsgOptionTS(ts),
		slackgo.MsgOptionDisableLinkUnfurl(), slackgo.MsgOptionDisableMediaUnfurl())
	if err != nil {
		return fmt.Errorf("slack: relay to %s: %w", k.Conv, err)
	}
	return nil
}

// Remind re-notifies an unclaimed card. Level 1 posts in the card's thread
// and broadcasts it to the channel, which bumps it. Level 2 escalates: a
// complaint goes to the manager channel (when configured), anything else
// mentions the escalation user group (or @here) in the thread.
func (c *Channel) Remind(ctx context.Context, k handoff.Card, level int) error {
	ch, ts, err := cardRefs(k)
	if err != nil {
		return err
	}
	c.threads.observe(k)
	who := Escape(clip(firstNonEmpty(k.Customer.Name, k.Customer.ID, "A customer"), 80))
	waited := wait(c.now().Sub(k.Since))
	if k.Since.IsZero() {
		waited = "a while"
	}
	var target, text string
	opts := []slackgo.MsgOption{slackgo.MsgOptionDisableLinkUnfurl()}
	switch {
	case level <= 1:
		target = ch
		text = fmt.Sprintf(":bell: %s is still waiting for an agent (%s).", who, waited)
		if k.Position > 0 {
			text += fmt.Sprintf(" Position %d in the queue.", k.Position)
		}
		opts = append(opts, slackgo.MsgOptionTS(ts), slackgo.MsgOptionBroadcast())
	case k.Reason == bot.ReasonComplaint && c.cfg.ManagerChannel != "":
		target = c.cfg.ManagerChannel
		text = fmt.Sprintf(":rotating_light: Complaint from %s on %s has waited %s without an agent: <%s|open the card>",
			who, Escape(k.Platform), waited, permalink(ch, ts))
	default:
		target = ch
		mention := "<!here>"
		if c.cfg.EscalationGroup != "" {
			mention = "<!subteam^" + c.cfg.EscalationGroup + ">"
		}
		text = fmt.Sprintf("%s :rotating_light: %s has waited %s without an agent (%s). Can someone take it?",
			mention, who, waited, Escape(string(k.Reason)))
		opts = append(opts, slackgo.MsgOptionTS(ts), slackgo.MsgOptionBroadcast())
	}
	opts = append(opts, slackgo.MsgOptionText(text, false))
	if _, _, err := c.post(ctx, target, opts...); err != nil {
		return fmt.Errorf("slack: remind %s: %w", k.Conv, err)
	}
	return nil
}
