package llm

import (
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of the counters since the process started. Keys of
// the maps are "purpose/outcome" (purposes: answer, embed, summary,
// translate; outcomes: ok, timeout, server_error, rate_limited, auth,
// bad_request, network, canceled) and "purpose/reason" for fallbacks
// (breaker_open, rate_limit, budget, error, ungrounded).
type Stats struct {
	Requests         map[string]int64 `json:"requests"`
	Fallbacks        map[string]int64 `json:"fallbacks"`
	PromptTokens     int64            `json:"prompt_tokens"`
	CompletionTokens int64            `json:"completion_tokens"`
	MonthTokens      int64            `json:"month_tokens"` // this calendar month (UTC), as this process knows it
	Calls            int64            `json:"calls"`        // calls that reached the server
	LatencySum       time.Duration    `json:"latency_sum"`  // of those calls
	Breaker          string           `json:"breaker"`      // closed | open | half_open
}

type metrics struct {
	mu        sync.Mutex
	requests  map[string]int64
	fallbacks map[string]int64
	prompt    int64
	compl     int64
	calls     int64
	latency   time.Duration

	reqVec  *prometheus.CounterVec
	fbVec   *prometheus.CounterVec
	tokVec  *prometheus.CounterVec
	latHist *prometheus.HistogramVec
}

func newMetrics() *metrics {
	return &metrics{requests: map[string]int64{}, fallbacks: map[string]int64{},
		reqVec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "supportbot_llm_requests_total",
			Help: "Calls to the language model by purpose and outcome."}, []string{"purpose", "outcome"}),
		fbVec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "supportbot_llm_fallbacks_total",
			Help: "Times the bot fell back to the offline path, by purpose and reason."}, []string{"purpose", "reason"}),
		tokVec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "supportbot_llm_tokens_total",
			Help: "Tokens used, by purpose and kind (prompt, completion)."}, []string{"purpose", "kind"}),
		latHist: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "supportbot_llm_latency_seconds",
			Help:    "Latency of calls to the language model.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8}}, []string{"purpose"}),
	}
}

func (m *metrics) request(purpose, outcome string, took time.Duration) {
	m.mu.Lock()
	m.requests[purpose+"/"+outcome]++
	m.calls++
	m.latency += took
	m.mu.Unlock()
	m.reqVec.WithLabelValues(purpose, outcome).Inc()
	m.latHist.WithLabelValues(purpose).Observe(took.Seconds())
}

func (m *metrics) fallback(purpose, reason string) {
	m.mu.Lock()
	m.fallbacks[purpose+"/"+reason]++
	m.mu.Unlock()
	m.fbVec.WithLabelValues(purpose, reason).Inc()
}

func (m *metrics) tokens(purpose string, prompt, completion int64) {
	m.mu.Lock()
	m.prompt += prompt
	m.compl += completion
	m.mu.Unlock()
	m.tokVec.WithLabelValues(purpose, "prompt").Add(float64(prompt))
	m.tokVec.WithLabelValues(purpose, "completion").Add(float64(completion))
}

func (m *metrics) snapshot() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Requests: maps.Clone(m.requests), Fallbacks: maps.Clone(m.fallbacks),
		PromptTokens: m.prompt, CompletionTokens: m.compl, Calls: m.calls, LatencySum: m.latency}
}

// Register adds the client's Prometheus collectors to reg:
// supportbot_llm_requests_total, supportbot_llm_fallbacks_total,
// supportbot_llm_tokens_total, supportbot_llm_latency_seconds,
// supportbot_llm_month_tokens and supportbot_llm_breaker_open.
func (c *Client) Register(reg prometheus.Registerer) error {
	month := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "supportbot_llm_month_tokens",
		Help: "Tokens used this calendar month (UTC), as this process knows it."},
		func() float64 { return float64(c.lim.monthUsed()) })
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "supportbot_llm_breaker_open",
		Help: "1 while the circuit breaker sends every call to the offline fallback."},
		func() float64 {
			if c.br.State() == StateOpen {
				return 1
			}
			return 0
		})
	for _, col := range []prometheus.Collector{c.met.reqVec, c.met.fbVec, c.met.tokVec, c.met.latHist, month, open} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}
