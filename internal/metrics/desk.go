package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// Desk is what the desk metrics read on each scrape; store.Store implements it.
type Desk interface {
	Queue(ctx context.Context) ([]handoff.Entry, error)
	Agents(ctx context.Context) ([]handoff.Agent, error)
	Events(ctx context.Context, since, until time.Time) ([]bot.Event, error)
}

// EventLag is how far behind now the scrape reads the event log, so that
// events of turns still in flight (stamped at the turn's start, stored at
// its end) are not skipped.
const EventLag = 15 * time.Second

// WatchDesk makes the handoff_queue_* and agent_* gauges read d on every
// scrape, and feeds handoffs_total and handoff_wait_seconds from the
// "handoff" and "claim" events logged since the previous scrape (three
// store reads, each bounded by ScrapeTimeout). Every replica reads the
// same shared store, so aggregate these series with max, not sum, across
// replicas. Calling it again has no effect.
func (m *Metrics) WatchDesk(d Desk) {
	if m == nil || d == nil || !m.watch("desk") {
		return
	}
	m.reg.MustRegister(&deskCollector{m: m, d: d, now: m.now, from: m.now().Add(-EventLag)})
}

var (
	descQueueLen = prometheus.NewDesc(Namespace+"_handoff_queue_length",
		"Conversations waiting in the queue for a human.", nil, nil)
	descQueueOldest = prometheus.NewDesc(Namespace+"_handoff_queue_oldest_wait_seconds",
		"How long the oldest waiting conversation has waited (0 if none).", nil, nil)
	descAgents = prometheus.NewDesc(Namespace+"_agents",
		"Agents by availability (on, away, off).", []string{"status"}, nil)
	descHeld = prometheus.NewDesc(Namespace+"_agent_held_conversations",
		"Conversations held by agents, by the agents' availability.", []string{"status"}, nil)
	descCapacity = prometheus.NewDesc(Namespace+"_agent_capacity",
		"Summed capacity (conversations at once) of agents, by availability.", []string{"status"}, nil)
)

type deskCollector struct {
	m   *Metrics
	d   Desk
	now func() time.Time

	mu   sync.Mutex // serializes scrapes, which move from
	from time.Time  // events before this were counted
}

func (c *deskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueLen, descQueueOldest, descAgents, descHeld, descCapacity} {
		ch <- d
	}
}

func (c *deskCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	c.events(ctx)
	if q, err := c.d.Queue(ctx); err != nil {
		c.m.scrapeErrs.WithLabelValues("queue").Inc()
	} else {
		oldest := 0.0
		now := c.now()
		for _, e := range q {
			if w := now.Sub(e.Since).Seconds(); w > oldest {
				oldest = w
			}
		}
		ch <- prometheus.MustNewConstMetric(descQueueLen, prometheus.GaugeValue, float64(len(q)))
		ch <- prometheus.MustNewConstMetric(descQueueOldest, prometheus.GaugeValue, oldest)
	}
	agents, err := c.d.Agents(ctx)
	if err != nil {
		c.m.scrapeErrs.WithLabelValues("agents").Inc()
		return
	}
	type sums struct{ n, held, capacity int }
	by := map[handoff.Availability]*sums{handoff.On: {}, handoff.Away: {}, handoff.Off: {}}
	for _, a := range agents {
		s := by[a.Status]
		if s == nil {
			s = &sums{}
			by[a.Status] = s
		}
		s.n++
		s.held += a.Active
		s.capacity += max(a.Capacity, 1) // 0 means 1 (handoff.Agent)
	}
	for st, s := range by {
		ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(s.n), string(st))
		ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(s.held), string(st))
		ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, float64(s.capacity), string(st))
	}
}

// events counts the handoff and claim events logged since the last scrape.
// The counters they feed are registered by New, so they are exported even
// when this read fails.
func (c *deskCollector) events(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	until := c.now().Add(-EventLag)
	if !c.from.Before(until) {
		return
	}
	evs, err := c.d.Events(ctx, c.from, until)
	if err != nil {
		c.m.scrapeErrs.WithLabelValues("events").Inc()
		return
	}
	c.from = until
	for _, e := range evs {
		c.m.event(e)
	}
}
