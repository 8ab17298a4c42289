package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/redisstore"
)

// loadChannel is the fake channel of the end-to-end rows: Listen hands
// what Say queued to the engine; Send counts the replies and calls the
// callback Say registered for the reply's room (in order per room). Like
// bot/channeltest.Fake, without the test helper's unbounded post log.
type loadChannel struct {
	in   chan bot.Inbound
	seq  atomic.Int64
	sent atomic.Int64

	mu      sync.Mutex
	waiting map[string][]func() // room → callbacks of the replies awaited
}

func newLoadChannel() *loadChannel {
	return &loadChannel{in: make(chan bot.Inbound, 1024), waiting: map[string][]func(){}}
}

func (c *loadChannel) Name() string { return "load" }

func (c *loadChannel) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case i := <-c.in:
			deliver(ctx, i)
		}
	}
}

func (c *loadChannel) Send(_ context.Context, to bot.Address, _ bot.Reply) error {
	c.sent.Add(1)
	c.mu.Lock()
	var f func()
	if q := c.waiting[to.Room]; len(q) > 0 {
		f = q[0]
		if len(q) == 1 {
			delete(c.waiting, to.Room)
		} else {
			c.waiting[to.Room] = q[1:]
		}
	}
	c.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

// Say queues a customer message in room; replied, if not nil, is called
// when the channel sends the room's next reply not yet awaited.
func (c *loadChannel) Say(room int, text string, replied func()) {
	id := "m" + strconv.FormatInt(c.seq.Add(1), 10)
	r := "r" + strconv.Itoa(room)
	if replied != nil {
		c.mu.Lock()
		c.waiting[r] = append(c.waiting[r], replied)
		c.mu.Unlock()
	}
	c.in <- bot.Inbound{Key: "load:" + id, Msg: bot.Message{ID: id, Text: text, Role: bot.RoleCustomer,
		From: bot.Address{Channel: "load", Room: r}, Customer: bot.Customer{ID: "load:c" + r, Name: "Customer " + r}}}
}

// rig is the bot as cmd/supportbot wires it (store → router and desk →
// engine), with the load channel and optional workspaces.
type rig struct {
	st     store.Store
	eng    *bot.Engine
	desk   *handoff.Desk
	ch     *loadChannel
	failed atomic.Int64 // turns whose outcome was not handled
	stop   context.CancelFunc
	done   chan struct{}
}

// startRig wires the bot on st. On Redis it takes the full durable path
// (bot.WithDurable: the stream inbox, which also dedupes, and the outbox
// lock); every store that implements bot.OutboxStore commits turns
// atomically and sends through the outbox.
func startRig(st store.Store, snap *intents.Snapshot, ws ...handoff.Workspace) *rig {
	log := quiet()
	r := &rig{st: st, ch: newLoadChannel(), done: make(chan struct{})}
	opts := []bot.Option{bot.WithObserver(func(_ bot.Inbound, o bot.Outcome, _ time.Duration) {
		if o != bot.Handled {
			r.failed.Add(1)
		}
	})}
	if rs, ok := st.(*redisstore.Store); ok {
		opts = append(opts, bot.WithDurable(bot.Durable{Inbox: rs.NewInbox(redisstore.InboxOptions{Replica: "bench"}), Lease: rs, Replica: "bench"}))
	}
	r.eng = bot.New(bot.Config{}, st, nil, log, opts...)
	r.eng.Add(r.ch)
	r.desk = handoff.NewDesk(handoff.Config{}, st, st, st, st, r.eng, log, handoff.WithWorkspaces(ws...))
	router := intents.New(intents.Config{}, func(ctx context.Context, t *bot.Turn, reason bot.Reason, skill, topic string, prio int) error {
		return r.desk.Handoff(ctx, t, handoff.Request{Reason: reason, Skill: skill, Topic: topic, Priority: prio})
	}, log)
	router.Use(snap)
	r.eng.SetHandler(r.desk.Gate(router))
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		defer close(r.done)
		var wg sync.WaitGroup
		wg.Go(func() { r.eng.Run(ctx) })
		wg.Go(func() { r.desk.Run(ctx) })
		wg.Wait()
	}()
	return r
}

func (r *rig) close() {
	r.stop()
	<-r.done
}

// e2eResult is one end-to-end row.
type e2eResult struct {
	convs    int
	n        int
	perSec   float64
	p50, p99 time.Duration
	p90      time.Duration
	p999     time.Duration
	max      time.Duration
	failed   int64
	peakRSS  int64
	commands string // Redis commands per message, most frequent first
	redisCPU string // CPU time and system calls per message of this process and of redis-server (Redis rows)
	// cpu is this process's CPU time (user + system) per message: the bot
	// and the load generator (for Redis, not redis-server).
	cpu time.Duration
}

