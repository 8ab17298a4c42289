package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	openai "github.com/sashabaranov/go-openai"

	"github.com/supportbot/supportbot/internal/conf"
	"github.com/supportbot/supportbot/internal/fakeopenai"
	"github.com/supportbot/supportbot/store/embedded"
)

func userMsg(text string) []openai.ChatCompletionMessage {
	return []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: "You translate."},
		{Role: openai.ChatMessageRoleUser, Content: text}}
}

func TestChatRedactsBeforeSendingAndRestoresAfter(t *testing.T) {
	f := fakeopenai.New(t)
	f.OnChat(func(r fakeopenai.Request) fakeopenai.Response {
		return fakeopenai.Response{Content: "We will write to [EMAIL_1] about card [CARD_1]."}
	})
	c := newClient(t, f, nil, nil)
	out, err := c.chat(context.Background(), PurposeTranslate, "conv1", userMsg("I am ana@example.com, card 4111 1111 1111 1111, phone +47 912 34 567"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if out != "We will write to ana@example.com about card 4111 1111 1111 1111." {
		t.Fatalf("restored output %q", out)
	}
	body := string(f.Requests()[0].Body)
	for _, leak := range []string{"ana@example.com", "4111", "912 34 567"} {
		if strings.Contains(body, leak) {
			t.Errorf("request body contains %q: %s", leak, body)
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(f.Requests()[0].Body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["temperature"]; !ok {
		t.Error("temperature dropped by omitempty")
	}
	if raw["max_tokens"] != float64(400) {
		t.Errorf("max_tokens = %v", raw["max_tokens"])
	}
	if got := f.Requests()[0].Header.Get("Authorization"); got != "Bearer sk-test" {
		t.Errorf("Authorization %q", got)
	}
}

func TestRedactOffSendsTextAsIs(t *testing.T) {
	f := fakeopenai.New(t)
	c := newClient(t, f, nil, func(c *Config) { c.Redact = false; c.MaxTokensField = "max_completion_tokens" })
	if _, err := c.chat(context.Background(), PurposeTranslate, "", userMsg("mail ana@example.com"), 0); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()[0]
	if !strings.Contains(string(r.Body), "ana@example.com") || r.Chat.MaxCompletionTokens != 400 || r.Chat.MaxTokens != 0 {
		t.Fatalf("body %s", r.Body)
	}
}

func TestAzureDeploymentURLAndKeyHeader(t *testing.T) {
	f := fakeopenai.New(t)
	c := newClient(t, f, nil, func(c *Config) {
		c.API, c.BaseURL, c.AzureAPIVersion, c.Model = "azure", f.URL, "2024-10-21", "support-gpt"
	})
	if _, err := c.chat(context.Background(), PurposeTranslate, "", userMsg("hei"), 0); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()[0]
	if r.Path != "/openai/deployments/support-gpt/chat/completions" || r.Header.Get("api-key") != "sk-test" {
		t.Fatalf("path %s, api-key %q", r.Path, r.Header.Get("api-key"))
	}
}

// TestErrorsFallBack: 401, 429 (with Retry-After) and 500 all return an
// ErrUnavailable error the caller falls back on; 429 opens the breaker
// for as long as Retry-After says.
func TestErrorsFallBack(t *testing.T) {
	tests := []struct {
		name    string
		resp    fakeopenai.Response
		outcome string
		open    bool // the breaker opens at once
	}{
		{"401", fakeopenai.Response{Status: 401}, "auth", false},
		{"429 Retry-After", fakeopenai.Response{Status: 429, RetryAfter: "120"}, "rate_limited", true},
		{"500", fakeopenai.Response{Status: 500}, "server_error", false},
		{"503", fakeopenai.Response{Status: 503}, "server_error", false},
		{"400 does not count", fakeopenai.Response{Status: 400}, "bad_request", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeopenai.New(t)
			f.Script(tc.resp)
			clk := newClock()
			c := newClient(t, f, clk, nil)
			_, err := c.chat(context.Background(), PurposeAnswer, "c", userMsg("hello"), 0)
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrFallback) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			st := c.Stats()
			if st.Requests[PurposeAnswer+"/"+tc.outcome] != 1 || st.Fallbacks[PurposeAnswer+"/error"] != 1 {
				t.Fatalf("stats %+v", st)
			}
			if got := c.Stats().Breaker == StateOpen; got != tc.open {
				t.Fatalf("breaker %s", c.Stats().Breaker)
			}
			if tc.open {
				clk.Add(100 * time.Second) // past the 30s cool-down, within Retry-After
				if _, err := c.chat(context.Background(), PurposeAnswer, "c", userMsg("hello"), 0); !errors.Is(err, ErrUnavailable) || f.Count() != 1 {
					t.Fatalf("call during Retry-After: err %v, %d requests", err, f.Count())
				}
				clk.Add(21 * time.Second)
				if _, err := c.chat(context.Background(), PurposeAnswer, "c", userMsg("hello"), 0); err != nil || f.Count() != 2 {
					t.Fatalf("probe after Retry-After: err %v, %d requests", err, f.Count())
				}
			}
		})
	}
}

// TestSlowModelTimesOut: the fake blocks until the client's per-call
// deadline ends the request; the call falls back with "timeout".
func TestSlowModelTimesOut(t *testing.T) {
	f := fakeopenai.New(t)
	f.Script(fakeopenai.Response{Block: true, Content: "late"})
	c := newClient(t, f, nil, func(c *Config) { c.Timeout = conf.Duration{Duration: 50 * time.Millisecond} })
	_, err := c.chat(context.Background(), PurposeAnswer, "c", userMsg("hello"), 0)
	if !errors.Is(err, ErrUnavailable) || c.Stats().Requests[PurposeAnswer+"/timeout"] != 1 {
		t.Fatalf("err %v, stats %+v", err, c.Stats())
	}
}

// TestCallerGivingUpDoesNotTripTheBreaker: a canceled turn is not the
// model's failure.
func TestCallerGivingUpDoesNotTripTheBreaker(t *testing.T) {
	f := fakeopenai.New(t)
	c := newClient(t, f, nil, func(c *Config) { c.BreakerFailures = 1 })
	for range 3 {
		f.Script(fakeopenai.Response{Block: true})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := c.chat(ctx, PurposeAnswer, "c", userMsg("hello"), 0)
		cancel()
		if !errors.Is(err, ErrUnavailable) {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Breaker != StateClosed || st.Requests[PurposeAnswer+"/canceled"] != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConnectionRefusedFallsBack(t *testing.T) {
	c := newClient(t, nil, nil, func(c *Config) { c.BaseURL = fakeopenai.RefusedURL(t) })
	_, err := c.chat(context.Background(), PurposeAnswer, "c", userMsg("hello"), 0)
	if !errors.Is(err, ErrUnavailable) || c.Stats().Requests[PurposeAnswer+"/network"] != 1 {
		t.Fatalf("err %v, stats %+v", err, c.Stats())
	}
}

// TestBreakerOpensThenProbesOnce: after 3 failures no call reaches the
// server until the cool-down ends; then exactly one probe goes through
// (others fall back at once while it runs), and its success closes the
// breaker.
func TestBreakerOpensThenProbesOnce(t *testing.T) {
	f := fakeopenai.New(t)
	clk := newClock()
	c := newClient(t, f, clk, nil)
	ctx := context.Background()
	for range 3 {
		f.Script(fakeopenai.Response{Status: 500})
		if _, err := c.chat(ctx, PurposeAnswer, "c", userMsg("x"), 0); err == nil {
			t.Fatal("want an error")
		}
	}
	if c.Stats().Breaker != StateOpen {
		t.Fatalf("breaker %s after 3 failures", c.Stats().Breaker)
	}
	if _, err := c.chat(ctx, PurposeAnswer, "c", userMsg("x"), 0); !errors.Is(err, ErrUnavailable) || f.Count() != 3 {
		t.Fatalf("open breaker let a call through: %v, %d requests", err, f.Count())
	}
	if c.Stats().Fallbacks[PurposeAnswer+"/breaker_open"] != 1 {
		t.Fatalf("fallbacks %v", c.Stats().Fallbacks)
	}

	clk.Add(31 * time.Second)
	f.Script(fakeopenai.Response{Block: true, Content: "probe ok"})
	probe := make(chan error, 1)
	go func() {
		_, err := c.chat(ctx, PurposeAnswer, "c", userMsg("x"), 0)
		probe <- err
	}()
	waitFor(t, func() bool { return f.Count() == 4 })
	if _, err := c.chat(ctx, PurposeAnswer, "c", userMsg("x"), 0); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second call during the probe: %v", err)
	}
	f.Release()
	select {
	case err := <-probe:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("probe did not finish")
	}
	if c.Stats().Breaker != StateClosed || f.Count() != 4 {
		t.Fatalf("breaker %s, %d requests", c.Stats().Breaker, f.Count())
	}
}

func TestFailedProbeReopens(t *testing.T) {
	f := fakeopenai.New(t)
	clk := newClock()
	c := newClient(t, f, clk, func(c *Config) { c.BreakerFailures = 1 })
	f.Script(fakeopenai.Response{Status: 502}, fakeopenai.Response{Status: 502})
	c.chat(context.Background(), PurposeAnswer, "c", userMsg("x"), 0)
	clk.Add(31 * time.Second)
	c.chat(context.Background(), PurposeAnswer, "c", userMsg("x"), 0)
	if c.Stats().Breaker != StateOpen || f.Count() != 2 {
		t.Fatalf("breaker %s, %d requests", c.Stats().Breaker, f.Count())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-deadline:
			t.Fatal("condition not met in 5s")
		case <-time.After(time.Millisecond):
		}
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("per conversation rate", func(t *testing.T) {
		f := fakeopenai.New(t)
		clk := newClock()
		c := newClient(t, f, clk, func(c *Config) { c.ConvRatePerMinute = 2 })
		for i := range 2 {
			if _, err := c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if _, err := c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0); !errors.Is(err, ErrLimited) {
			t.Fatalf("third call in a minute: %v", err)
		}
		if _, err := c.chat(ctx, PurposeAnswer, "b", userMsg("x"), 0); err != nil {
			t.Fatalf("another conversation: %v", err)
		}
		clk.Add(30 * time.Second)
		if _, err := c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0); err != nil {
			t.Fatalf("after 30s: %v", err)
		}
		if c.Stats().Fallbacks[PurposeAnswer+"/rate_limit"] != 1 {
			t.Fatalf("fallbacks %v", c.Stats().Fallbacks)
		}
	})
	t.Run("global rate", func(t *testing.T) {
		f := fakeopenai.New(t)
		c := newClient(t, f, nil, func(c *Config) { c.RatePerMinute = 6 }) // burst 1
		c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0)
		if _, err := c.chat(ctx, PurposeAnswer, "b", userMsg("x"), 0); !errors.Is(err, ErrLimited) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("per conversation tokens", func(t *testing.T) {
		f := fakeopenai.New(t)
		f.OnChat(func(fakeopenai.Request) fakeopenai.Response {
			return fakeopenai.Response{Content: "ok", Prompt: 300, Completion: 100}
		})
		c := newClient(t, f, nil, func(c *Config) { c.ConvTokensPerMonth = 900; c.MaxTokens = 100 })
		c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0)
		c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0)
		if _, err := c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0); !errors.Is(err, ErrLimited) {
			t.Fatalf("800 of 900 tokens used, a call estimated over 100: %v", err)
		}
		if _, err := c.chat(ctx, PurposeAnswer, "b", userMsg("x"), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("monthly budget resets next month", func(t *testing.T) {
		f := fakeopenai.New(t)
		f.OnChat(func(fakeopenai.Request) fakeopenai.Response {
			return fakeopenai.Response{Content: "ok", Prompt: 900, Completion: 100}
		})
		clk := newClock()
		c := newClient(t, f, clk, func(c *Config) { c.MonthlyTokenBudget = 1100; c.MaxTokens = 100 })
		c.chat(ctx, PurposeAnswer, "a", userMsg("x"), 0)
		if _, err := c.chat(ctx, PurposeAnswer, "b", userMsg("x"), 0); !errors.Is(err, ErrLimited) {
			t.Fatalf("err %v", err)
		}
		if st := c.Stats(); st.MonthTokens != 1000 || st.Fallbacks[PurposeAnswer+"/budget"] != 1 {
			t.Fatalf("stats %+v", st)
		}
		clk.Add(31 * 24 * time.Hour)
		if _, err := c.chat(ctx, PurposeAnswer, "b", userMsg("x"), 0); err != nil {
			t.Fatalf("next month: %v", err)
		}
	})
}

// TestMonthlyUsageIsKeptInTheStore: what one process used counts for the
// next (or another replica) after a flush.
func TestMonthlyUsageIsKeptInTheStore(t *testing.T) {
	st, err := embedded.Open(t.TempDir()+"/s.db", embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := fakeopenai.New(t)
	f.OnChat(func(fakeopenai.Request) fakeopenai.Response {
		return fakeopenai.Response{Content: "ok", Prompt: 600, Completion: 100}
	})
	clk := newClock()
	ctx, cancel := context.WithCancel(context.Background())
	a := newClient(t, f, clk, func(c *Config) { c.MonthlyTokenBudget = 800; c.MaxTokens = 100 }, WithStore(st))
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	if _, err := a.chat(context.Background(), PurposeAnswer, "a", userMsg("x"), 0); err != nil {
		t.Fatal(err)
	}
	cancel() // Run flushes on the way out
	<-done
	b := newClient(t, f, clk, func(c *Config) { c.MonthlyTokenBudget = 800; c.MaxTokens = 100 }, WithStore(st))
	if err := b.lim.load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if b.Stats().MonthTokens != 700 {
		t.Fatalf("loaded %d tokens, want 700", b.Stats().MonthTokens)
	}
	if _, err := b.chat(context.Background(), PurposeAnswer, "b", userMsg("x"), 0); !errors.Is(err, ErrLimited) {
		t.Fatalf("budget not shared: %v", err)
	}
}

func TestMetricsRegister(t *testing.T) {
	f := fakeopenai.New(t)
	c := newClient(t, f, nil, nil)
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	c.chat(context.Background(), PurposeAnswer, "a", userMsg("x"), 0)
	f.Script(fakeopenai.Response{Status: 500})
	c.chat(context.Background(), PurposeAnswer, "a", userMsg("x"), 0)
	if v := testutil.ToFloat64(c.met.reqVec.WithLabelValues(PurposeAnswer, "ok")); v != 1 {
		t.Errorf("requests ok = %v", v)
	}
	if v := testutil.ToFloat64(c.met.fbVec.WithLabelValues(PurposeAnswer, "error")); v != 1 {
		t.Errorf("fallbacks = %v", v)
	}
	n, err := testutil.GatherAndCount(reg, "supportbot_llm_tokens_total", "supportbot_llm_latency_seconds",
		"supportbot_llm_month_tokens", "supportbot_llm_breaker_open")
	if err != nil || n < 4 {
		t.Fatalf("gathered %d series: %v", n, err)
	}
}

func TestEmbed(t *testing.T) {
	f := fakeopenai.New(t)
	c := newClient(t, f, nil, nil)
	vs, err := c.Embed(context.Background(), []string{"return a jacket", "mail me at ana@example.com"})
	if err != nil || len(vs) != 2 || len(vs[0]) != fakeopenai.Dim {
		t.Fatalf("vectors %d, err %v", len(vs), err)
	}
	if in := f.EmbeddedInputs(); in[1] != "mail me at [EMAIL_1]" {
		t.Fatalf("embedded %q", in)
	}
	f.OnEmbed(func([]string) ([][]float32, *fakeopenai.Response) {
		return nil, &fakeopenai.Response{Status: http.StatusTooManyRequests, RetryAfter: "1"}
	})
	if _, err := c.Embed(context.Background(), []string{"x"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("429: %v", err)
	}
}

func TestStreamingFakeWorksWithTheRealClient(t *testing.T) {
	f := fakeopenai.New(t)
	f.Script(fakeopenai.Response{Content: "one two three", Stream: true})
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = f.BaseURL()
	st, err := openai.NewClientWithConfig(cfg).CreateChatCompletionStream(context.Background(),
		openai.ChatCompletionRequest{Model: "m", Stream: true, Messages: userMsg("x"),
			StreamOptions: &openai.StreamOptions{IncludeUsage: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b strings.Builder
	usage := 0
	for {
		chunk, err := st.Recv()
		if err != nil {
			break
		}
		if chunk.Usage != nil {
			usage = chunk.Usage.TotalTokens
		}
		if len(chunk.Choices) > 0 {
			b.WriteString(chunk.Choices[0].Delta.Content)
		}
	}
	if b.String() != "one two three" || usage == 0 {
		t.Fatalf("streamed %q, usage %d", b.String(), usage)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, "-3": 0, "99999": time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second, "soon": 0} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
