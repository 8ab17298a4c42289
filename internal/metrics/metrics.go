// Package metrics is the bot's Prometheus instrumentation, served on /metrics.
//
// One *Metrics owns a private prometheus.Registry (no global state, so tests
// and several bots in one process never collide). Its methods are safe for
// concurrent use, and every method of a nil *Metrics is a no-op, so packages
// can take an optional *Metrics without checks.
//
// Wiring (cmd/supportbot):
//
//	m := metrics.New()
//	engine := bot.New(cfg, st, h, log, bot.WithObserver(m.Observe))
//	desk := handoff.NewDesk(cfg, m.Store(st), ...)  // the desk's store errors
//	router := bot.Chain(r, m.Router())              // router latency
//	m.WatchDesk(st)                                 // queue, agents, handoffs, waits
//	mux.Handle("GET /metrics", m.Handler())
//
// Hooks for other packages, agreed with their authors:
//
//   - Outbox (durable sends): call WatchOutbox with anything that implements
//     Outbox (Depth is read on each scrape, with a 2s timeout), and call
//     OutboxRetry / OutboxDropped / OutboxSent as sends are retried, given up
//     or delivered. Inbound streams may do the same with WatchInbound.
//   - LLM: llm.Client.Register(m.Registry()) adds its own collectors
//     (supportbot_llm_requests_total, _fallbacks_total, _tokens_total,
//     _latency_seconds, _month_tokens, _breaker_open); cmd/supportbot does it.
//   - Anything else: Register a prometheus.Collector (names supportbot_*).
//
// Metric names (all prefixed supportbot_):
//
//	messages_total{channel,outcome}             counter: inbound events by bot.Outcome
//	message_duration_seconds{channel}           histogram: receipt to reply sent
//	router_duration_seconds                     histogram: one router decision
//	rate_limited_total{channel}                 counter: customer messages dropped by the flood limit
//	handoffs_total{reason}                      counter (from the event log): conversations handed to a human
//	handoff_wait_seconds                        histogram (from the event log): queue wait until claimed
//	handoff_queue_length                        gauge (scrape): conversations waiting
//	handoff_queue_oldest_wait_seconds           gauge (scrape): age of the oldest entry
//	agents{status}                              gauge (scrape): agents by availability
//	agent_held_conversations{status}            gauge (scrape): conversations held by those agents
//	agent_capacity{status}                      gauge (scrape): their summed capacity
//	store_errors_total{op,kind}                 counter: kind unavailable|timeout|other
//	scrape_errors_total{source}                 counter: queue|agents|events|outbox|inbound: a scrape-time read that failed
//	outbox_depth                                gauge (scrape): conversations with replies waiting
//	outbox_retries_total{channel,reason}        counter
//	outbox_dropped_total{channel}               counter: sends given up
//	outbox_sent_total{channel}                  counter
//	inbound_pending                             gauge (scrape): inbound events not yet acked
//	http_requests_too_large_total               counter: bodies refused with 413
//
// Agent utilisation is sum(agent_held_conversations{status="on"}) /
// sum(agent_capacity{status="on"}); docs/operations.md lists alerts.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// Namespace prefixes every metric name.
const Namespace = "supportbot"

// ScrapeTimeout bounds each store or outbox read done while scraping.
const ScrapeTimeout = 2 * time.Second

// Metrics holds the bot's collectors and their registry. Create it with New.
type Metrics struct {
	reg *prometheus.Registry

	messages    *prometheus.CounterVec
	turn        *prometheus.HistogramVec
	router      prometheus.Observer
	limited     *prometheus.CounterVec
	handoffs    *prometheus.CounterVec
	wait        prometheus.Observer
	storeErrors *prometheus.CounterVec
	scrapeErrs  *prometheus.CounterVec
	retries     *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	sent        *prometheus.CounterVec
	tooLarge    prometheus.Counter

	now func() time.Time // the clock of the queue wait; tests replace it

	mu      sync.Mutex
	watched map[string]bool // WatchDesk/WatchOutbox/WatchInbound done
}

// latency buckets from 5ms to 30s: chat turns and router decisions.
var latency = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New returns Metrics with every collector registered, plus the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), watched: map[string]bool{}, now: time.Now}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(h)
		return h
	}
	m.messages = counter("messages_total", "Inbound platform events handled by the engine, by channel and outcome.", "channel", "outcome")
	m.turn = histogram("message_duration_seconds", "Time from receiving a customer message to its replies being sent.", latency, "channel")
	m.router = histogram("router_duration_seconds", "Time the intent router took to decide one message.", latency).WithLabelValues()
	m.limited = counter("rate_limited_total", "Customer messages not handled because the customer exceeded the flood limit.", "channel")
	m.handoffs = counter("handoffs_total", "Conversations handed to a human, by reason code.", "reason")
	m.wait = histogram("handoff_wait_seconds", "Time a conversation waited in the queue until an agent claimed it.",
		[]float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400}).WithLabelValues()
	m.storeErrors = counter("store_errors_total", "Failed store calls, by operation and kind (unavailable, timeout, other).", "op", "kind")
	m.scrapeErrs = counter("scrape_errors_total", "Reads done while scraping that failed, by source (queue, agents, events, outbox, inbound).", "source")
	m.retries = counter("outbox_retries_total", "Outbound sends retried, by channel and reason (429, 5xx, network).", "channel", "reason")
	m.dropped = counter("outbox_dropped_total", "Outbound sends given up after their retries.", "channel")
	m.sent = counter("outbox_sent_total", "Outbound sends delivered from the outbox.", "channel")
	m.tooLarge = counter("http_requests_too_large_total", "HTTP requests refused with 413 because their body was too large.").WithLabelValues()
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the private registry, for Register-ing more collectors or tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Register adds c to the registry.
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

