package discord

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/supportbot/supportbot/bot"
)

// Discord limits.
const (
	maxContent  = 2000 // characters of one message
	maxButtons  = 25   // 5 rows of 5
	maxLabel    = 80   // characters of a button label
	maxCustomID = 100  // bytes of a custom_id
)

// maxRateRetries bounds how often one REST call waits out a 429.
const maxRateRetries = 5

// noMentions is allowed_mentions with nothing allowed: no @everyone, @here,
// role or user ping, whatever the text says. Every post carries it.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Send implements bot.Channel. It posts r to to.Thread, else to.Room (a
// thread and a DM are both channels), split into messages of at most 2,000
// characters at paragraph, line, sentence or word boundaries; Choices
// become buttons on the last part. A human agent's reply is prefixed with
// their name: "**Alice** (support): …". No post can ping anyone
// (allowed_mentions parse is empty). A 429 is waited out (retry-after) as
// long as ctx allows; the result then wraps ErrRateLimited or ctx.Err().
func (c *Channel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	room := to.Thread
	if room == "" {
		room = to.Room
	}
	if room == "" {
		return fmt.Errorf("%w: %+v", ErrAddress, to)
	}
	text := r.Text
	if r.Kind == bot.KindAgent {
		name := r.Author
		if name == "" {
			name = "Agent"
		}
		text = fmt.Sprintf("**%s** (%s): %s", escape(name), escape(c.cfg.AgentLabel), text)
	}
	parts := split(text, maxContent)
	rows := c.buttons(r.Choices)
	if len(parts) == 0 {
		if len(rows) == 0 {
			return nil
		}
		parts = []string{""}
	}
	for n, p := range parts {
		ms := &discordgo.MessageSend{Content: p, AllowedMentions: noMentions()}
		if n == len(parts)-1 {
			ms.Components = rows
		}
		err := c.bucketWait(ctx, discordgo.EndpointChannelMessages(room))
		if err == nil {
			err = c.call(ctx, func(o discordgo.RequestOption) error {
				_, err := c.rest.ChannelMessageSendComplex(room, ms, o)
				return err
			})
		}
		if err != nil {
			return fmt.Errorf("discord: send to %s (part %d of %d): %w", room, n+1, len(parts), retryable(err))
		}
	}
	return nil
}

// Typing implements bot.Typer: Discord shows "typing…" for about 10
// seconds or until the bot's next message.
func (c *Channel) Typing(ctx context.Context, to bot.Address) error {
	room := to.Thread
	if room == "" {
		room = to.Room
	}
	if room == "" {
		return fmt.Errorf("%w: %+v", ErrAddress, to)
	}
	if err := c.bucketWait(ctx, discordgo.EndpointChannelTyping(room)); err != nil {
		return err
	}
	return c.call(ctx, func(o discordgo.RequestOption) error { return c.rest.ChannelTyping(room, o) })
}

// buttons renders choices as rows of up to 5 buttons; custom_id carries
// the value (cut to fit 100 bytes) and is unique within the message.
func (c *Channel) buttons(choices []bot.Choice) []discordgo.MessageComponent {
	if len(choices) > maxButtons {
		c.log.Warn("too many choices; extra buttons dropped", "choices", len(choices))
		choices = choices[:maxButtons]
	}
	var rows []discordgo.MessageComponent
	var row discordgo.ActionsRow
	seen := map[string]bool{}
	for n, ch := range choices {
		label := ch.Label
		if label == "" {
			label = ch.Value
		}
		id := customIDPrefix + ":" + ch.Value
		if seen[id] || len(id) > maxCustomID {
			id = customIDPrefix + strconv.Itoa(n) + ":" + ch.Value
		}
		id = cut(id, maxCustomID)
		seen[id] = true
		style := discordgo.PrimaryButton
		if n > 0 {
			style = discordgo.SecondaryButton
		}
		row.Components = append(row.Components, discordgo.Button{Label: truncRunes(label, maxLabel), Style: style, CustomID: id})
		if len(row.Components) == 5 {
			rows = append(rows, row)
			row = discordgo.ActionsRow{}
		}
	}
	if len(row.Components) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// cut shortens s to at most n bytes without splitting a rune.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// escape neutralises Discord markdown in a name shown in bold.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\*_~`|>[]()#<:-", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// call runs one REST call with the caller's context (discordgo.WithContext),
// waits out 429s for their retry-after without outliving ctx, and maps a
// rejected token to ErrUnauthorized.
func (c *Channel) call(ctx context.Context, fn func(discordgo.RequestOption) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(discordgo.WithContext(ctx))
		var rl *discordgo.RateLimitError
		if !errors.As(err, &rl) {
			return restErr(err)
		}
		if attempt >= maxRateRetries {
			return fmt.Errorf("%w: %v", ErrRateLimited, err)
		}
		wait, url := time.Second, ""
		if rl.RateLimit != nil {
			url = rl.URL
			if rl.TooManyRequests != nil && rl.RetryAfter > 0 {
				wait = rl.RetryAfter
			}
		}
		c.log.Debug("rate limited; waiting", "retry_after", wait, "url", url)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w while rate limited: %w", ErrRateLimited, ctx.Err())
		case <-t.C:
		}
	}
}

// bucketWait waits, as long as ctx allows, until discordgo's rate-limit
// bucket for url (the bucket ID discordgo uses: the endpoint URL) has room,
// so discordgo's own pre-emptive bucket sleep, which ignores contexts, is
// not reached with an exhausted bucket. A bucket busy with a request in
// flight is left to discordgo.
func (c *Channel) bucketWait(ctx context.Context, url string) error {
	s, ok := c.rest.(*discordgo.Session)
	if !ok || s.Ratelimiter == nil {
		return nil
	}
	b := s.Ratelimiter.GetBucket(url)
	if !b.TryLock() {
		return nil
	}
	wait := s.Ratelimiter.GetWaitTime(b, 1)
	b.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w while rate limited: %w", ErrRateLimited, ctx.Err())
	case <-t.C:
		return nil
	}
}

// retryable marks a rate limit still in force after call's own waits, and
// Discord's 5xx, as bot.ErrRetryable, so the engine's outbox keeps the
// reply and tries again later, in order.
func retryable(err error) error {
	var rl *discordgo.RateLimitError
	var re *discordgo.RESTError
	switch {
	case errors.As(err, &rl) && rl.RateLimit != nil:
		return bot.RateLimited(err, rl.RetryAfter)
	case errors.Is(err, ErrRateLimited):
		return bot.RateLimited(err, 0)
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 500:
		return bot.Retryable(err, 0)
	}
	return err
}

func restErr(err error) error {
	var re *discordgo.RESTError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, discordgo.ErrUnauthorized),
		errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == 401:
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return err
}
