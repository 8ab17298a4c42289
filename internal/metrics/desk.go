package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportbot/supportbot/handoff"
)

// Desk is what the queue and agent gauges read on each scrape; the store
// (handoff.Store) implements it.
type Desk interface {
	Queue(ctx context.Context) ([]handoff.Entry, error)
	Agents(ctx context.Context) ([]handoff.Agent, error)
}

// WatchDesk makes the handoff_queue_* and agent_* gauges read d on every
// scrape (two store reads, each bounded by ScrapeTimeout). With several
// replicas every one exports the same shared numbers: aggregate with max,
// not sum. Calling it again has no effect.
func (m *Metrics) WatchDesk(d Desk) {
	if m == nil || d == nil || !m.watch("desk") {
		return
	}
	m.reg.MustRegister(&deskCollector{m: m, d: d, now: time.Now})
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
}

func (c *deskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueLen, descQueueOldest, descAgents, descHeld, descCapacity} {
		ch <- d
	}
}

func (c *deskCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
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