// answered keeps the texts the router answers on a fresh conversation, so
// that every message of the run takes the common path (classify, answer)
// rather than handing conversations to the desk.
func answered(r *intents.Router, texts []string) []string {
	var out []string
	for _, t := range texts {
		if d, err := r.Explain(t, "", 0); err == nil && d.Action == "answer" {
			out = append(out, t)
		}
	}
	return out
}

// closedLoop runs convs conversations for d: each sends a message, waits
// for the reply, and sends the next. Latency is from Say to the reply's Send.
// The next message is sent from the reply's callback, so the load generator
// keeps no goroutine per conversation: thousands of them would stay in the
// runtime's list of goroutines and slow every later row's collections.
func closedLoop(r *rig, texts []string, convs int, d time.Duration) (e2eResult, error) {
	var mu sync.Mutex
	var all latencies
	var peak atomic.Int64
	var inflight atomic.Int64
	idle := make(chan struct{}) // closed when the last reply after d is in
	var stopped atomic.Bool
	stopRSS := sampleRSS(&peak)
	cpu0 := processCPU()
	start := time.Now()
	rnds := make([]*rand.Rand, convs)
	var say func(c int)
	say = func(c int) {
		t0 := time.Now()
		r.ch.Say(c, texts[rnds[c].IntN(len(texts))], func() {
			lat := time.Since(t0)
			mu.Lock()
			all = append(all, lat)
			mu.Unlock()
			if !stopped.Load() {
				say(c)
				return
			}
			if inflight.Add(-1) == 0 {
				close(idle)
			}
		})
	}
	inflight.Store(int64(convs))
	for c := range convs {
		rnds[c] = rand.New(rand.NewPCG(uint64(c), 1))
		say(c)
	}
	time.Sleep(d)
	stopped.Store(true)
	select {
	case <-idle:
	case <-time.After(30 * time.Second): // lost turns show as failed
	}
	took := time.Since(start) // with the replies in flight at d, as they are counted
	cpu := processCPU() - cpu0
	stopRSS()
	mu.Lock()
	defer mu.Unlock()
	if len(all) == 0 {
		return e2eResult{}, errors.New("no message was handled")
	}
	return e2eResult{convs: convs, n: len(all), perSec: rate(len(all), took), p50: all.pct(50), p99: all.pct(99),
		failed: r.failed.Load(), peakRSS: peak.Load(), cpu: cpu / time.Duration(len(all))}, nil
}

// opening has each of convs conversations send its first message, all at
// once, and waits for the replies: the closed-loop rows measure conversations
// under way, not their start (a conversation's first turn creates its record
// and customer index, and the process's first use of that much memory faults
// it in).
func opening(r *rig, texts []string, convs int) error {
	var wg sync.WaitGroup
	wg.Add(convs)
	for c := range convs {
		r.ch.Say(c, texts[c%len(texts)], wg.Done)
	}
	if !waitAtMost(&wg, time.Minute) {
		return fmt.Errorf("opening: %d conversations still unanswered after a minute", convs)
	}
	return nil
}

// waitAtMost waits for wg, or for d, and reports whether wg was done.
func waitAtMost(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// paced sends perSec messages a second for d over convs conversations
// (round robin), without waiting for replies, and measures each message
// from its scheduled send time, so a stall is not hidden.
func paced(r *rig, texts []string, convs, perSec int, d time.Duration) (e2eResult, error) {
	total := int(float64(perSec) * d.Seconds())
	interval := time.Second / time.Duration(perSec)
	lat := make(latencies, total)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		r.ch.Say(i%convs, texts[i%len(texts)], func() {
			lat[i] = time.Since(at)
			wg.Done()
		})
	}
	if !waitAtMost(&wg, time.Minute) {
		return e2eResult{}, fmt.Errorf("paced: messages still unhandled a minute after the last was sent")
	}
	took := time.Since(start)
	return e2eResult{convs: convs, n: total, perSec: rate(total, took), p50: lat.pct(50), p90: lat.pct(90), p99: lat.pct(99),
		p999: lat.pct(99.9), max: lat.pct(100), failed: r.failed.Load()}, nil
}

// sampleRSS records this process's peak RSS until the returned func is called.
func sampleRSS(peak *atomic.Int64) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := vmRSS("self"); err == nil && n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(stop); <-done }
}

// processCPU is the CPU time (user + system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
