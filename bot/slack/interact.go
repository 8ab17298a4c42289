package slack

import (
	"context"
	"errors"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/bot"
)

// Button action IDs.
const (
	actClaim   = "handoff_claim"
	actRelease = "handoff_release"
	actResolve = "handoff_resolve"
	actChoice  = "choice_" // + index; the value is the customer's answer
)

// onInteraction handles button clicks: card buttons go to the desk, choice
// buttons are delivered as the customer's message.
func (c *Channel) onInteraction(r *runner, cb slackgo.InteractionCallback) {
	if cb.Type != slackgo.InteractionTypeBlockActions {
		return
	}
	for _, a := range cb.ActionCallback.BlockActions {
		switch {
		case a.ActionID == actClaim || a.ActionID == actRelease || a.ActionID == actResolve:
			// Keyed per agent: concurrent clicks by different agents race
			// in the desk, whose claim is atomic.
			r.do("card:"+a.Value+":"+cb.User.ID, func(ctx context.Context) { c.onCardAction(ctx, cb, a) })
		case strings.HasPrefix(a.ActionID, actChoice):
			thread := firstNonEmpty(cb.Container.ThreadTs, cb.Message.ThreadTimestamp)
			r.do(cb.Channel.ID+"/"+thread, func(ctx context.Context) { c.onChoice(ctx, r, cb, a) })
		}
	}
}

func (c *Channel) onCardAction(ctx context.Context, cb slackgo.InteractionCallback, a *slackgo.BlockAction) {
	if !c.firstSeen(ctx, "slack:act:"+cb.User.ID+":"+a.ActionTs+":"+a.ActionID) {
		return
	}
	conv := bot.ConversationID(a.Value)
	channel, card := cb.Channel.ID, firstNonEmpty(cb.Container.MessageTs, cb.Message.Timestamp)
	if err := c.threads.put(ctx, conv, channel, card); err != nil {
		c.log.Warn("index card thread", "conversation", conv, "err", err)
	}
	d, err := c.getDesk()
	if err != nil {
		c.ephemeral(ctx, channel, "", cb.User.ID, "No handoff desk is running.")
		return
	}
	ag := c.agent(ctx, d, cb.User.ID)
	verb := ""
	switch a.ActionID {
	case actClaim:
		verb, err = "claim", d.Claim(ctx, conv, ag)
	case actRelease:
		verb, err = "release", d.Release(ctx, conv, ag)
	case actResolve:
		verb, err = "resolve", d.Resolve(ctx, conv, ag)
	}
	switch {
	case errors.Is(err, bot.ErrClaimed):
		c.ephemeral(ctx, channel, "", cb.User.ID, "Already taken by "+c.holder(conv, err)+".")
	case err != nil:
		c.log.Warn(verb, "conversation", conv, "agent", ag.ID, "err", err)
		c.ephemeral(ctx, channel, "", cb.User.ID, "Could not "+verb+" this conversation: "+Escape(err.Error()))
	default:
		c.log.Info(verb, "conversation", conv, "agent", ag.ID)
	}
}

// onChoice delivers a pressed choice button as the customer's message and
// replaces the buttons with the choice, so it cannot be pressed twice.
func (c *Channel) onChoice(ctx context.Context, r *runner, cb slackgo.InteractionCallback, a *slackgo.BlockAction) {
	if cb.User.ID == c.identity().UserID {
		return
	}
	channel, msgTS := cb.Channel.ID, firstNonEmpty(cb.Container.MessageTs, cb.Message.Timestamp)
	if !c.customer[channel] && !strings.HasPrefix(channel, "D") {
		return // not a customer conversation
	}
	thread := firstNonEmpty(cb.Container.ThreadTs, cb.Message.ThreadTimestamp, msgTS)
	addr := c.customerAddress(cb.Team.ID, channel, thread, msgTS)
	r.deliver(ctx, bot.Inbound{Key: "slack:act:" + channel + ":" + a.ActionTs + ":" + cb.User.ID, Msg: bot.Message{
		ID: channel + "-" + a.ActionTs, From: addr, Customer: c.customerOf(ctx, cb.User.ID),
		Role: bot.RoleCustomer, Text: a.Value, At: tsTime(a.ActionTs),
	}})
	label := firstNonEmpty(a.Text.Text, a.Value)
	var blocks []slackgo.Block
	if cb.Message.Text != "" {
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(clip(cb.Message.Text, 2900)), nil, nil))
	}
	blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn("› "+Escape(clip(label, 200)))))
	if err := c.update(ctx, channel, msgTS, slackgo.MsgOptionText(cb.Message.Text, false), slackgo.MsgOptionBlocks(blocks...)); err != nil {
		c.log.Debug("update choice message", "err", err)
	}
}

func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, true, false)
}
