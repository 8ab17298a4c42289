package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
)

// Queued outbox removals (bot.OutboxDoneBatcher). The engine queues the
// removal of the last reply of a turn it sent from memory; queued removals
// go out together, one script each in one pipeline, doneWait after the
// first was queued or when a drain needs one done (FlushDone).

// doneWait bounds how long a queued removal waits for company.
const doneWait = 2 * time.Millisecond

type doneItem struct {
	id                bot.ConversationID
	key, lease, owner string
	result            func(left, unleased bool, err error)
}

type doneQueue struct {
	mu     sync.Mutex
	items  []doneItem
	timer  *time.Timer    // armed while items wait; holds one count of timers
	timers sync.WaitGroup // armed or running timers (Close waits)
	closed bool
}

var _ bot.OutboxDoneBatcher = (*Store)(nil)

var errStoreClosed = errors.New("redisstore: store closed")

// OutboxDoneUnleaseQueue queues OutboxDoneUnlease(id, key, name, owner):
// result is called once it ran (or failed), from another goroutine.
func (s *Store) OutboxDoneUnleaseQueue(id bot.ConversationID, key, name, owner string, result func(left, unleased bool, err error)) {
	q := &s.dq
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		result(true, false, s.wrap(fmt.Sprintf("outbox done %q", id), redis.ErrClosed))
		return
	}
	q.items = append(q.items, doneItem{id, key, name, owner, result})
	if q.timer == nil {
		q.timers.Add(1)
		q.timer = time.AfterFunc(doneWait, func() {
			defer q.timers.Done()
			s.flushDone(context.Background())
		})
	}
	q.mu.Unlock()
}

// FlushDone runs the queued removals now and returns when they ran.
func (s *Store) FlushDone(ctx context.Context) { s.flushDone(ctx) }

// flushDone runs the queued removals in one pipeline. On Cluster, where
// the removal script spans slots, they run one by one.
func (s *Store) flushDone(ctx context.Context) {
	q := &s.dq
	q.mu.Lock()
	items := q.items
	q.items = nil
	if q.timer != nil && q.timer.Stop() {
		q.timers.Done() // it will not run
	}
	q.timer = nil
	q.mu.Unlock()
	if len(items) == 0 {
		return
	}
	single := s.single
	cmds := make([]*redis.Cmd, len(items))
	if single {
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, it := range items {
				cmds[i] = outboxDoneAllScript.EvalSha(ctx, p, s.doneKeys(it.id, it.lease), it.key, string(it.id), it.owner)
			}
			return nil
		}) // each command's error is read from it
	}
	for i, it := range items {
		if !single {
			it.result(s.OutboxDoneUnlease(ctx, it.id, it.key, it.lease, it.owner))
			continue
		}
		n, err := cmds[i].Int()
		if redis.HasErrorPrefix(err, "NOSCRIPT") { // not cached yet: nothing ran
			n, err = outboxDoneAllScript.Run(ctx, s.rdb, s.doneKeys(it.id, it.lease), it.key, string(it.id), it.owner).Int()
		}
		if err != nil {
			it.result(true, false, s.wrap(fmt.Sprintf("outbox done %q", it.id), err))
			continue
		}
		it.result(n != 0, n == 0, nil)
	}
}

// closeDone runs what is queued and waits for the flush timers; later
// calls fail at once.
func (s *Store) closeDone() {
	s.dq.mu.Lock()
	s.dq.closed = true
	s.dq.mu.Unlock()
	s.flushDone(context.Background())
	s.dq.timers.Wait()
}
