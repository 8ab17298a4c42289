package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/bot"
)

// ErrNoRoom is returned by Send for an address without a Slack channel.
var ErrNoRoom = errors.New("slack: address has no room")

// Send posts r to the customer at to.Room, in to.Thread when set. The text
// is escaped (Escape), so it never pings anyone; choices become buttons
// whose value comes back as the customer's message when pressed.
func (c *Channel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	if to.Room == "" {
		return ErrNoRoom
	}
	text := Escape(clip(r.Text, 2900))
	if r.Kind == bot.KindAgent && r.Author != "" {
		text = "*" + Escape(clip(r.Author, 80)) + ":* " + text
	}
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false)}
	if blocks := replyBlocks(text, r.Choices); blocks != nil {
		opts = append(opts, slackgo.MsgOptionBlocks(blocks...))
	}
	if to.Thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(to.Thread))
	}
	if _, _, err := c.post(ctx, to.Room, opts...); err != nil {
		return fmt.Errorf("slack: send to %s: %w", to.Room, err)
	}
	return nil
}

// replyBlocks renders text with one button per choice (at most 25, Slack's
// limit for an actions block); nil when there are no choices.
func replyBlocks(text string, choices []bot.Choice) []slackgo.Block {
	if len(choices) == 0 {
		return nil
	}
	var buttons []slackgo.BlockElement
	for i, ch := range choices[:min(len(choices), 25)] {
		label := firstNonEmpty(ch.Label, ch.Value)
		b := slackgo.NewButtonBlockElement(actChoice+strconv.Itoa(i), clip(ch.Value, 2000), plain(plainText(clip(label, 75))))
		buttons = append(buttons, b)
	}
	var blocks []slackgo.Block
	if text != "" {
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	return append(blocks, slackgo.NewActionBlock("choices", buttons...))
}
