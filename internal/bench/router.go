package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/supportbot/supportbot/intents"
)

// quiet is the logger of everything under test: production's default
// level (info), formatted and thrown away.
// BENCH_LOG=debug (or info, warn) shows those logs on stderr instead.
func quiet() *slog.Logger {
	var w io.Writer = io.Discard
	lvl := slog.LevelInfo
	if v := os.Getenv("BENCH_LOG"); v != "" && lvl.UnmarshalText([]byte(v)) == nil {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// newRouter compiles the CLINC150 knowledge base into a router.
func newRouter(ctx context.Context, c *clinc, handoff intents.HandoffFunc) (*intents.Router, *intents.Snapshot, error) {
	snap, err := intents.Compile(ctx, c.base, 1)
	if err != nil {
		return nil, nil, err
	}
	r := intents.New(intents.Config{}, handoff, quiet())
	r.Use(snap)
	return r, snap, nil
}

// routerResult is the router row.
type routerResult struct {
	n        int
	p50, p99 time.Duration
	perSec   float64
	trained  time.Duration
}

// benchRouter decides every test message of CLINC150 (in scope and out of
// scope) rounds times on one core: one goroutine locked to its thread,
// GOMAXPROCS=1. Each call is the router's classify plus decide (language,
// sentiment, rules, classifier, FAQ retrieval): Router.Explain.
func benchRouter(r *intents.Router, texts []string, rounds int) (routerResult, error) {
	defer oneCore()()
	for _, t := range texts[:min(500, len(texts))] { // warm up
		if _, err := r.Explain(t, "en", 0); err != nil {
			return routerResult{}, err
		}
	}
	runtime.GC()
	lat := make(latencies, 0, rounds*len(texts))
	start := time.Now()
	for range rounds {
		for _, t := range texts {
			t0 := time.Now()
			r.Explain(t, "en", 0)
			lat = append(lat, time.Since(t0))
		}
	}
	took := time.Since(start)
	return routerResult{n: len(lat), p50: lat.pct(50), p99: lat.pct(99), perSec: rate(len(lat), took)}, nil
}

// benchRouterCold is benchRouter with the CPU caches emptied before each
// message (a 64 MB buffer written over, one byte a cache line): what a
// message costs when it arrives after other work, as in a bot that is not
// saturated (the paced engine rows), rather than back to back.
func benchRouterCold(r *intents.Router, texts []string) (routerResult, error) {
	defer oneCore()()
	buf := make([]byte, 64<<20)
	lat := make(latencies, 0, len(texts))
	for _, t := range texts {
		evict(buf)
		t0 := time.Now()
		if _, err := r.Explain(t, "en", 0); err != nil {
			return routerResult{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	return routerResult{n: len(lat), p50: lat.pct(50), p99: lat.pct(99)}, nil
}

// evict writes over buf, a cache line at a time, to push everything else
// out of the CPU caches.
func evict(buf []byte) {
	for i := 0; i < len(buf); i += 64 {
		buf[i]++
	}
}

// oneCore runs the caller on one locked thread with GOMAXPROCS=1 until the
// returned func is called.
func oneCore() (restore func()) {
	prev := runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	return func() {
		runtime.UnlockOSThread()
		runtime.GOMAXPROCS(prev)
	}
}
