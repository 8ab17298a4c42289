package slack

import (
	"context"
	"log/slog"
	"sync"

	"github.com/supportbot/supportbot/bot"
)

// runner runs the work of one Listen: jobs with the same key (a thread, a
// conversation) run one at a time in order, different keys in parallel, so
// one slow desk call never holds up the socket reader. stop waits for every
// job goroutine.
type runner struct {
	ctx     context.Context
	deliver func(context.Context, bot.Inbound)
	log     *slog.Logger

	mu     sync.Mutex
	queues map[string][]func(context.Context)
	closed bool
	wg     sync.WaitGroup
}

func newRunner(ctx context.Context, deliver func(context.Context, bot.Inbound), log *slog.Logger) *runner {
	return &runner{ctx: ctx, deliver: deliver, log: log, queues: map[string][]func(context.Context){}}
}

// do queues fn under key; it reports false once the runner has stopped.
func (r *runner) do(key string, fn func(context.Context)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if q, busy := r.queues[key]; busy {
		r.queues[key] = append(q, fn)
		return true
	}
	r.queues[key] = []func(context.Context){fn}
	r.wg.Go(func() { r.drain(key) })
	return true
}

func (r *runner) drain(key string) {
	for {
		r.mu.Lock()
		q := r.queues[key]
		if len(q) == 0 {
			delete(r.queues, key)
			r.mu.Unlock()
			return
		}
		fn := q[0]
		q[0] = nil
		r.queues[key] = q[1:]
		r.mu.Unlock()
		if r.ctx.Err() == nil {
			r.safe(fn)
		}
	}
}

func (r *runner) safe(fn func(context.Context)) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("slack event handler panicked", "panic", p)
		}
	}()
	fn(r.ctx)
}

func (r *runner) stop() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
}
