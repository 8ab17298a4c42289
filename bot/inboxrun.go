package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// spill holds inbound events, unacknowledged, while the Inbox is
// unreachable, and the apologies owed for them.
type spill struct {
	max   int
	mu    sync.Mutex
	q     []Inbound
	sorry map[ConversationID]bool // apologized during this outage
	owed  []Address               // apologies not sent yet
	kick  chan struct{}           // buffered 1
}

func newSpill(max int) *spill {
	return &spill{max: max, sorry: map[ConversationID]bool{}, kick: make(chan struct{}, 1)}
}

// add holds in; it reports false if the spill is full.
func (s *spill) add(in Inbound) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) >= s.max {
		return false
	}
	s.q = append(s.q, in)
	if id := in.Msg.From.ConversationID(); !s.sorry[id] {
		s.sorry[id] = true
		s.owed = append(s.owed, in.Msg.From)
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return true
}

func (s *spill) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q)
}

// SpillLen is how many inbound events wait in memory for the Inbox to come
// back (metrics, tests).
func (e *Engine) SpillLen() int { return e.spill.len() }

// InboxPending is an optional extension of Inbox: how many stored entries
// are not handled and acked yet.
type InboxPending interface {
	Pending(ctx context.Context) (int64, error)
}

// Pending is how many customer events were received and not handled yet
// (metrics: inbound_pending): waiting to be stored in the Inbox or held
// while it is unreachable, plus those in the Inbox if it can tell
// (InboxPending); without an Inbox, those queued in the conversations'
// mailboxes.
func (e *Engine) Pending(ctx context.Context) (int64, error) {
	n := int64(len(e.pq.slots) + e.spill.len())
	if e.inbox != nil {
		if p, ok := e.inbox.(InboxPending); ok {
			m, err := p.Pending(ctx)
			return n + m, err
		}
		return n, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.boxes {
		for _, j := range b.jobs {
			if j.fn == nil {
				n++
			}
		}
	}
	return n, nil
}

// putQueue holds inbound events between Deliver and the Inbox, so Deliver
// never waits for a round trip unless the queue is full. Up to putFlushers
// flushes store them, each taking all that queued while stores were in
// flight (InboxBatcher), except the events of conversations another flush
// holds: those wait for it, so a conversation's events are stored in
// order, one store at a time.
type putQueue struct {
	mu       sync.Mutex
	q        []Inbound
	flushing int                     // flushes running
	since    time.Time               // when the latest store started
	held     map[ConversationID]bool // conversations with a store in flight
	slots    chan struct{}           // one per queued event; Deliver blocks when full
}

// A second store starts when an event arrives while the latest has been in
// flight for putSlow and at most putFew events wait: with one store at a
// time, an event that arrived during a slow store waited for all of it
// before its own (1–2 % of the events of the paced Redis bench row waited
// over 1 ms). Sooner, or with a longer queue (a busy bot), it splits the
// batches and costs round trips: the closed-loop Redis rows lost 10–25 %
// of their throughput with a second store always allowed
// (docs/performance.md).
const (
	putFlushers = 2
	putSlow     = time.Millisecond
	putFew      = 4
)

// take removes the queued events whose conversations no flush holds, in
// order, and holds those conversations for the caller (ids), who releases
// them when the batch is stored.
func (q *putQueue) take() (batch []Inbound, ids []ConversationID) {
	if q.held == nil {
		q.held = map[ConversationID]bool{}
	}
	rest := q.q[:0]
	taken := map[ConversationID]bool{}
	for _, in := range q.q {
		id := in.Msg.From.ConversationID()
		if q.held[id] { // by another flush
			rest = append(rest, in)
			continue
		}
		if !taken[id] {
			taken[id] = true
			ids = append(ids, id)
		}
		batch = append(batch, in)
	}
	clear(q.q[len(rest):])
	q.q = rest
	for _, id := range ids {
		q.held[id] = true
	}
	return batch, ids
}

// put queues in for the Inbox; it is acked once stored. While the Inbox is
// unreachable (or events wait before it) in is held in the spill instead.
func (e *Engine) put(ctx context.Context, in Inbound) {
	if in.Msg.At.IsZero() {
		in.Msg.At = e.now()
	}
	q := &e.pq
	select {
	case q.slots <- struct{}{}:
	case <-ctx.Done(): // Listen is ending: left to the platform's redelivery
		if e.observe != nil {
			e.observe(in, Rejected, 0)
		}
		return
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		<-q.slots
		if e.observe != nil {
			e.observe(in, Rejected, 0)
		}
		return
	}
	q.mu.Lock()
	q.q = append(q.q, in)
	start := q.flushing == 0 || q.flushing < putFlushers && len(q.q) <= putFew && e.now().Sub(q.since) >= putSlow
	if start {
		q.flushing++
	}
	q.mu.Unlock()
	if start {
		e.pool.Go(e.flushPuts)
	}
	e.mu.Unlock()
}

// flushPuts stores the queued events, batch after batch, until none is
// left that another flush does not hold.
func (e *Engine) flushPuts() {
	q := &e.pq
	var ids []ConversationID
	for {
		q.mu.Lock()
		for _, id := range ids {
			delete(q.held, id)
		}
		var batch []Inbound
		batch, ids = q.take()
		if len(batch) == 0 {
			q.flushing--
			q.mu.Unlock()
			return
		}
		q.since = e.now()
		q.mu.Unlock()
		e.putBatch(batch)
		for range batch {
			<-q.slots
		}
	}
}

// putBatch stores batch in order and acks what was stored; the rest goes
// to the spill, in order, to be stored when the Inbox answers again.
func (e *Engine) putBatch(batch []Inbound) {
	stored := 0
	if e.spill.len() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), e.dur.PutTimeout)
		var dups []bool
		var err error
		if ib, ok := e.inbox.(InboxBatcher); ok {
			if dups, err = ib.PutAll(ctx, batch); err == nil {
				stored = len(batch)
			}
		} else {
			for _, in := range batch {
				var dup bool
				if dup, err = e.inbox.Put(ctx, in); err != nil {
					break
				}
				dups = append(dups, dup)
				stored++
			}
		}
		cancel()
		for i, in := range batch[:stored] {
			e.accepted(in, dups[i])
		}
		if err != nil {
			e.log.Warn("inbox unreachable; holding the events", "err", err, "events", len(batch)-stored)
		}
	}
	for _, in := range batch[stored:] {
		if !e.spill.add(in) {
			e.log.Error("inbox unreachable and spill full; leaving the event to the platform's redelivery",
				"conversation", string(in.Msg.From.ConversationID()))
			if e.observe != nil {
				e.observe(in, StoreError, 0)
			}
		}
	}
}

