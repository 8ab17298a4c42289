package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	prefix := ""
	if r.Kind == bot.KindAgent && r.Author != "" {
		prefix = "*" + Escape(clip(r.Author, 80)) + ":* "
	}
	text := prefix + Escape(clip(r.Text, maxText))
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false)}
	if len(r.Choices) > 0 {
		opts = append(opts, slackgo.MsgOptionBlocks(replyBlocks(prefix, r.Text, r.Choices)...))
	}
	if to.Thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(to.Thread))
	}
	if _, _, err := c.post(ctx, to.Room, opts...); err != nil {
		return fmt.Errorf("slack: send to %s: %w", to.Room, retryable(err))
	}
	return nil
}

// retryable marks a rate limit Slack still reports after post's own
// retries, and Slack's 5xx, as bot.ErrRetryable (with Retry-After), so the
// engine's outbox keeps the reply and tries again later, in order.
func retryable(err error) error {
	var rl *slackgo.RateLimitedError
	var sc slackgo.StatusCodeError
	switch {
	case errors.As(err, &rl):
		return bot.RateLimited(err, rl.RetryAfter)
	case errors.As(err, &sc) && sc.Code == 429:
		return bot.RateLimited(err, 0)
	case errors.As(err, &sc) && sc.Code >= 500:
		return bot.Retryable(err, 0)
	}
	return err
}

// maxText bounds a message's text (Slack truncates at 40,000 characters).
const maxText = 39000

// replyBlocks renders text in sections of at most 3000 characters (Slack's
// limit) followed by one button per choice (at most 25, the limit of an
// actions block).
func replyBlocks(prefix, text string, choices []bot.Choice) []slackgo.Block {
	var blocks []slackgo.Block
	for i, part := range escapedChunks(clip(text, maxText), 2900-len(prefix)) {
		if i == 0 {
			part = prefix + part
		}
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(part), nil, nil))
		if len(blocks) == 45 {
			break
		}
	}
	var buttons []slackgo.BlockElement
	for i, ch := range choices[:min(len(choices), 25)] {
		label := firstNonEmpty(ch.Label, ch.Value)
		b := slackgo.NewButtonBlockElement(actChoice+strconv.Itoa(i), clip(ch.Value, 2000), plain(plainText(clip(label, 75))))
		buttons = append(buttons, b)
	}
	return append(blocks, slackgo.NewActionBlock("choices", buttons...))
}

// escapedChunks escapes s and splits it into pieces of at most n bytes,
// preferring line breaks and never splitting a rune or an entity.
func escapedChunks(s string, n int) []string {
	var out []string
	var cur strings.Builder
	lastNL := -1 // byte offset in cur just after the last newline
	flush := func(upto int) {
		piece := cur.String()
		out = append(out, strings.TrimRight(piece[:upto], "\n"))
		rest := piece[upto:]
		cur.Reset()
		cur.WriteString(rest)
		lastNL = -1
		if i := strings.LastIndexByte(rest, '\n'); i >= 0 {
			lastNL = i + 1
		}
	}
	for _, r := range neutralize(s) {
		e := escaper.Replace(string(r))
		if cur.Len()+len(e) > n {
			if lastNL > n/2 {
				flush(lastNL)
			} else {
				flush(cur.Len())
			}
		}
		cur.WriteString(e)
		if r == '\n' {
			lastNL = cur.Len()
		}
	}
	if strings.TrimSpace(cur.String()) != "" || len(out) == 0 {
		out = append(out, cur.String())
	}
	return out
}
