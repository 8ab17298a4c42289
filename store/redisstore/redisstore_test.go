package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/redisstore"
	"github.com/supportbot/supportbot/store/storetest"
)

const retention = 72 * time.Hour

var prefixes atomic.Int64

func newStore(t testing.TB, o redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// conformance runs the suite on a fresh key prefix per test.
func conformance(t *testing.T, base redisstore.Options, restart func(t *testing.T)) {
	clock := &storetest.Clock{}
	base.Retention, base.Now = retention, clock.Now
	openPrefix := func(t *testing.T, prefix string) store.Store {
		o := base
		o.KeyPrefix = prefix
		return newStore(t, o)
	}
	storetest.Run(t, storetest.Features{
		Clock:     clock,
		Retention: retention,
		Reopen: func(t *testing.T, s store.Store) store.Store {
			p := s.(*redisstore.Store).KeyPrefix()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openPrefix(t, p)
		},
		Restart: restart,
		Dump: func(t *testing.T, s store.Store) []string {
			return dump(t, base, s.(*redisstore.Store).KeyPrefix())
		},
	}, func(t *testing.T) store.Store {
		return openPrefix(t, fmt.Sprintf("t%d:", prefixes.Add(1)))
	})
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	conformance(t, redisstore.Options{URL: srv.URL()}, func(t *testing.T) { srv.Restart(t) })
}

// TestConformancePipelined runs the suite with automatic pipelining on.
func TestConformancePipelined(t *testing.T) {
	srv := redistest.Start(t)
	conformance(t, redisstore.Options{URL: srv.URL(), Pipelining: 1}, func(t *testing.T) { srv.Restart(t) })
}

// TestConformanceCluster runs the suite on a real 3-master Redis Cluster, so
// every multi-key script and MULTI must stay on one slot (CROSSSLOT otherwise).
// It takes a few seconds to form the cluster.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster: -short")
	}
	c := redistest.StartCluster(t)
	conformance(t, redisstore.Options{Addrs: c.Addrs()}, nil)
}

func TestUnreachableAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = redisstore.New(context.Background(), redisstore.Options{URL: "redis://" + addr})
	if !errors.Is(err, bot.ErrUnavailable) || !strings.HasPrefix(err.Error(), "redis "+addr+": dial tcp") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v; want \"redis %s: dial tcp ...: connection refused\" wrapping ErrUnavailable", err, addr)
	}
}

func TestBadURLHidesPassword(t *testing.T) {
	_, err := redisstore.New(context.Background(), redisstore.Options{URL: "redis://:s3cret@host:notaport"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

// TestServerDown: with the server gone every call fails fast with
// ErrUnavailable, and works again once it is back.
func TestServerDown(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := newStore(t, redisstore.Options{URL: srv.URL()})
	srv.Stop()
	if err := s.Ping(ctx); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Ping = %v, want ErrUnavailable", err)
	}
	if _, err := s.Conversation(ctx, "x"); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Conversation = %v, want ErrUnavailable", err)
	}
	if err := s.Append(ctx, "x", bot.Message{Text: "hi"}); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Append = %v, want ErrUnavailable", err)
	}
	srv.Restart(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart = %v", err)
	}
}

func fixture(now time.Time) (*bot.Conversation, []bot.Message, int) {
	addr := bot.Address{Channel: "slack", Space: "T0123ABCD", Room: "C0456EFGH", Thread: "1700000000.000100"}
	c := bot.NewConversation(addr, bot.Customer{ID: "slack:U0789IJKL", Name: "Alice Example"}, now)
	c.Lang, c.Intent, c.Score = "en", "order_status", 0.82
	c.Set("card_ts", "1700000001.000200")
	var msgs []bot.Message
	text := 0
	for i := range 20 {
		m := bot.Message{ID: fmt.Sprintf("1700000%03d.000100", i), From: addr, Customer: c.Customer,
			Role: bot.RoleCustomer, Text: fmt.Sprintf("customer question number %d about my order", i), At: now}
		if i%2 == 1 {
			m.Role, m.Kind, m.Lang = bot.RoleBot, bot.KindAnswer, "en"
			m.Text = fmt.Sprintf("bot answer number %d: your order shipped, tracking 1Z999AA1012345678", i)
		}
		text += len(m.Text)
		msgs = append(msgs, m)
	}
	return c, msgs, text
}