// accepted acks an event the Inbox stored (or recognised as a duplicate).
func (e *Engine) accepted(in Inbound, dup bool) {
	if in.Ack != nil {
		in.Ack()
	}
	if dup && e.observe != nil {
		e.observe(in, Duplicate, 0)
	}
}

// runSpill sends the apologies owed and moves held events into the Inbox,
// in order, as soon as it answers again, until ctx is done.
func (e *Engine) runSpill(ctx context.Context) {
	s := e.spill
	bo := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	for {
		s.mu.Lock()
		owed := s.owed
		s.owed = nil
		s.mu.Unlock()
		for _, to := range owed {
			sctx, cancel := context.WithTimeout(ctx, e.dur.PutTimeout)
			if err := e.Send(sctx, to, Reply{Kind: KindNotice, Text: e.cfg.Unavailable}); err != nil {
				e.log.Warn("send apology", "err", err, "conversation", string(to.ConversationID()))
			}
			cancel()
		}
		wait := time.Duration(0)
		for wait == 0 {
			s.mu.Lock()
			if len(s.q) == 0 {
				clear(s.sorry) // the outage is over
				s.mu.Unlock()
				break
			}
			in := s.q[0]
			s.mu.Unlock()
			pctx, cancel := context.WithTimeout(ctx, e.dur.PutTimeout)
			dup, err := e.inbox.Put(pctx, in)
			cancel()
			if err != nil {
				wait = bo.next()
				break
			}
			bo.reset()
			s.mu.Lock()
			s.q = s.q[1:]
			s.mu.Unlock()
			e.accepted(in, dup)
		}
		if wait == 0 {
			wait = time.Hour
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if n := s.len(); n > 0 {
				e.log.Warn("stopping with inbound events not stored; the platform redelivers them", "events", n)
			}
			return
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// errRetryLater asks the Inbox to redeliver an entry.
var errRetryLater = errors.New("bot: store unavailable; entry kept for a retry")

// consume handles one inbox entry; it fails (the entry is retried) only
// when the store could not be reached.
// The entry runs in its conversation's mailbox, so it is ordered with the
// desk's Do turns (agent replies, claims, announcements) of that conversation.
func (e *Engine) consume(ctx context.Context, d Delivery) error {
	j := &job{in: d.In, ctx: ctx, at: e.now(), seq: d.Seq, outcome: make(chan Outcome, 1), conv: d.Conv, loaded: d.Loaded}
	if !e.runHere(j) {
		return fmt.Errorf("%w: %s (shutting down)", errRetryLater, d.Seq)
	}
	select {
	case o := <-j.outcome:
		if o == StoreError {
			return fmt.Errorf("%w: %s", errRetryLater, d.Seq)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %s: %w", errRetryLater, d.Seq, ctx.Err())
	}
}
