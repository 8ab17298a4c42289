package redisstore

import (
	"cmp"
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
// go out together, one script each in one pipeline: with the next inbox
// put on a single server (ahead of the events it stores), doneWait after
// the first was queued, or when a drain needs one done (FlushDone),
// whichever comes first.

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
	wait   time.Duration // doneWait; tests lengthen it
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
		q.timer = time.AfterFunc(cmp.Or(q.wait, doneWait), func() {
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
	items := s.takeDone()
	if len(items) == 0 {
		return
	}
	var cmds []*redis.Cmd
	if s.single {
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			cmds = s.pipeDone(ctx, p, items)
			return nil
		}) // each command's error is read from it
	}
	s.finishDone(ctx, items, cmds)
}

// takeDone takes the queued removals, for the caller to run (pipeDone and
// finishDone).
func (s *Store) takeDone() []doneItem {
	q := &s.dq
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	if q.timer != nil && q.timer.Stop() {
		q.timers.Done() // it will not run
	}
	q.timer = nil
	return items
}

// pipeDone adds the removal scripts of items to p (one server only).
func (s *Store) pipeDone(ctx context.Context, p redis.Pipeliner, items []doneItem) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(items))
	for i, it := range items {
		cmds[i] = outboxDoneAllScript.EvalSha(ctx, p, s.doneKeys(it.id, it.lease), it.key, string(it.id), it.owner)
	}
	return cmds
}

// finishDone reports each removal's result: from cmds, the pipeline that
// ran them, or, if cmds is nil or the script was not cached, by running it
// alone.
func (s *Store) finishDone(ctx context.Context, items []doneItem, cmds []*redis.Cmd) {
	for i, it := range items {
		if cmds == nil || redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") { // not run
			it.result(s.OutboxDoneUnlease(ctx, it.id, it.key, it.lease, it.owner))
			continue
		}
		it.result(s.doneReply(it.id, cmds[i]))
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
