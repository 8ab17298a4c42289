package faults

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store/redisstore"
)

// Timing of the replicas under test: short leases so a takeover is quick.
const (
	leaseTTL  = 2 * time.Second
	minIdle   = 2 * time.Second
	turnDelay = time.Second // handler time in replica processes: work piles up in the inbox
)

// TestMain runs a replica instead of the tests when FAULTS_REPLICA is set.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // go-redis logs every refused dial during the outage tests
	if name := os.Getenv("FAULTS_REPLICA"); name != "" {
		os.Exit(replicaMain(name))
	}
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// replicaMain is one bot replica: the Redis store and inbox, the echo
// handler, the fake platform's channel; SIGTERM stops it gracefully.
func replicaMain(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})).With("replica", name)
	st, err := redisstore.New(ctx, redisstore.Options{URL: os.Getenv("FAULTS_REDIS"), Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	eng := newEngine(st, name, log)
	if d, err := time.ParseDuration(os.Getenv("FAULTS_DELAY")); err == nil {
		eng.SetHandler(slowEcho(d))
	}
	eng.Add(newPlatChannel(os.Getenv("FAULTS_PLATFORM"), name))
	if err := eng.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// newEngine is the engine of a replica: durable inbox, outbox lock, fast
// sweeps and retries.
func newEngine(st *redisstore.Store, name string, log *slog.Logger, opts ...bot.Option) *bot.Engine {
	ib := st.NewInbox(redisstore.InboxOptions{Replica: name, LeaseTTL: leaseTTL, MinIdle: minIdle, Block: 500 * time.Millisecond})
	return bot.New(bot.Config{ShutdownTimeout: 10 * time.Second}, st, bot.HandlerFunc(echo), log,
		append(opts, bot.WithDurable(bot.Durable{Inbox: ib, Lease: st, Replica: name, LockTTL: leaseTTL,
			SweepEvery: 250 * time.Millisecond, SweepAge: time.Second,
			RetryMin: 20 * time.Millisecond, RetryMax: 300 * time.Millisecond, PutTimeout: time.Second}))...)
}

// replica is a replica process.
type replica struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error // valid after done
}

// startReplicas starts n replica processes (this test binary) and waits
// until each polls the platform.
func startReplicas(t *testing.T, n int, srv *redistest.Server, plat *platform, url string) []*replica {
	t.Helper()
	var rs []*replica
	for i := range n {
		r := &replica{name: fmt.Sprintf("r%d", i), out: &bytes.Buffer{}, done: make(chan struct{})}
		r.cmd = exec.Command(os.Args[0], "-test.run=^$")
		r.cmd.Env = append(os.Environ(), "FAULTS_DELAY="+turnDelay.String(), "FAULTS_REPLICA="+r.name, "FAULTS_REDIS="+srv.URL(), "FAULTS_PLATFORM="+url)
		r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.err = r.cmd.Wait(); close(r.done) }() // owned: waited for in Cleanup
		rs = append(rs, r)
	}
	t.Cleanup(func() {
		for _, r := range rs {
			r.cmd.Process.Kill()
			<-r.done
			if t.Failed() && r.out.Len() > 0 {
				t.Logf("replica %s output:\n%s", r.name, tail(r.out.String(), 3000))
			}
		}
	})
	if !plat.waitFor(60*time.Second, func() bool { return len(plat.pollers) == n }) {
		t.Fatalf("replicas did not connect: %v", plat.pollers)
	}
	return rs
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// say makes convs customers write msgs messages each: all first messages,
// then all second ones, and so on. Texts are "<room>/m<i>".
func say(plat *platform, prefix string, convs, msgs int) {
	for m := 1; m <= msgs; m++ {
		for c := range convs {
			room := fmt.Sprintf("%s%04d", prefix, c)
			plat.say(room, fmt.Sprintf("%s/m%d", room, m))
		}
	}
}

// answeredAtLeast waits until n events have a reply.
func answeredAtLeast(plat *platform, n int, d time.Duration) bool {
	return plat.waitFor(d, func() bool { return len(plat.byKey)-plat.unansweredLocked() >= n })
}

// inFlight counts the events not answered yet.
func (p *platform) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unansweredLocked()
}

