package redisstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
)

// The batcher's tests hold its one round trip "in flight" (hold), let
// callers queue behind it (waitQueued), then end that round trip (release),
// which sends the whole queue as one pipeline.

// pipeCounter counts the pipelines the client executes and their sizes.
type pipeCounter struct {
	n, cmds atomic.Int64
}

func (c *pipeCounter) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (c *pipeCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (c *pipeCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		c.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func batchStore(t *testing.T, o Options) (*Store, *pipeCounter) {
	t.Helper()
	o.Pipelining = 1
	o.KeyPrefix = fmt.Sprintf("b%d:", time.Now().UnixNano())
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &pipeCounter{}
	s.rdb.AddHook(c)
	return s, c
}

func (b *batcher) hold() {
	b.mu.Lock()
	b.busy++
	b.mu.Unlock()
}

func (b *batcher) release() { b.done() }

func (b *batcher) waitQueued(n int) {
	for {
		b.mu.Lock()
		l := len(b.queue)
		b.mu.Unlock()
		if l >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestBatchResults: concurrent callers whose commands share one pipeline
// each get their own result or error: found, not found, a Redis error of
// their own command, and a script the server has not cached (NOSCRIPT, then
// EVAL).
func TestBatchResults(t *testing.T) {
	srv := redistest.Start(t)
	s, pipes := batchStore(t, Options{URL: srv.URL()})
	ctx := context.Background()
	const n = 30
	id := func(i int) bot.ConversationID { return bot.ConversationID(fmt.Sprintf("c%02d", i)) }
	for i := 0; i < n; i += 3 { // i%3 == 0: stored; 1: missing; 2: a list, so GET fails
		c := bot.NewConversation(bot.Address{Channel: "web", Room: string(id(i))}, bot.Customer{}, time.Now())
		c.ID = id(i)
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.rdb.RPush(ctx, s.convKeys(id(i + 2))[0], "x").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Do("SCRIPT", "FLUSH"); err != nil {
		t.Fatal(err)
	}
	pipes.n.Store(0)
	pipes.cmds.Store(0)

	s.batch.hold()
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]*bot.Conversation, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = s.Conversation(ctx, id(i)) })
	}
	var leased bool
	var leaseErr error
	wg.Go(func() { leased, leaseErr = s.Lease(ctx, "batch", "me", time.Minute) })
	s.batch.waitQueued(n + 1)
	s.batch.release()
	wg.Wait()

	if p, c := pipes.n.Load(), pipes.cmds.Load(); p != 1 || c != n+1 {
		t.Errorf("%d pipelines of %d commands in all, want 1 of %d", p, c, n+1)
	}
	for i := range n {
		switch i % 3 {
		case 0:
			if errs[i] != nil || got[i].ID != id(i) {
				t.Errorf("%s: %v, %v; want the conversation", id(i), got[i], errs[i])
			}
		case 1:
			if !errors.Is(errs[i], bot.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", id(i), errs[i])
			}
		case 2:
			if errs[i] == nil || !strings.Contains(errs[i].Error(), "WRONGTYPE") || errors.Is(errs[i], bot.ErrNotFound) {
				t.Errorf("%s: %v, want its WRONGTYPE", id(i), errs[i])
			}
		}
	}
	if !leased || leaseErr != nil {
		t.Errorf("Lease after SCRIPT FLUSH = %v, %v; want true, nil", leased, leaseErr)
	}
}

// TestBatchCancel: a queued command whose context ends returns at once with
// the context's error and is never sent; the others of the queue are.
func TestBatchCancel(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := batchStore(t, Options{URL: srv.URL()})
	bg := context.Background()

	s.batch.hold()
	ctx, cancel := context.WithCancel(bg)
	canceled := make(chan error, 1)
	go func() {
		_, err := s.FirstSeen(ctx, "a", time.Hour)
		canceled <- err
	}()
	s.batch.waitQueued(1)
	var wg sync.WaitGroup
	var first bool
	var err error
	wg.Go(func() { first, err = s.FirstSeen(bg, "b", time.Hour) })
	s.batch.waitQueued(2)
	cancel()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled FirstSeen = %v, want context.Canceled", err)
	}
	s.batch.release()
	wg.Wait()
	if !first || err != nil {
		t.Errorf("FirstSeen(b) = %v, %v; want true, nil", first, err)
	}
	if n, err := s.rdb.Exists(bg, s.p+"dd:a").Result(); n != 0 || err != nil {
		t.Errorf("EXISTS of the canceled key = %d, %v: it was sent", n, err)
	}
}

