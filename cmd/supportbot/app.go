package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/discord"
	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/internal/metrics"
	"github.com/supportbot/supportbot/llm"
	"github.com/supportbot/supportbot/store"
)

// app is the wired bot: store → router and desk → engine.
type app struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics // ops.go: /metrics
	limiter *bot.Limiter     // ops.go: per-customer flood limit
	chans   []bot.Channel    // every channel, for /readyz
	st      store.Store
	router  *intents.Router
	desk    *handoff.Desk
	engine  *bot.Engine
	slack   *slack.Channel // nil unless Slack is configured
	llm     *llm.Client    // nil unless [llm] is enabled

	settingsV int64 // version of the console settings the desk was built with
}

// newApp opens the store, loads the knowledge base (seeding it from the
// files on a first run) and wires the engine, router and desk.
func newApp(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	st, err := store.Open(ctx, cfg.Store, log.With("component", "store"))
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, st: st}
	a.instrument()
	if seeded, err := intents.Seed(ctx, st, os.DirFS(cfg.Router.KBDir)); err != nil {
		st.Close()
		return nil, fmt.Errorf("seed knowledge base from %s: %w", cfg.Router.KBDir, err)
	} else if seeded {
		log.Info("seeded the knowledge base from files", "dir", cfg.Router.KBDir)
	}
	a.engine = bot.New(cfg.engine(), st, nil, log.With("component", "engine"),
		append(durable(st, cfg.Store.Redis, log), bot.WithObserver(a.metrics.Observe), bot.WithOutboxObserver(a.metrics.Send))...)
	a.metrics.WatchInbound(a.engine)
	if o, ok := st.(metrics.Outbox); ok {
		a.metrics.WatchOutbox(o)
	}
	var deskOpts []handoff.Option
	a.llm, deskOpts = newLLM(cfg.LLM, st, log) // llm.go: nil unless [llm] is enabled
	ds := a.metrics.Store(st)                  // the desk's failed store calls count in store_errors_total
	hc, sv := deskConfig(ctx, cfg, st, log)
	a.settingsV = sv
	a.desk = handoff.NewDesk(hc, ds, ds, ds, ds, a.engine, log.With("component", "desk"), deskOpts...)
	a.router = intents.New(cfg.router(), func(ctx context.Context, t *bot.Turn, reason bot.Reason, skill, topic string, prio int) error {
		return a.desk.Handoff(ctx, t, handoff.Request{Reason: reason, Skill: skill, Topic: topic, Priority: prio})
	}, log.With("component", "router"))
	useLLM(a.router, a.llm)
	if err := a.router.Sync(ctx, st); err != nil {
		st.Close()
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	a.engine.SetHandler(a.desk.Gate(bot.Chain(a.router, a.metrics.Router())))
	return a, nil
}

// connect adds the Slack and Discord channels whose tokens are set (or
// which are enabled in the config, which then requires the tokens).
func (a *app) connect() error {
	cfg, log := a.cfg, a.log
	if cfg.Slack.Enabled || os.Getenv("SLACK_BOT_TOKEN") != "" {
		sc := cfg.Slack
		sc.Inherit(cfg.handoff())
		ch, err := slack.New(sc, slack.TokensFromEnv(os.Getenv), a.desk, log,
			slack.WithThreadStore(a.st), slack.WithDeduper(a.st))
		if err != nil {
			return err
		}
		a.engine.Add(a.limit(ch))
		a.desk.AddWorkspace(ch)
		a.slack = ch
		log.Info("slack enabled", "mode", sc.Mode, "handoff_channel", sc.HandoffChannel)
	}
	if cfg.Discord.Enabled || os.Getenv("DISCORD_TOKEN") != "" {
		discord.RouteLibraryLog(log)
		ch, err := discord.New(cfg.Discord, os.Getenv("DISCORD_TOKEN"), log, discord.WithLeaser(a.st))
		if err != nil {
			return fmt.Errorf("discord: %w", err)
		}
		a.engine.Add(a.limit(ch))
		log.Info("discord enabled", "shard", cfg.Discord.ShardID, "shards", cfg.Discord.ShardCount)
	}
	return nil
}

// serve runs the engine, the desk, the knowledge-base watcher and extra
// until ctx is canceled or one of them fails.
func (a *app) serve(ctx context.Context, extra ...func(context.Context) error) error {
	defer a.st.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.engine.Run(ctx) })
	g.Go(func() error { return a.desk.Run(ctx) })
	g.Go(func() error { return a.router.Watch(ctx, a.st, a.cfg.Router.SyncEvery.Duration) })
	g.Go(func() error { return a.watchDocs(ctx) })
	if a.llm != nil {
		g.Go(func() error { return a.llm.Run(ctx) })
	}
	for _, f := range extra {
		g.Go(func() error { return f(ctx) })
	}
	return g.Wait()
}

// httpServer serves h on addr until ctx is canceled, then shuts down gracefully.
func httpServer(addr string, h http.Handler, log *slog.Logger, listening func(addr string)) func(context.Context) error {
	return func(ctx context.Context) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("http: %w", err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		if listening != nil {
			listening(ln.Addr().String())
		}
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("http: %w", err)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	}
}
