package faults

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/store/redisstore"
)

// TestPlatformErrors: the platform answers 429 (with Retry-After) and 500
// for a while; afterwards every reply is delivered, once, in order. With
// the Redis store (two replicas, durable inbox) and the embedded store.
func TestPlatformErrors(t *testing.T) {
	for _, backend := range []string{"redis", "embedded"} {
		t.Run(backend, func(t *testing.T) {
			plat, url := newPlatform(t, 3*time.Second)
			if backend == "redis" {
				startEngines(t, 2, redistest.Start(t), plat, url, "d")
			} else {
				startEmbedded(t, plat, url)
			}
			var mu sync.Mutex
			n := 0
			plat.setFail(func() (int, time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				if n++; n%2 == 0 {
					return 429, 50 * time.Millisecond
				}
				return 500, 0
			})
			const rooms, msgs, failures = 50, 4, 20
			say(plat, "d", rooms, msgs)
			// Down for a while: until every turn has committed its reply and
			// the platform refused at least 20 sends.
			if !plat.waitFor(60*time.Second, func() bool { return plat.handled >= rooms*msgs && plat.failures >= failures }) {
				t.Fatalf("handled %d, failed sends %d", plat.handled, plat.failures)
			}
			inflight := plat.inFlight()
			plat.setFail(nil)
			healed := time.Now()
			if !plat.waitFor(60*time.Second, func() bool { return plat.unansweredLocked() == 0 }) {
				t.Fatalf("not all delivered 60s after the platform healed: %+v", plat.figures())
			}
			f := plat.figures()
			t.Logf("%s: platform refused %d sends (429 and 500 alternately); %d messages, %d unanswered when it healed; "+
				"lost %d; duplicated %d; out of order %d; all delivered %v after it healed",
				backend, plat.failures, f.Sent, inflight, f.Lost, f.Duplicated, f.OutOfOrder, time.Since(healed).Round(time.Millisecond))
			checkFigures(t, backend, f)
		})
	}
}

