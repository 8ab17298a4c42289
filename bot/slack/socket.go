package slack

import (
	"context"
	"fmt"
	"log/slog"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// socket runs Socket Mode until ctx is canceled (nil) or the connection
// fails for good (invalid tokens). Each envelope is acked before anything
// else is done with it; the work then runs on r.
func (c *Channel) socket(ctx context.Context, r *runner) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sm := socketmode.New(c.client, socketmode.OptionPingInterval(c.ping),
		socketmode.OptionLog(slog.NewLogLogger(c.log.Handler(), slog.LevelDebug)))
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case ev := <-sm.Events:
			c.onSocket(sm, r, ev)
		}
	}
}

func (c *Channel) onSocket(sm *socketmode.Client, r *runner, ev socketmode.Event) {
	if ev.Request != nil && ev.Request.EnvelopeID != "" {
		if err := sm.Ack(*ev.Request); err != nil {
			c.log.Warn("ack envelope", "envelope", ev.Request.EnvelopeID, "err", err)
		}
	}
	switch ev.Type {
	case socketmode.EventTypeEventsAPI:
		if e, ok := ev.Data.(slackevents.EventsAPIEvent); ok {
			c.onEvent(r, e, ev.Request.RetryAttempt)
		}
	case socketmode.EventTypeInteractive:
		if cb, ok := ev.Data.(slackgo.InteractionCallback); ok {
			c.onInteraction(r, cb)
		}
	case socketmode.EventTypeSlashCommand:
		if cmd, ok := ev.Data.(slackgo.SlashCommand); ok {
			c.onCommand(r, cmd)
		}
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth,
		socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		c.log.Warn("socket mode", "event", ev.Type, "data", fmt.Sprint(ev.Data))
	case socketmode.EventTypeConnected:
		c.log.Info("socket mode connected")
		c.setReady()
	default:
		c.log.Debug("socket mode", "event", ev.Type)
	}
}
