package handoff_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/handoff/handofftest"
	"github.com/supportbot/supportbot/store/embedded"
)

// The wiring in cmd/supportbot, in short: the engine's handler is the
// desk's Gate in front of the router, and the desk runs beside the engine.
func ExampleNewDesk() {
	st, err := embedded.Open("supportbot.db", embedded.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	log := slog.Default()

	eng := bot.New(bot.Config{}, st, nil, log)
	cfg := handoff.Config{
		Routing:       handoff.Broadcast,
		RenotifyAfter: 5 * time.Minute,
		EscalateAfter: 15 * time.Minute,
		Hours: handoff.BusinessHours{Timezone: "Europe/Oslo",
			Weekly: map[string]string{"mon-fri": "08:00-16:00"}},
		AfterHours: handoff.AfterHoursContact,
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err) // cmd reports it with the config file's name
	}
	desk := handoff.NewDesk(cfg, st, st, st, st, eng, log,
		handoff.WithWorkspaces(handofftest.NewWorkspace("web"))) // the Slack channel, the web inbox
	router := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		if t.Msg.Text == "human" {
			return desk.Handoff(ctx, t, handoff.Request{Reason: bot.ReasonRequested})
		}
		t.Reply(bot.Reply{Kind: bot.KindAnswer, Text: "…"})
		return nil
	})
	eng.SetHandler(desk.Gate(router))

	ctx, cancel := context.WithCancel(context.Background()) // cmd: signal.NotifyContext
	done := make(chan error, 1)
	go func() { done <- desk.Run(ctx) }()
	_ = eng.Run(ctx) // until ctx is canceled
	cancel()
	<-done
}