func checkFigures(t *testing.T, name string, f figures) {
	t.Helper()
	if f.Lost != 0 || f.Duplicated != 0 || f.OutOfOrder != 0 {
		t.Errorf("%s: lost %d, duplicated %d, out of order %d; want none", name, f.Lost, f.Duplicated, f.OutOfOrder)
	}
}

// pendingEntries sums the entries pending in the inbox streams.
func pendingEntries(t *testing.T, rdb *redis.Client) (pending, length int64) {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "sb:{in:*}:s").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if n, err := rdb.XLen(ctx, k).Result(); err == nil {
			length += n
		}
		if p, err := rdb.XPending(ctx, k, "bot").Result(); err == nil {
			pending += p.Count
		}
	}
	return pending, length
}

// TestKillReplica kills one of three replica processes with SIGKILL while
// 1,000 conversations are in flight: every message is still answered
// exactly once, in order, by the two others.
func TestKillReplica(t *testing.T) {
	const convs, msgs = 1000, 2
	srv := redistest.Start(t)
	plat, url := newPlatform(t, 3*time.Second)
	rs := startReplicas(t, 3, srv, plat, url)
	start := time.Now()
	say(plat, "k", convs, msgs)
	total := convs * msgs
	if !answeredAtLeast(plat, total/4, 60*time.Second) {
		t.Fatalf("only %d of %d answered before the kill", total-plat.inFlight(), total)
	}
	owned := partitionsOf(t, srv, rs[0].name, convs)
	inflight := plat.inFlight()
	killed := time.Now()
	rs[0].cmd.Process.Kill()
	<-rs[0].done
	// The events the dead replica had accepted (acked: stored in its
	// partitions) but not answered: they wait in its streams and outboxes.
	plat.mu.Lock()
	var stuck []string
	for k := range plat.acked {
		if owned[plat.byKey[k].Room] && plat.answers[k] == 0 {
			stuck = append(stuck, k)
		}
	}
	plat.mu.Unlock()
	var takeover, recovered time.Duration
	if !plat.waitFor(60*time.Second, func() bool {
		first, last, n := time.Time{}, time.Time{}, 0
		for _, k := range stuck {
			if at, ok := plat.answerAt[k]; ok {
				n++
				if first.IsZero() || at.Before(first) {
					first = at
				}
				if at.After(last) {
					last = at
				}
			}
		}
		takeover, recovered = first.Sub(killed), last.Sub(killed)
		return n == len(stuck)
	}) {
		t.Fatalf("the dead replica's %d accepted events were not all answered within 60s", len(stuck))
	}
	if !plat.waitFor(90*time.Second, func() bool { return plat.unansweredLocked() == 0 }) {
		f := plat.figures()
		t.Fatalf("not all answered 90s after the kill: %+v", f)
	}
	recovery := time.Since(killed)
	f := plat.figures()
	t.Logf("kill -9 of 1 of 3 replicas: %d conversations, %d messages; in flight at the kill %d, of which %d accepted by the dead replica "+
		"(%d conversations in its partitions); lost %d; duplicated %d (resends dropped by the platform's idempotency key %d); "+
		"out of order %d; redelivered by the platform (unacked at the kill) %d; the dead replica's work: first answered %v, "+
		"all answered %v after the kill; everything answered %v after the kill (%v in total)",
		convs, f.Sent, inflight, len(stuck), len(owned), f.Lost, f.Duplicated, f.Resent, f.OutOfOrder, f.Redelivered,
		takeover.Round(time.Millisecond), recovered.Round(time.Millisecond), recovery.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
	if f.Reordered > 0 {
		t.Errorf("%d replies out of order around redelivered events", f.Reordered)
	}
	checkFigures(t, "kill", f)
}

// TestSIGTERMUnderLoad stops one of three replicas with SIGTERM under load:
// it exits cleanly, its in-flight turns finish or are handed back, and
// every message is answered exactly once.
func TestSIGTERMUnderLoad(t *testing.T) {
	const convs, msgs = 600, 2
	srv := redistest.Start(t)
	plat, url := newPlatform(t, 3*time.Second)
	rs := startReplicas(t, 3, srv, plat, url)
	start := time.Now()
	say(plat, "s", convs, msgs)
	total := convs * msgs
	if !answeredAtLeast(plat, total/4, 60*time.Second) {
		t.Fatalf("only %d of %d answered before SIGTERM", total-plat.inFlight(), total)
	}
	inflight := plat.inFlight()
	termAt := time.Now()
	rs[0].cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-rs[0].done:
	case <-time.After(30 * time.Second):
		t.Fatal("the replica did not exit 30s after SIGTERM")
	}
	exited := time.Since(termAt)
	if rs[0].err != nil {
		t.Errorf("replica exit: %v\n%s", rs[0].err, tail(rs[0].out.String(), 2000))
	}
	if !plat.waitFor(90*time.Second, func() bool { return plat.unansweredLocked() == 0 }) {
		t.Fatalf("not all answered 90s after SIGTERM: %+v", plat.figures())
	}
	recovery := time.Since(termAt)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	// A reply goes out before its entry is acked: wait for the acks.
	pending, _ := pendingEntries(t, rdb)
	for tick, end := time.NewTicker(20*time.Millisecond), time.Now().Add(10*time.Second); pending > 0 && time.Now().Before(end); {
		<-tick.C
		pending, _ = pendingEntries(t, rdb)
	}
	f := plat.figures()
	t.Logf("SIGTERM to 1 of 3 replicas: %d messages; in flight at SIGTERM %d; exited cleanly after %v; lost %d; duplicated %d "+
		"(platform-deduped resends %d); out of order %d; inbox entries still pending %d; all answered %v after SIGTERM (%v in total)",
		f.Sent, inflight, exited.Round(time.Millisecond), f.Lost, f.Duplicated, f.Resent, f.OutOfOrder, pending,
		recovery.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	checkFigures(t, "sigterm", f)
	if pending != 0 {
		t.Errorf("%d inbox entries still pending", pending)
	}
}

// ---- in-process engines

// engines runs n in-process replicas until the returned stop is called.
type engines struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startEngines(t *testing.T, n int, srv *redistest.Server, plat *platform, url, prefix string) *engines {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	es := &engines{cancel: cancel}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		st, err := redisstore.New(ctx, redisstore.Options{URL: srv.URL(), Log: log.With("replica", name)})
		if err != nil {
			t.Fatal(err)
		}
		eng := newEngine(st, name, log.With("replica", name), bot.WithObserver(plat.observe))
		eng.Add(newPlatChannel(url, name))
		es.wg.Go(func() {
			defer st.Close()
			if err := eng.Run(ctx); err != nil {
				t.Errorf("replica %s: %v", name, err)
			}
		})
	}
	t.Cleanup(es.stop)
	return es
}

func (es *engines) stop() {
	es.cancel()
	es.wg.Wait()
}

// partitionsOf returns the rooms ("k0000"…) whose inbox partition name
// holds the lease of.
func partitionsOf(t *testing.T, srv *redistest.Server, name string, convs int) map[string]bool {
	t.Helper()
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ib := st.NewInbox(redisstore.InboxOptions{})
	mine := map[int]bool{}
	for p := range 16 {
		if v, _ := srv.Do("GET", fmt.Sprintf("sb:lease:in:%02d", p)); v == name {
			mine[p] = true
		}
	}
	rooms := map[string]bool{}
	for c := range convs {
		room := fmt.Sprintf("k%04d", c)
		if mine[ib.Partition(bot.Address{Channel: "plat", Room: room}.ConversationID())] {
			rooms[room] = true
		}
	}
	return rooms
}
