package llm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/internal/fakeopenai"
)

// Measurements (go test ./llm -run '^$' -bench . -benchtime 200x):
//
//   BenchmarkRouterUnsure/offline       the offline router alone
//   BenchmarkRouterUnsure/grounded      with a grounded answer from an instant fake;
//                                       "added-µs/op" is the LLM path's cost less the
//                                       offline router's and the model's own time (the
//                                       fake's handler time): prompt, redaction, HTTP,
//                                       JSON and the grounding check
//   BenchmarkRouterUnsure/refused       model down: connection refused → offline answer
//   BenchmarkRouterUnsure/timeout-50ms  model hangs: the per-call timeout (50 ms here) → offline answer
//   BenchmarkRouterUnsure/breaker-open  after the breaker opened: immediate offline answer

func benchTurn(b *testing.B, r *router) {
	addr := bot.Address{Channel: "web", Room: "r1"}
	tu := &bot.Turn{Conv: bot.NewConversation(addr, bot.Customer{ID: "web:1"}, time.Now()),
		Msg: bot.Message{ID: "m1", From: addr, Role: bot.RoleCustomer, Text: warrantyQ}, Now: time.Now(), Log: testLog(b)}
	if err := r.Handle(context.Background(), tu); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRouterUnsure(b *testing.B) {
	starter(b)
	answer := func(fakeopenai.Request) fakeopenai.Response {
		return fakeopenai.Response{Content: "Products have a warranty; see the warranty terms [faq:product.warranty]."}
	}
	unlimited := func(c *Config) {
		c.MonthlyTokenBudget, c.ConvTokensPerMonth, c.RatePerMinute, c.ConvRatePerMinute = 0, 0, 0, 0
	}
	b.Run("offline", func(b *testing.B) {
		r := newRouter(b, intents.Config{}, nil, nil)
		for b.Loop() {
			benchTurn(b, r)
		}
	})
	b.Run("grounded", func(b *testing.B) {
		f := fakeopenai.New(b)
		f.OnChat(answer)
		c := newClient(b, f, nil, unlimited)
		r := newRouter(b, intents.Config{}, c.Grounder(), nil)
		benchTurn(b, r)
		if n := c.Stats().Requests[PurposeAnswer+"/ok"]; n != 1 {
			b.Fatalf("not the grounded path: %v", c.Stats())
		}
		off := newRouter(b, intents.Config{}, nil, nil)
		t0 := time.Now()
		for range 100 {
			benchTurn(b, off)
		}
		offline := time.Since(t0) / 100
		start, model := time.Now(), f.ServerTime()
		n := 0
		for b.Loop() {
			benchTurn(b, r)
			n++
		}
		total, own := time.Since(start), f.ServerTime()-model
		b.ReportMetric(float64((total-own).Microseconds())/float64(n), "llm-path-µs/op")
		b.ReportMetric(float64(own.Microseconds())/float64(n), "model-µs/op")
		b.ReportMetric(float64((total-own).Microseconds())/float64(n)-float64(offline.Microseconds()), "added-µs/op")
	})
	b.Run("refused", func(b *testing.B) {
		c := newClient(b, nil, nil, func(c *Config) { unlimited(c); c.BaseURL = fakeopenai.RefusedURL(b); c.BreakerFailures = 1 << 30 })
		r := newRouter(b, intents.Config{}, c.Grounder(), nil)
		for b.Loop() {
			benchTurn(b, r)
		}
		if c.Stats().Requests[PurposeAnswer+"/network"] == 0 {
			b.Fatalf("stats %+v", c.Stats())
		}
	})
	b.Run("timeout-50ms", func(b *testing.B) {
		f := fakeopenai.New(b)
		f.OnChat(func(fakeopenai.Request) fakeopenai.Response { return fakeopenai.Response{Block: true} })
		c := newClient(b, f, nil, func(c *Config) { unlimited(c); c.Timeout.Duration = 50 * time.Millisecond; c.BreakerFailures = 1 << 30 })
		r := newRouter(b, intents.Config{}, c.Grounder(), nil)
		for b.Loop() {
			benchTurn(b, r)
		}
	})
	b.Run("breaker-open", func(b *testing.B) {
		f := fakeopenai.New(b)
		f.OnChat(func(fakeopenai.Request) fakeopenai.Response { return fakeopenai.Response{Status: 503} })
		c := newClient(b, f, nil, func(c *Config) { unlimited(c); c.BreakerFailures = 1 })
		r := newRouter(b, intents.Config{}, c.Grounder(), nil)
		benchTurn(b, r)
		if c.Stats().Breaker != StateOpen {
			b.Fatal("breaker not open")
		}
		for b.Loop() {
			benchTurn(b, r)
		}
	})
}

// BenchmarkCheck is the grounding check alone.
func BenchmarkCheck(b *testing.B) {
	out := strings.Repeat("You can return items within 60 days for free [faq:returns]. ", 4)
	srcs := []intents.Source{returnsSrc, warrantySrc}
	for b.Loop() {
		if _, err := Check(out, srcs, "ref-x"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedact is PII redaction of a typical message.
func BenchmarkRedact(b *testing.B) {
	msg := "Hi, I'm ana@example.com, +47 912 34 567, order 48213; my card 4111 1111 1111 1111 was charged twice. IBAN NO9386011117947."
	for b.Loop() {
		Redact(msg)
	}
}