// TestMemoryPerConversation: a 20-message conversation costs at most 4 KB of
// Redis memory beyond its text (record, transcript and claim keys).
func TestMemoryPerConversation(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := newStore(t, redisstore.Options{URL: srv.URL()})
	c, msgs, text := fixture(time.Now().UTC())
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(msgs); i += 2 {
		if err := s.Append(ctx, c.ID, msgs[i:i+2]...); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Claim(ctx, c.ID, "slack:U0AGENT"); err != nil {
		t.Fatal(err)
	}
	used, err := s.MemoryUsage(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("20 messages: %d bytes in Redis, %d of text, %d overhead", used, text, used-int64(text))
	if used-int64(text) > 4096 {
		t.Fatalf("overhead %d bytes > 4096", used-int64(text))
	}
}

// TestRetentionTTL: every per-conversation key carries an expiry of about
// Retention from the write, and a write extends it.
func TestRetentionTTL(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := newStore(t, redisstore.Options{URL: srv.URL(), Retention: retention, KeyPrefix: "ttl:"})
	c, msgs, _ := fixture(time.Now().UTC())
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, c.ID, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Claim(ctx, c.ID, "web:alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FirstSeen(ctx, "ev1", time.Hour); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	tag := "ttl:{conv:" + string(c.ID) + "}:"
	for k, want := range map[string]time.Duration{tag + "c": retention, tag + "t": retention, tag + "h": retention,
		"ttl:cust:" + c.Customer.ID: retention, "ttl:dd:ev1": time.Hour} {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || ttl > want || ttl < want-time.Minute {
			t.Errorf("PTTL %s = %v, %v; want within a minute below %v", k, ttl, err, want)
		}
	}
}

// TestWireCoversMessage guards the compact transcript encoding: a new field in
// bot.Message must be added to msgWire.
func TestWireCoversMessage(t *testing.T) {
	if n := reflect.TypeFor[bot.Message]().NumField(); n != 12 {
		t.Fatalf("bot.Message has %d fields; update msgWire in encoding.go and this count", n)
	}
}

// BenchmarkMessagePath: load + append 2 messages + save. With appendfsync
// always (the test default) Redis fsyncs each write; everysec is the usual
// production setting and shows the round-trip cost.
func BenchmarkMessagePath(b *testing.B) {
	for _, fsync := range []string{"always", "everysec"} {
		b.Run("appendfsync="+fsync, func(b *testing.B) {
			srv := redistest.Start(b, "--appendfsync", fsync)
			storetest.BenchmarkMessagePath(b, newStore(b, redisstore.Options{URL: srv.URL()}))
		})
	}
}

// dump returns every key under prefix with its whole contents as text, read
// with a separate client (every master of a Cluster).
func dump(t *testing.T, o redisstore.Options, prefix string) []string {
	t.Helper()
	uo := &redis.UniversalOptions{Addrs: o.Addrs}
	if o.URL != "" {
		ro, err := redis.ParseURL(o.URL)
		if err != nil {
			t.Fatal(err)
		}
		uo.Addrs = []string{ro.Addr}
	}
	rdb := redis.NewUniversalClient(uo)
	defer rdb.Close()
	ctx := context.Background()
	var keys []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return iter.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, c)
		})
	} else {
		err = scan(ctx, rdb.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		var v any
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			v = rdb.Get(ctx, k).Val()
		case "list":
			v = rdb.LRange(ctx, k, 0, -1).Val()
		case "hash":
			v = rdb.HGetAll(ctx, k).Val()
		case "set":
			v = rdb.SMembers(ctx, k).Val()
		case "zset":
			v = rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "stream":
			v = rdb.XRange(ctx, k, "-", "+").Val()
		default:
			v = "type " + typ
		}
		out = append(out, fmt.Sprintf("%s = %v", k, v))
	}
	return out
}

// TestCommitTurnScript: the single-server commit script writes a turn's
// events per day (several events of one day share one ZADD), trims the
// events older than EventsRetention, reports an empty outbox as the head
// and keeps every key of the conversation to the same expiry.
func TestCommitTurnScript(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour) // today, noon: the keys' expiries lie ahead
	s := newStore(t, redisstore.Options{URL: srv.URL(), KeyPrefix: "ct:", Retention: retention,
		EventsRetention: time.Hour, Now: func() time.Time { return now }})
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "r1"}, bot.Customer{ID: "web:u1"}, now)
	ev := func(at time.Time, typ string) bot.Event { return bot.Event{At: at, Type: typ, Conv: c.ID} }
	turn := &bot.TurnCommit{Conv: c,
		Msgs:   []bot.Message{{ID: "m1", From: c.Address, Role: bot.RoleCustomer, Text: "hi", At: now}},
		Out:    []bot.Outgoing{{Key: "m1-r0", To: c.Address, Reply: bot.Reply{Text: "hello"}, At: now}},
		Events: []bot.Event{ev(now, "a"), ev(now.Add(-13*time.Hour), "yesterday, too old"), ev(now.Add(-2*time.Hour), "too old"), ev(now.Add(-time.Minute), "b")},
		Lease:  "outbox:" + string(c.ID), LeaseOwner: "me", LeaseTTL: time.Minute}
	if err := s.CommitTurn(ctx, turn); err != nil {
		t.Fatal(err)
	}
	if !turn.Head || !turn.Leased {
		t.Errorf("Head, Leased = %v, %v; want true, true", turn.Head, turn.Leased)
	}
	evs, err := s.Events(ctx, now.Add(-48*time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if fmt.Sprint(types) != "[b a]" {
		t.Errorf("events %q, want [b a]", types)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if n := rdb.ZCard(ctx, "ct:ev:"+now.Format("20060102")).Val(); n != 2 {
		t.Errorf("today's events set has %d members, want 2 (the older one trimmed)", n)
	}
	if n := rdb.Exists(ctx, "ct:ev:"+now.AddDate(0, 0, -1).Format("20060102")).Val(); n != 0 {
		t.Errorf("yesterday's events set exists: its only event is older than the retention")
	}
	tag := "ct:{conv:" + string(c.ID) + "}:"
	want := now.Add(retention).UnixMilli()
	for _, k := range []string{"c", "t", "o", "om"} {
		if at := rdb.PExpireTime(ctx, tag+k).Val(); at != time.Duration(want)*time.Millisecond {
			t.Errorf("PEXPIRETIME %s = %v, want %v", k, at, time.Duration(want)*time.Millisecond)
		}
	}
	// A second reply behind the first: not the head.
	turn = &bot.TurnCommit{Conv: c, Out: []bot.Outgoing{{Key: "m2-r0", To: c.Address, Reply: bot.Reply{Text: "again"}, At: now}}}
	if err := s.CommitTurn(ctx, turn); err != nil {
		t.Fatal(err)
	}
	if turn.Head {
		t.Error("Head behind a queued reply")
	}
}
