package slack

import (
	"context"
	"errors"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// pacer keeps one token bucket per Slack channel: Slack allows about one
// message per second per channel, with short bursts.
type pacer struct {
	every rate.Limit
	burst int
	mu    sync.Mutex
	lims  map[string]*rate.Limiter
}

func newPacer(perSecond float64) *pacer {
	return &pacer{every: rate.Limit(perSecond), burst: max(3, int(perSecond)), lims: map[string]*rate.Limiter{}}
}

func (p *pacer) wait(ctx context.Context, channel string) error {
	p.mu.Lock()
	l, ok := p.lims[channel]
	if !ok {
		if len(p.lims) >= 10000 {
			clear(p.lims)
		}
		l = rate.NewLimiter(p.every, p.burst)
		p.lims[channel] = l
	}
	p.mu.Unlock()
	return l.Wait(ctx)
}

const maxAttempts = 5

// retry calls fn until it succeeds, fails with an error other than a rate
// limit, or maxAttempts calls were rate limited; between calls it waits the
// Retry-After Slack gave (*slackgo.RateLimitedError).
func (c *Channel) retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		var rl *slackgo.RateLimitedError
		if !errors.As(err, &rl) || attempt == maxAttempts {
			return err
		}
		c.log.Warn("rate limited by Slack", "retry_after", rl.RetryAfter, "attempt", attempt)
		t := time.NewTimer(rl.RetryAfter)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// post paces and sends chat.postMessage; it returns the channel (a DM ID
// when posting to a user) and the new message's ts.
func (c *Channel) post(ctx context.Context, channel string, opts ...slackgo.MsgOption) (string, string, error) {
	if err := c.pace.wait(ctx, channel); err != nil {
		return "", "", err
	}
	var ch, ts string
	err := c.retry(ctx, func() error {
		var err error
		ch, ts, err = c.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ch, ts, err
}

// update paces and sends chat.update.
func (c *Channel) update(ctx context.Context, channel, ts string, opts ...slackgo.MsgOption) error {
	if err := c.pace.wait(ctx, channel); err != nil {
		return err
	}
	return c.retry(ctx, func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
}

// ephemeral shows text to user only, in channel (and thread, if set).
func (c *Channel) ephemeral(ctx context.Context, channel, thread, user, text string) {
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false)}
	if thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(thread))
	}
	err := c.retry(ctx, func() error {
		_, err := c.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	if err != nil {
		c.log.Warn("post ephemeral", "channel", channel, "user", user, "err", err)
	}
}

// respond answers a slash command or click privately: through its
// response_url when there is one, else as an ephemeral message.
func (c *Channel) respond(ctx context.Context, responseURL, channel, user, text string) {
	if responseURL == "" {
		c.ephemeral(ctx, channel, "", user, text)
		return
	}
	msg := &slackgo.WebhookMessage{Text: text, ResponseType: slackgo.ResponseTypeEphemeral}
	err := c.retry(ctx, func() error {
		return slackgo.PostWebhookCustomHTTPContext(ctx, responseURL, c.httpc, msg)
	})
	if err != nil {
		c.log.Warn("respond", "user", user, "err", err)
	}
}
