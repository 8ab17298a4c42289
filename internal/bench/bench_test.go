package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store/embedded"
)

// Go benchmarks of the same rigs as the program, for pprof:
//
//	go test -run '^$' -bench Router -benchmem -cpuprofile cpu.out ./internal/bench
//	go test -run '^$' -bench Engine -benchtime 5000x -cpuprofile cpu.out ./internal/bench

var (
	kbOnce sync.Once
	kbData *clinc
	kbSnap *intents.Snapshot
	kbRtr  *intents.Router
	kbErr  error
)

func clincKB(b *testing.B) (*clinc, *intents.Snapshot, *intents.Router) {
	kbOnce.Do(func() {
		if kbData, kbErr = loadCLINC("../../../shared/data"); kbErr == nil {
			kbRtr, kbSnap, kbErr = newRouter(context.Background(), kbData, nil)
		}
	})
	if kbErr != nil {
		b.Skip(kbErr)
	}
	return kbData, kbSnap, kbRtr
}

// BenchmarkRouter is classify plus decide (Router.Explain) on CLINC150's
// test messages.
func BenchmarkRouter(b *testing.B) {
	c, _, r := clincKB(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Explain(c.test[i%len(c.test)], "en", 0)
		i++
	}
}

// BenchmarkRouterHandle is the router as the engine calls it: decide, then
// the answer, the events and the conversation's updates.
func BenchmarkRouterHandle(b *testing.B) {
	c, snap, _ := clincKB(b)
	r := intents.New(intents.Config{}, func(context.Context, *bot.Turn, bot.Reason, string, string, int) error { return nil }, quiet())
	r.Use(snap)
	texts := answered(r, c.test)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		conv := bot.NewConversation(bot.Address{Channel: "load", Room: "r"}, bot.Customer{ID: "c"}, time.Now())
		t := &bot.Turn{Conv: conv, Msg: bot.Message{Text: texts[i%len(texts)], Role: bot.RoleCustomer}, Now: time.Now(), Log: quiet()}
		if err := r.Handle(ctx, t); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEngineEmbedded runs 100 conversations through the engine on the
// embedded store; b.N is the number of messages. cpu-µs/msg is the
// process's CPU time (bot and load generator) per message.
func BenchmarkEngineEmbedded(b *testing.B) { benchEngineEmbedded(b, 100) }

// BenchmarkEngineEmbeddedOne is BenchmarkEngineEmbedded with one
// conversation: each turn waits for its own durable write.
func BenchmarkEngineEmbeddedOne(b *testing.B) { benchEngineEmbedded(b, 1) }

// BenchmarkEngineEmbedded10k is BenchmarkEngineEmbedded with 10,000
// conversations (b.N of at least 10,000).
func BenchmarkEngineEmbedded10k(b *testing.B) { benchEngineEmbedded(b, 10_000) }

func benchEngineEmbedded(b *testing.B, convs int) {
	c, snap, r := clincKB(b)
	texts := answered(r, c.test)
	st, dir, err := openEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { st.Close(); removeAll(dir) }()
	rg := startRig(st, snap)
	defer rg.close()
	b.ReportAllocs()
	b.ResetTimer()
	turns := max(1, b.N/convs)
	cpu := processCPU()
	commits := st.(*embedded.Store).Commits()
	if err := converse(rg, texts, 0, convs, turns); err != nil {
		b.Fatal(err)
	}
	n := float64(turns * convs)
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/n, "cpu-µs/msg")
	b.ReportMetric(float64(st.(*embedded.Store).Commits()-commits)/n, "write-txs/msg")
}

// BenchmarkRouterCold is BenchmarkRouter with the CPU caches emptied
// before each message (benchRouterCold).
func BenchmarkRouterCold(b *testing.B) {
	c, _, r := clincKB(b)
	buf := make([]byte, 64<<20)
	i := 0
	for b.Loop() {
		b.StopTimer()
		evict(buf)
		b.StartTimer()
		r.Explain(c.test[i%len(c.test)], "en", 0)
		i++
	}
}

// BenchmarkKBEditLive is the time from a published edit of the CLINC150
// knowledge base (one example added to an intent) to its snapshot in use:
// Router.Sync, which compiles an interim model from the one in use.
// BenchmarkKBEditLiveFromScratch is the same with the model trained from
// scratch, as Sync does next.
func BenchmarkKBEditLive(b *testing.B)            { benchKBEdit(b, true) }
func BenchmarkKBEditLiveFromScratch(b *testing.B) { benchKBEdit(b, false) }

func benchKBEdit(b *testing.B, interim bool) {
	c, _, _ := clincKB(b)
	st, err := embedded.Open(filepath.Join(b.TempDir(), "kb.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	base := c.base.Clone()
	d, err := intents.Publish(ctx, st, base, 0, "bench", "CLINC150")
	if err != nil {
		b.Fatal(err)
	}
	r := intents.New(intents.Config{}, nil, quiet())
	if err := r.Sync(ctx, st); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		in := &base.Intents[i%len(base.Intents)]
		in.Examples["en"] = append(in.Examples["en"], fmt.Sprintf("a new way to ask number %d", i))
		if d, err = intents.Publish(ctx, st, base, d.Version, "bench", "edit"); err != nil {
			b.Fatal(err)
		}
		if !interim {
			r.Use(nil)
		}
		b.StartTimer()
		if err := r.Sync(ctx, st); err != nil {
			b.Fatal(err)
		}
		if s := r.Snapshot(); s.Version != d.Version || s.Interim != interim {
			b.Fatalf("snapshot v%d interim %v after publishing v%d", s.Version, s.Interim, d.Version)
		}
		i++
	}
}
