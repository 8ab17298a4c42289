package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher pipelines the commands that goroutines issue at the same time
// (automatic pipelining): a command that finds fewer than depth round trips
// in flight is sent at once, alone, as without the batcher; one that arrives
// while depth round trips are in flight waits in a queue, and the queue goes
// out as one pipeline as soon as one of them returns. So a lone caller pays
// no added latency, and under load many commands share one write and one
// read (for us and for redis-server) instead of one each.
//
// It is a go-redis process hook on the store's own client. Pipelines are run
// with Pipeline().Exec, which goes through the pipeline hooks, not this one,
// so nothing recurses; on Cluster the pipeline is split by slot and node as
// any pipeline is. Only the plain keyed data commands of batchable are
// batched; blocking reads (XREADGROUP BLOCK), pub/sub, transactions and
// everything else go straight to the connection pool as before.
//
// A caveat it shares with every go-redis pipeline: when the first command
// of a pipeline (of a node's part of it, on Cluster) fails with an error
// go-redis retries (LOADING, READONLY, TRYAGAIN, CLUSTERDOWN, ...), the whole
// pipeline is sent again. On one server those errors hit every write of the
// pipeline alike; on Cluster a TRYAGAIN during a slot migration could run
// another caller's command of that pipeline twice (a commit script would
// then report a version conflict although it was written).
//
// go-redis v9.23 has an AutoPipeliner of its own (Client.AutoPipeline,
// marked experimental); it is not used because a command's context is not
// honoured once the command is queued (it is sent anyway), and because it
// would replace the store's client rather than sit in it as a hook.
//
// No goroutine is started: a pipeline is executed by the goroutine of one of
// the callers whose commands it carries (the first in the queue), which
// waits for its own result anyway; when it is done it hands the queue over to
// the next caller waiting in it.
type batcher struct {
	rdb   redis.UniversalClient
	depth int // round trips (lone commands and pipelines) in flight at most
	max   int // commands per pipeline at most

	mu     sync.Mutex
	queue  []*queued
	busy   int // round trips in flight
	closed bool
	idle   *sync.Cond // signalled when busy drops to 0 with an empty queue
}

// queued is a command waiting in the batcher's queue.
type queued struct {
	cmd redis.Cmder
	// wake gets one value: nil when the command has its result, or the batch
	// this waiter must execute (the queue it was taken with, itself first).
	wake chan []*queued
}

func newBatcher(rdb redis.UniversalClient, depth, max int) *batcher {
	b := &batcher{rdb: rdb, depth: depth, max: max}
	b.idle = sync.NewCond(&b.mu)
	return b
}

// hook is the redis.Hook that routes commands through b.
type hook struct{ b *batcher }

func (h hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !batchable(cmd) {
			return next(ctx, cmd)
		}
		return h.b.process(ctx, cmd, next)
	}
}

var _ redis.Hook = hook{}

// process runs cmd alone if a round trip is free, else queues it for the
// next pipeline. A queued command whose ctx ends before it is sent is taken
// out of the queue (never sent) and fails with ctx's error; once sent, it is
// waited for, as a command on a plain client is (bounded by ReadTimeout).
func (b *batcher) process(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.closed || (b.busy < b.depth && len(b.queue) == 0) {
		closed := b.closed
		if !closed {
			b.busy++
		}
		b.mu.Unlock()
		err := next(ctx, cmd) // after Close: the closed client's error
		if !closed {
			b.done()
		}
		return err
	}
	q := &queued{cmd: cmd, wake: make(chan []*queued, 1)}
	b.queue = append(b.queue, q)
	b.mu.Unlock()
	var batch []*queued
	select {
	case batch = <-q.wake:
	case <-ctx.Done():
		b.mu.Lock()
		for i, o := range b.queue {
			if o == q { // not taken yet: drop it
				b.queue = append(b.queue[:i], b.queue[i+1:]...)
				b.mu.Unlock()
				return ctx.Err()
			}
		}
		b.mu.Unlock()
		batch = <-q.wake // taken: its batch is ours to run, or its result is coming
	}
	if batch != nil {
		b.exec(batch)
		// The round trip is over: free it before the other waiters wake,
		// so that a command one of them sends next (a script's EVAL after
		// NOSCRIPT) finds it free, as it would without the batcher.
		b.done()
		for _, q := range batch[1:] {
			q.wake <- nil
		}
	}
	return cmd.Err()
}

// done ends a round trip: if commands are queued, the first of them is
// woken to send them all (up to max) as the next pipeline.
func (b *batcher) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.busy--
		if b.busy == 0 {
			b.idle.Broadcast()
		}
		return
	}
	n := min(len(b.queue), b.max)
	batch := make([]*queued, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	batch[0].wake <- batch // the round trip stays counted: it passes to batch[0]
}

// exec sends batch as one pipeline. Each command gets its own reply or
// error: a Redis error fails only its command, a connection error fails
// every command of the pipeline (after the client's retries).
func (b *batcher) exec(batch []*queued) {
	p := b.rdb.Pipeline()
	for _, q := range batch {
		p.Process(context.Background(), q.cmd)
	}
	// Not a caller's context: one caller giving up must not fail the others.
	// The client's ReadTimeout and WriteTimeout bound the pipeline.
	p.Exec(context.Background())
}

// close makes later commands bypass the batcher and waits until the round
// trips in flight and the queued commands are done.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	for b.busy > 0 || len(b.queue) > 0 {
		b.idle.Wait()
	}
	b.mu.Unlock()
}

// batchable reports whether cmd may share a pipeline with other callers'
// commands: a plain data command on keys (routed by its key's slot on
// Cluster), that neither blocks nor changes the connection's state.
func batchable(cmd redis.Cmder) bool {
	name := cmd.Name()
	if _, ok := batchableCmds[name]; !ok {
		return false
	}
	if name == "xreadgroup" || name == "xread" {
		args := cmd.Args()[1:]
		if name == "xreadgroup" { // GROUP group consumer: names, not options
			args = args[min(3, len(args)):]
		}
		for _, a := range args {
			s, _ := a.(string)
			switch s {
			case "block", "BLOCK":
				return false
			case "streams", "STREAMS":
				return true
			}
		}
	}
	return true
}

// batchableCmds are the commands batchable allows (the store's own, and the
// like).
var batchableCmds = map[string]struct{}{
	"get": {}, "set": {}, "del": {}, "exists": {}, "pexpireat": {}, "pexpire": {}, "expire": {},
	"incr": {}, "incrby": {},
	"hget": {}, "hset": {}, "hdel": {}, "hgetall": {}, "hmget": {},
	"sadd": {}, "srem": {}, "smembers": {}, "sismember": {},
	"lpush": {}, "rpush": {}, "lpop": {}, "rpop": {}, "lrange": {}, "lindex": {}, "llen": {}, "ltrim": {},
	"zadd": {}, "zrem": {}, "zscore": {}, "zrange": {}, "zrangebyscore": {}, "zremrangebyscore": {}, "zcard": {},
	"xadd": {}, "xack": {}, "xreadgroup": {}, "xread": {}, "xpending": {}, "xautoclaim": {}, "xrange": {}, "xlen": {},
	"evalsha": {}, "eval": {}, "evalsha_ro": {}, "eval_ro": {},
	"publish": {},
}
