package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/httpx"
	"github.com/supportbot/supportbot/internal/metrics"
)

// What operations needs from a running bot: /metrics, /healthz, /readyz,
// the request body limit and the per-customer flood limit.

// instrument creates the metrics and the flood limiter; newApp calls it
// before it wires the engine.
func (a *app) instrument() {
	a.metrics = metrics.New()
	a.limiter = bot.NewLimiter(a.cfg.limit(), bot.OnLimit(func(in bot.Inbound) {
		a.metrics.RateLimited(in.Msg.From.Channel)
	}))
	a.metrics.WatchDesk(a.st)
}

// limit registers ch for /readyz and returns it behind the flood limiter:
// add every channel to the engine through it.
func (a *app) limit(ch bot.Channel) bot.Channel {
	a.chans = append(a.chans, ch)
	return a.limiter.Channel(ch)
}

// guard puts every HTTP endpoint behind the request body limit (413).
func (a *app) guard(h http.Handler) http.Handler {
	return httpx.LimitBody(a.cfg.HTTP.MaxBody, h, a.metrics.TooLarge)
}

// health serves /healthz (the process is up and the store answers: 503
// while Redis is unreachable, 200 again as soon as the client has
// reconnected, with no restart), /readyz (also: the knowledge base is
// loaded and every channel has connected) and /metrics (with the LLM
// client's collectors when it is enabled).
func (a *app) health(mux *http.ServeMux) {
	st := a.metrics.Store(a.st) // counts failed pings in store_errors_total
	mux.Handle("GET /healthz", probe(st, nil))
	mux.Handle("GET /readyz", probe(st, a.ready))
	mux.Handle("GET /metrics", a.metrics.Handler())
	if a.llm != nil {
		if err := a.llm.Register(a.metrics.Registry()); err != nil {
			a.log.Warn("llm metrics", "err", err)
		}
	}
}

// ready reports why the bot cannot serve yet, nil when it can.
func (a *app) ready() error {
	if a.router.Snapshot() == nil {
		return fmt.Errorf("knowledge base: not loaded")
	}
	return channelsReady(a.chans)
}

// channelsReady reports the channels that are bot.Readier and not ready yet.
func channelsReady(chans []bot.Channel) error {
	var waiting []string
	for _, ch := range chans {
		r, ok := ch.(bot.Readier)
		if !ok {
			continue
		}
		select {
		case <-r.Ready():
		default:
			waiting = append(waiting, ch.Name())
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("channels not connected: %s", strings.Join(waiting, ", "))
	}
	return nil
}

// pinger is the health check of a store.
type pinger interface {
	Ping(ctx context.Context) error
}

// probe answers 200 "ok" when st answers a ping within 2s and more (if
// set) returns nil, else 503 with the reason.
func probe(st pinger, more func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "store: %v\n", err)
			return
		}
		if more != nil {
			if err := more(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
}

// limit is the flood limit of [bot].
func (c *Config) limit() bot.LimitConfig {
	return bot.LimitConfig{Rate: rate.Limit(c.Bot.RateLimit), Burst: c.Bot.RateBurst}
}
