package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/supportbot/supportbot/bot"
)

// Errors a call returns instead of an answer; the caller then takes its
// offline path. errors.Is(err, ErrFallback) is true for all of them.
var (
	ErrFallback    = errors.New("llm: use the offline path")
	ErrUnavailable = fmt.Errorf("%w: model unavailable", ErrFallback) // breaker open, timeout, 5xx, 429, network, auth
	ErrLimited     = fmt.Errorf("%w: limit reached", ErrFallback)     // rate limit or token budget
	ErrRejected    = fmt.Errorf("%w: output rejected", ErrFallback)   // the output failed a check
)

// Purposes of calls, used in metrics.
const (
	PurposeAnswer    = "answer"
	PurposeEmbed     = "embed"
	PurposeSummary   = "summary"
	PurposeTranslate = "translate"
)

// Client calls an OpenAI-compatible API through go-openai, with PII
// redaction, rate and token limits, a monthly budget, a circuit breaker
// and metrics around every call. It is safe for concurrent use.
type Client struct {
	cfg   Config
	oa    *openai.Client
	br    *breaker
	lim   *limits
	met   *metrics
	log   *slog.Logger
	now   func() time.Time
	st    bot.DocStore
	flush time.Duration
	hc    *http.Client

	sem atomic.Pointer[semIndex] // see embed.go
	bld buildState
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (its Transport is wrapped to read
// Retry-After). Never give it a Timeout: every call has its own deadline.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.hc = h } }

// WithClock replaces time.Now (limits, breaker).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithStore keeps the monthly token total and the embedding cache in st.
func WithStore(st bot.DocStore) Option { return func(c *Client) { c.st = st } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithFlushEvery sets how often Run writes the token total to the store (default 1m).
func WithFlushEvery(d time.Duration) Option { return func(c *Client) { c.flush = d } }

// New returns a client for cfg (validated by the caller). It does no I/O.
func New(cfg Config, opts ...Option) *Client {
	c := &Client{cfg: cfg, now: time.Now, log: slog.Default(), met: newMetrics(), flush: time.Minute}
	for _, o := range opts {
		o(c)
	}
	c.log = c.log.With("component", "llm")
	var oc openai.ClientConfig
	if cfg.API == "azure" {
		oc = openai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		oc.APIVersion = cfg.AzureAPIVersion
		oc.AzureModelMapperFunc = func(model string) string { return model } // model = deployment name
	} else {
		oc = openai.DefaultConfig(cfg.APIKey)
		oc.BaseURL = cfg.BaseURL
	}
	base := http.DefaultTransport
	if c.hc != nil && c.hc.Transport != nil {
		base = c.hc.Transport
	}
	hc := &http.Client{Transport: retryAfterTransport{base}}
	if c.hc != nil {
		cp := *c.hc
		cp.Transport = retryAfterTransport{base}
		hc = &cp
	}
	oc.HTTPClient = hc
	c.oa = openai.NewClientWithConfig(oc)
	c.br = newBreaker(cfg.BreakerFailures, cfg.BreakerCooldown.Duration, c.now)
	c.lim = newLimits(&c.cfg, c.now)
	return c
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// Stats returns the counters (for /metrics or logs).
func (c *Client) Stats() Stats {
	s := c.met.snapshot()
	s.MonthTokens = c.lim.monthUsed()
	s.Breaker = c.br.State()
	return s
}

// Run loads this month's stored token total, then writes what this
// process used to the store every flush interval and when ctx ends. It is
// a no-op without WithStore.
func (c *Client) Run(ctx context.Context) error {
	if c.st == nil {
		<-ctx.Done()
		return nil
	}
	if err := c.lim.load(ctx, c.st); err != nil && ctx.Err() == nil {
		c.log.Warn("load token usage", "err", err)
	}
	t := time.NewTicker(c.flush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.lim.flush(fctx, c.st); err != nil {
				c.log.Warn("flush token usage", "err", err)
			}
			return nil
		case <-t.C:
			if err := c.lim.flush(ctx, c.st); err != nil && ctx.Err() == nil {
				c.log.Warn("flush token usage", "err", err)
			}
		}
	}
}

// open reports (and counts) a fallback at once while the breaker is open,
// before any work is spent on a call that cannot be made.
func (c *Client) open(purpose string) error {
	if c.br.State() != StateOpen {
		return nil
	}
	c.met.fallback(purpose, "breaker_open")
	return fmt.Errorf("%w: circuit breaker open", ErrUnavailable)
}

// call is one guarded request: limits and breaker before, metrics and
// breaker after.
type call struct {
	purpose, conv string
	estimate      int64
}

// guard runs fn under the limits, the breaker and the per-call timeout.
// fn returns the tokens used (prompt, completion).
func (c *Client) guard(ctx context.Context, k call, fn func(ctx context.Context) (int64, int64, error)) error {
	if !c.br.allow() {
		c.met.fallback(k.purpose, "breaker_open")
		return fmt.Errorf("%w: circuit breaker open", ErrUnavailable)
	}
	if err := c.lim.reserve(k.conv, k.estimate); err != nil {
		c.br.done(false, true, 0) // a probe that never ran proves nothing
		reason := "rate_limit"
		if errors.Is(err, errBudget) {
			reason = "budget"
		}
		c.met.fallback(k.purpose, reason)
		return fmt.Errorf("%w: %v", ErrLimited, err)
	}
	info := &callInfo{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callInfoKey{}, info), c.cfg.Timeout.Duration)
	defer cancel()
	start := time.Now()
	prompt, compl, err := fn(cctx)
	took := time.Since(start)
	outcome, failed, neutral := classifyErr(ctx, cctx, err)
	c.met.request(k.purpose, outcome, took)
	c.br.done(failed, neutral, info.retryAfter)
	if err != nil {
		c.met.fallback(k.purpose, "error")
		if outcome == "auth" {
			c.log.Error("the model API refused the key (check OPENAI_API_KEY)", "err", err)
		} else {
			c.log.Warn("model call failed; using the offline path", "purpose", k.purpose, "outcome", outcome,
				"took", took.Round(time.Millisecond), "err", err)
		}
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, outcome, err)
	}
	if prompt+compl == 0 {
		prompt = k.estimate
	}
	c.lim.add(k.conv, prompt+compl)
	c.met.tokens(k.purpose, prompt, compl)
	return nil
}

// classifyErr names the outcome of a call and whether it counts against the
// breaker (failed) or not at all (neutral: the caller gave up, or the
// request itself was bad).
func classifyErr(parent, cctx context.Context, err error) (outcome string, failed, neutral bool) {
	if err == nil {
		return "ok", false, false
	}
	if parent.Err() != nil {
		return "canceled", false, true
	}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	status := 0
	if errors.As(err, &apiErr) {
		status = apiErr.HTTPStatusCode
	} else if errors.As(err, &reqErr) {
		status = reqErr.HTTPStatusCode
	}
	var nerr net.Error
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limited", true, false
	case status >= 500:
		return "server_error", true, false
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "auth", true, false
	case status >= 400:
		return "bad_request", false, true
	case errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil || errors.As(err, &nerr) && nerr.Timeout():
		return "timeout", true, false
	}
	return "network", true, false
}