// startEmbedded runs one engine on the embedded store (in-process
// mailboxes, bbolt outbox).
func startEmbedded(t *testing.T, plat *platform, url string) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	eng := bot.New(bot.Config{}, st, bot.HandlerFunc(echo), log, bot.WithDurable(bot.Durable{
		SweepEvery: 250 * time.Millisecond, SweepAge: time.Second, RetryMin: 20 * time.Millisecond, RetryMax: 300 * time.Millisecond}), bot.WithObserver(plat.observe))
	eng.Add(newPlatChannel(url, "e0"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := eng.Run(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
}

// snapshot counts what Redis holds of the bot's state.
type snapshot struct {
	Conversations, Transcript, Outbox, Marks, Inbox, Pending int64
}

func takeSnapshot(t *testing.T, addr string) snapshot {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	var s snapshot
	count := func(pattern string, size func(k string) int64) int64 {
		keys, err := rdb.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, k := range keys {
			n += size(k)
		}
		return n
	}
	llen := func(k string) int64 { return rdb.LLen(ctx, k).Val() }
	s.Conversations = count("sb:{conv:*}:c", func(string) int64 { return 1 })
	s.Transcript = count("sb:{conv:*}:t", func(k string) int64 { return llen(k) - 1 }) // minus the header
	s.Outbox = count("sb:{conv:*}:o", llen)
	s.Marks = rdb.ZCard(ctx, "sb:{outbox}:marks").Val()
	s.Pending, s.Inbox = pendingEntries(t, rdb)
	return s
}

// TestRedisRestartAOF: with replies held in outboxes (the platform fails)
// and events queued in the inbox (no replica running), redis-server is
// killed with SIGKILL and restarted from its AOF: every conversation,
// transcript message, outbox and inbox entry is still there, and once the
// replicas are back every message is answered exactly once.
func TestRedisRestartAOF(t *testing.T) {
	const first, queued = 300, 100
	srv := redistest.Start(t)
	plat, url := newPlatform(t, 3*time.Second)
	plat.setFail(func() (int, time.Duration) { return 503, 0 })
	es := startEngines(t, 2, srv, plat, url, "b")
	say(plat, "b", first, 1)
	// Every reply has been committed once the platform refused it.
	if !plat.waitFor(60*time.Second, func() bool { return plat.handled >= first }) {
		t.Fatalf("handled %d of %d", plat.handled, first)
	}
	es.stop()
	// Queue entries: events stored in the inbox that no replica has read.
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ib := st.NewInbox(redisstore.InboxOptions{})
	for c := range queued {
		room := fmt.Sprintf("q%04d", c)
		e := plat.say(room, room+"/m1")
		in := bot.Inbound{Key: "plat:" + e.Key, Msg: bot.Message{ID: e.Key, Text: e.Text, Role: bot.RoleCustomer,
			From: bot.Address{Channel: "plat", Room: room}, Customer: bot.Customer{ID: "plat:" + room}}}
		if _, err := ib.Put(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	before := takeSnapshot(t, srv.Addr)
	down := time.Now()
	srv.Restart(t)
	restart := time.Since(down)
	after := takeSnapshot(t, srv.Addr)
	if before != after {
		t.Errorf("Redis state changed across the restart:\nbefore %+v\nafter  %+v", before, after)
	}
	if before.Conversations < first || before.Outbox < first || before.Inbox-before.Pending < queued {
		t.Errorf("snapshot before the restart is short: %+v", before)
	}
	plat.setFail(nil)
	startEngines(t, 2, srv, plat, url, "b2")
	if !plat.waitFor(60*time.Second, func() bool { return plat.unansweredLocked() == 0 }) {
		t.Fatalf("not all answered after the restart: %+v", plat.figures())
	}
	f := plat.figures()
	final := takeSnapshot(t, srv.Addr)
	t.Logf("redis-server SIGKILL + restart with AOF (appendfsync always), back in %v: before %+v, after %+v "+
		"(conversations, transcript messages, outbox entries, outbox marks, inbox entries, pending); lost %d; duplicated %d; "+
		"%d messages answered, %d conversations and %d transcript messages in the end",
		restart.Round(time.Millisecond), before, after, f.Lost, f.Duplicated, f.Answered, final.Conversations, final.Transcript)
	checkFigures(t, "aof", f)
	if final.Conversations != first+queued || final.Transcript != 2*(first+queued) {
		t.Errorf("final state %+v: want %d conversations with 2 transcript messages each", final, first+queued)
	}
}

// TestRedisOutage: Redis is unreachable for 5 s while customers write.
// Each affected customer gets at most one short apology; when Redis is
// back the bot recovers by itself and answers every message exactly once.
func TestRedisOutage(t *testing.T) {
	const warm, fresh = 50, 100
	srv := redistest.Start(t)
	plat, url := newPlatform(t, 30*time.Second)
	startEngines(t, 2, srv, plat, url, "c")
	say(plat, "w", warm, 1)
	if !answeredAtLeast(plat, warm, 60*time.Second) {
		t.Fatal("warm-up not answered")
	}
	srv.Stop()
	down := time.Now()
	for c := range warm { // customers already talking write again
		room := fmt.Sprintf("w%04d", c)
		plat.say(room, room+"/m2")
	}
	say(plat, "n", fresh, 1) // new customers
	affected := warm + fresh
	// Wait for the apologies (a signal), then for the rest of the 5 s outage.
	apologized := plat.waitFor(20*time.Second, func() bool {
		rooms := map[string]bool{}
		for _, m := range plat.posts {
			if m.Kind == string(bot.KindNotice) {
				rooms[m.Room] = true
			}
		}
		return len(rooms) >= affected
	})
	if rest := 5*time.Second - time.Since(down); rest > 0 {
		<-time.After(rest) // the outage itself: real time, unavoidable
	}
	srv.Restart(t)
	outage := time.Since(down)
	up := time.Now()
	if !plat.waitFor(60*time.Second, func() bool { return plat.unansweredLocked() == 0 }) {
		t.Fatalf("not all answered 60s after Redis came back: %+v", plat.figures())
	}
	recovery := time.Since(up)
	f := plat.figures()
	sorry := plat.apologies()
	most, long := 0, 0
	for _, n := range sorry {
		most = max(most, n)
	}
	plat.mu.Lock()
	for _, m := range plat.posts {
		if m.Kind == string(bot.KindNotice) && len(m.Text) > 120 {
			long++
		}
	}
	plat.mu.Unlock()
	t.Logf("Redis unreachable for %v: %d customers wrote meanwhile, %d got an apology (at most %d each, %d too long); "+
		"lost %d; duplicated %d; out of order %d; all answered %v after Redis came back",
		outage.Round(time.Millisecond), affected, len(sorry), most, long, f.Lost, f.Duplicated, f.OutOfOrder, recovery.Round(time.Millisecond))
	checkFigures(t, "outage", f)
	if most > 1 || long > 0 {
		t.Errorf("apologies: at most %d per customer, %d longer than 120 bytes", most, long)
	}
	if !apologized {
		t.Errorf("only %d of %d affected customers were told", len(sorry), affected)
	}
}