// TestBatchCloseWaits: Close returns only once the queued commands have been
// sent and answered, and they succeed.
func TestBatchCloseWaits(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := batchStore(t, Options{URL: srv.URL()})
	const n = 10
	s.batch.hold()
	var wg sync.WaitGroup
	errs := make([]error, n)
	firsts := make([]bool, n)
	for i := range n {
		wg.Go(func() { firsts[i], errs[i] = s.FirstSeen(context.Background(), fmt.Sprint("k", i), time.Hour) })
	}
	s.batch.waitQueued(n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for { // Close is waiting once it has marked the batcher closed
		s.batch.mu.Lock()
		c := s.batch.closed
		s.batch.mu.Unlock()
		if c {
			break
		}
		runtime.Gosched()
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with %d commands queued", err, n)
	default:
	}
	s.batch.release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !firsts[i] || errs[i] != nil {
			t.Errorf("FirstSeen(k%d) = %v, %v; want true, nil", i, firsts[i], errs[i])
		}
	}
	if _, err := s.FirstSeen(context.Background(), "late", time.Hour); !errors.Is(err, bot.ErrUnavailable) {
		t.Errorf("FirstSeen after Close = %v, want ErrUnavailable", err)
	}
}

// TestBatchCluster: on a Cluster one pipeline carries commands for keys of
// every master, and each caller gets its own result.
func TestBatchCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster: -short")
	}
	c := redistest.StartCluster(t)
	s, pipes := batchStore(t, Options{Addrs: c.Addrs()})
	ctx := context.Background()
	const n = 40
	for i := 0; i < n; i += 2 {
		if _, err := s.FirstSeen(ctx, fmt.Sprint("k", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	pipes.n.Store(0)
	s.batch.hold()
	var wg sync.WaitGroup
	errs := make([]error, n)
	firsts := make([]bool, n)
	for i := range n {
		wg.Go(func() { firsts[i], errs[i] = s.FirstSeen(ctx, fmt.Sprint("k", i), time.Hour) })
	}
	s.batch.waitQueued(n)
	s.batch.release()
	wg.Wait()
	if p := pipes.n.Load(); p != 1 {
		t.Errorf("%d pipelines, want 1", p)
	}
	for i := range n {
		if errs[i] != nil || firsts[i] != (i%2 == 1) {
			t.Errorf("FirstSeen(k%d) = %v, %v; want %v, nil", i, firsts[i], errs[i], i%2 == 1)
		}
	}
}

// TestBatchable: blocking reads and commands that hold or change a
// connection never share a pipeline.
func TestBatchable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		cmd  redis.Cmder
		want bool
	}{
		{redis.NewStringCmd(ctx, "get", "k"), true},
		{redis.NewCmd(ctx, "evalsha", "abc", 1, "k"), true},
		{redis.NewXStreamSliceCmd(ctx, "xreadgroup", "group", "g", "c", "count", 64, "streams", "s", ">"), true},
		{redis.NewXStreamSliceCmd(ctx, "xreadgroup", "group", "g", "c", "count", 64, "block", 2000, "streams", "s", ">"), false},
		{redis.NewXStreamSliceCmd(ctx, "xreadgroup", "group", "block", "streams", "streams", "s", ">"), true},
		{redis.NewStringSliceCmd(ctx, "blpop", "k", 0), false},
		{redis.NewStatusCmd(ctx, "watch", "k"), false},
		{redis.NewStatusCmd(ctx, "multi"), false},
		{redis.NewStatusCmd(ctx, "select", 1), false},
		{redis.NewStatusCmd(ctx, "ping"), false},
		{redis.NewStatusCmd(ctx, "script", "flush"), false},
	} {
		if got := batchable(tc.cmd); got != tc.want {
			t.Errorf("batchable(%v) = %v, want %v", tc.cmd.Args(), got, tc.want)
		}
	}
}