// chat sends msgs (redacted first when configured) and returns the
// assistant's text with redacted values restored.
func (c *Client) chat(ctx context.Context, purpose, conv string, msgs []openai.ChatCompletionMessage, maxTokens int) (string, error) {
	if err := c.open(purpose); err != nil {
		return "", err
	}
	red := &Redacted{}
	var chars int
	for i := range msgs {
		if c.cfg.Redact && msgs[i].Role != openai.ChatMessageRoleSystem { // system prompts are ours and constant
			msgs[i].Content = red.Add(msgs[i].Content)
		}
		chars += len(msgs[i].Content) + 16
	}
	if maxTokens <= 0 || maxTokens > c.cfg.MaxTokens {
		maxTokens = c.cfg.MaxTokens
	}
	req := openai.ChatCompletionRequest{Model: c.cfg.Model, Messages: msgs, Temperature: float32(c.cfg.Temperature)}
	if req.Temperature == 0 {
		req.Temperature = math.SmallestNonzeroFloat32 // 0 would be dropped (omitempty) and mean the server default
	}
	if c.cfg.MaxTokensField == "max_completion_tokens" {
		req.MaxCompletionTokens = maxTokens
	} else {
		req.MaxTokens = maxTokens
	}
	var out string
	err := c.guard(ctx, call{purpose: purpose, conv: conv, estimate: int64(chars/4 + maxTokens)},
		func(ctx context.Context) (int64, int64, error) {
			resp, err := c.oa.CreateChatCompletion(ctx, req)
			if err != nil {
				return 0, 0, err
			}
			if len(resp.Choices) == 0 {
				return 0, 0, errors.New("no choices in the response")
			}
			out = resp.Choices[0].Message.Content
			return int64(resp.Usage.PromptTokens), int64(resp.Usage.CompletionTokens), nil
		})
	if err != nil {
		return "", err
	}
	return red.Restore(strings.TrimSpace(out)), nil
}

// Embed returns one vector per text (redacted first when configured),
// in order. It is guarded like every call.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if c.cfg.EmbeddingModel == "" {
		return nil, fmt.Errorf("%w: no embedding_model", ErrUnavailable)
	}
	if err := c.open(PurposeEmbed); err != nil {
		return nil, err
	}
	in := make([]string, len(texts))
	var chars int
	for i, t := range texts {
		if c.cfg.Redact {
			t = Redact(t).Text
		}
		in[i] = strings.ReplaceAll(t, "\n", " ")
		chars += len(in[i])
	}
	out := make([][]float32, len(texts))
	err := c.guard(ctx, call{purpose: PurposeEmbed, estimate: int64(chars/4 + len(in))},
		func(ctx context.Context) (int64, int64, error) {
			resp, err := c.oa.CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{Input: in, Model: openai.EmbeddingModel(c.cfg.EmbeddingModel)})
			if err != nil {
				return 0, 0, err
			}
			for _, d := range resp.Data {
				if d.Index < 0 || d.Index >= len(out) {
					return 0, 0, fmt.Errorf("embedding index %d out of range", d.Index)
				}
				out[d.Index] = d.Embedding
			}
			for i, v := range out {
				if len(v) == 0 {
					return 0, 0, fmt.Errorf("no embedding for input %d", i)
				}
			}
			return int64(resp.Usage.PromptTokens), 0, nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// callInfo carries what the transport saw back to guard.
type callInfo struct{ retryAfter time.Duration }

type callInfoKey struct{}

// retryAfterTransport reads Retry-After from 429 and 503 responses, which
// go-openai does not surface, so the breaker honours it.
type retryAfterTransport struct{ base http.RoundTripper }

func (t retryAfterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if info, ok := r.Context().Value(callInfoKey{}).(*callInfo); ok {
			info.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return resp, err
}

// parseRetryAfter reads seconds or an HTTP date; capped at an hour.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}