// Handler serves the registry in the Prometheus text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError,
		Timeout: 2 * ScrapeTimeout})
}

// Observe is a bot.Observer: it counts every inbound event by channel and
// outcome, times the handled ones, and counts a store_error outcome in
// store_errors_total{op="engine_turn"}.
func (m *Metrics) Observe(in bot.Inbound, o bot.Outcome, took time.Duration) {
	if m == nil {
		return
	}
	ch := in.Msg.From.Channel
	if ch == "" {
		ch = "unknown"
	}
	m.messages.WithLabelValues(ch, string(o)).Inc()
	if o == bot.StoreError {
		m.storeErrors.WithLabelValues("engine_turn", "unavailable").Inc()
	}
	if o == bot.Handled || o == bot.Truncated || o == bot.Failed {
		m.turn.WithLabelValues(ch).Observe(took.Seconds())
	}
}

// Router returns a middleware that times the handler it wraps (the intent
// router) into router_duration_seconds.
func (m *Metrics) Router() bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		if m == nil {
			return next
		}
		return bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
			start := time.Now()
			err := next.Handle(ctx, t)
			m.router.Observe(time.Since(start).Seconds())
			return err
		})
	}
}

// RateLimited counts one customer message dropped by the flood limit.
func (m *Metrics) RateLimited(channel string) {
	if m != nil {
		m.limited.WithLabelValues(channel).Inc()
	}
}

// TooLarge counts one HTTP request refused with 413.
func (m *Metrics) TooLarge() {
	if m != nil {
		m.tooLarge.Inc()
	}
}

// event feeds the handoff counters from an analytics event the store accepted.
func (m *Metrics) event(e bot.Event) {
	switch e.Type {
	case handoff.EventHandoff:
		m.handoffs.WithLabelValues(string(e.Reason)).Inc()
	case handoff.EventClaim:
		m.wait.Observe(e.Value)
	}
}

// ---- outbox and inbound streams

// Outbox is what the durable outbound queue exposes for metrics:
// OutboxDepth is the number of conversations with replies not yet
// delivered (to send, or to retry).
type Outbox interface {
	OutboxDepth(ctx context.Context) (int64, error)
}

// Pending is what the durable inbound stream exposes: events received but
// not yet acked (the consumer group's pending entries plus the backlog).
type Pending interface {
	Pending(ctx context.Context) (int64, error)
}

// WatchOutbox makes outbox_depth read o.Depth on every scrape. Calling it
// again has no effect.
func (m *Metrics) WatchOutbox(o Outbox) {
	if m == nil || o == nil || !m.watch("outbox") {
		return
	}
	m.reg.MustRegister(&gaugeFunc{m: m, source: "outbox", desc: prometheus.NewDesc(Namespace+"_outbox_depth",
		"Conversations with replies waiting in the outbox (to send or to retry).", nil, nil), read: o.OutboxDepth})
}

// WatchInbound makes inbound_pending read p.Pending on every scrape.
// Calling it again has no effect.
func (m *Metrics) WatchInbound(p Pending) {
	if m == nil || p == nil || !m.watch("inbound") {
		return
	}
	m.reg.MustRegister(&gaugeFunc{m: m, source: "inbound", desc: prometheus.NewDesc(Namespace+"_inbound_pending",
		"Inbound events received but not yet processed and acked.", nil, nil), read: p.Pending})
}

func (m *Metrics) watch(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watched[name] {
		return false
	}
	m.watched[name] = true
	return true
}

// Send counts one send from the outbox by its result (a bot.OutboxObserver).
func (m *Metrics) Send(channel string, r bot.SendResult, err error) {
	switch r {
	case bot.SendDelivered:
		m.OutboxSent(channel)
	case bot.SendRetry:
		m.OutboxRetry(channel, bot.RetryReason(err))
	case bot.SendDropped:
		m.OutboxDropped(channel)
	}
}

// OutboxRetry counts a send to channel retried for reason ("429", "5xx", "network").
func (m *Metrics) OutboxRetry(channel, reason string) {
	if m != nil {
		m.retries.WithLabelValues(channel, reason).Inc()
	}
}

// OutboxDropped counts a send to channel given up after its retries.
func (m *Metrics) OutboxDropped(channel string) {
	if m != nil {
		m.dropped.WithLabelValues(channel).Inc()
	}
}

// OutboxSent counts a send to channel delivered from the outbox.
func (m *Metrics) OutboxSent(channel string) {
	if m != nil {
		m.sent.WithLabelValues(channel).Inc()
	}
}

// gaugeFunc reads one number per scrape, bounded by ScrapeTimeout. A failed
// read exports nothing and counts a scrape error.
type gaugeFunc struct {
	m      *Metrics
	source string
	desc   *prometheus.Desc
	read   func(ctx context.Context) (int64, error)
}

func (g *gaugeFunc) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *gaugeFunc) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	n, err := g.read(ctx)
	if err != nil {
		g.m.scrapeErrs.WithLabelValues(g.source).Inc()
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
}
