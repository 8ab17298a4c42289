package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Durable configures the engine's durable work (WithDurable). Zero values
// take the defaults.
type Durable struct {
	// Inbox, if set, stores every inbound event before it is acknowledged
	// and feeds the turns (several replicas). Nil: in-process mailboxes.
	Inbox Inbox
	// Lease, if set, locks a conversation's outbox across replicas while one
	// of them sends from it, under the name "outbox:<id>" owned by Replica.
	Lease   Leaser
	Replica string
	// LockTTL bounds how long a crashed sender keeps an outbox locked; default 30s.
	LockTTL time.Duration
	// SweepEvery is how often outboxes left behind (a crash between commit
	// and send, a retry due on another replica) are looked for; default 5s.
	// SweepAge is how old their mark must be; default 2*LockTTL.
	SweepEvery, SweepAge time.Duration
	// RetryMin and RetryMax bound the backoff of a reply the platform
	// refused with a retryable error (429, 5xx); defaults 250ms and 30s.
	RetryMin, RetryMax time.Duration
	// GiveUp drops a reply still failing this long after its commit
	// (logged at error level); default 24h.
	GiveUp time.Duration
	// SendTimeout bounds one Channel.Send; default 30s.
	SendTimeout time.Duration
	// Spill is how many inbound events are held in memory, unacknowledged,
	// while the Inbox is unreachable; default 10000. Beyond it events are
	// left to the platform's redelivery.
	Spill int
	// PutTimeout bounds one Inbox.Put; default 3s.
	PutTimeout time.Duration
	// PutQueue is how many inbound events may wait to be stored in the
	// Inbox before Deliver blocks; default 4096.
	PutQueue int
}

func (d *Durable) setDefaults() {
	if d.LockTTL <= 0 {
		d.LockTTL = 30 * time.Second
	}
	if d.SweepEvery <= 0 {
		d.SweepEvery = 5 * time.Second
	}
	if d.SweepAge <= 0 {
		d.SweepAge = 2 * d.LockTTL
	}
	if d.RetryMin <= 0 {
		d.RetryMin = 250 * time.Millisecond
	}
	if d.RetryMax <= 0 {
		d.RetryMax = 30 * time.Second
	}
	if d.GiveUp <= 0 {
		d.GiveUp = 24 * time.Hour
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = 30 * time.Second
	}
	if d.Spill <= 0 {
		d.Spill = 10000
	}
	if d.PutTimeout <= 0 {
		d.PutTimeout = 3 * time.Second
	}
	if d.PutQueue <= 0 {
		d.PutQueue = 4096
	}
}

// WithDurable turns on durable work: an Inbox for inbound events and the
// outbox lock across replicas. The outbox itself is used whenever the Store
// implements OutboxStore.
func WithDurable(d Durable) Option {
	return func(e *Engine) {
		d.setDefaults()
		e.dur = d
		e.inbox = d.Inbox
	}
}

// sendKey is the context key of the outbox entry's idempotency key.
type sendKey struct{}

// SendKey returns the idempotency key of the reply being sent by the
// outbox: the same for every attempt at one reply, so a Channel whose
// platform can dedupe (a message nonce) passes it on, and a resend after a
// crash between the send and its bookkeeping is dropped by the platform.
func SendKey(ctx context.Context) string {
	k, _ := ctx.Value(sendKey{}).(string)
	return k
}

// outbox is the engine's sending side of the OutboxStore: one drain per
// conversation at a time in this process, retries with backoff, a sweeper.
type outbox struct {
	mu      sync.Mutex
	busy    map[ConversationID]bool      // a drain runs
	again   map[ConversationID]bool      // a commit came during the drain
	retries map[ConversationID]time.Time // due retries
	tries   map[ConversationID]*backoff
	gates   map[string]*gate // per channel: closed after a retryable failure
	// pending: a removal queued by OutboxDoneQueue is not durable yet; the
	// channel is closed when it is. Drains of the conversation wait for it
	// before they read the outbox.
	pending map[ConversationID]chan struct{}
	kick    chan struct{} // buffered 1: the retry loop looks again
	sending sync.WaitGroup
}

func newOutbox() *outbox {
	return &outbox{busy: map[ConversationID]bool{}, again: map[ConversationID]bool{},
		retries: map[ConversationID]time.Time{}, tries: map[ConversationID]*backoff{},
		gates: map[string]*gate{}, pending: map[ConversationID]chan struct{}{}, kick: make(chan struct{}, 1)}
}

// gate holds back every send to one channel after a retryable failure (the
// platform is down or rate-limits the bot): until then only one send at a
// time probes it, so an outage costs one request per backoff step, not one
// per conversation.
type gate struct {
	until   time.Time
	probing bool
	bo      backoff
}

// gateWait returns how long a send to channel must wait, 0 to go now (then
// the caller may be the probe and must report with gateDone).
func (e *Engine) gateWait(channel string) time.Duration {
	o := e.ob
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.gates[channel]
	now := time.Now()
	switch {
	case g == nil:
		return 0
	case now.Before(g.until):
		return g.until.Sub(now) + time.Duration(len(o.retries)%16)*time.Millisecond
	case g.probing:
		return e.dur.RetryMin
	}
	g.probing = true
	return 0
}

// gateDone records the result of a send to channel: a retryable failure
// closes the gate for the platform's hint or the next backoff step, a
// success opens it and makes every waiting retry due.
func (e *Engine) gateDone(channel string, err error) time.Duration {
	o := e.ob
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.gates[channel]
	if err != nil && IsRetryable(err) {
		if g == nil {
			g = &gate{bo: backoff{min: e.dur.RetryMin, max: e.dur.RetryMax}}
			o.gates[channel] = g
		}
		d := g.bo.next()
		if h := retryHint(err); h > 0 {
			d = min(max(h, e.dur.RetryMin), 10*e.dur.RetryMax)
		}
		g.until, g.probing = time.Now().Add(d), false
		return d
	}
	if g != nil {
		delete(o.gates, channel)
		now := time.Now()
		for id := range o.retries {
			o.retries[id] = now
		}
		select {
		case o.kick <- struct{}{}:
		default:
		}
	}
	return 0
}

// SendResult is what became of one send from the outbox (OutboxObserver).
type SendResult string

const (
	SendDelivered SendResult = "sent"
	SendRetry     SendResult = "retry"   // kept; tried again later
	SendDropped   SendResult = "dropped" // given up: not retryable, or past Durable.GiveUp
)

// OutboxObserver is told about every send from the outbox (metrics): its
// channel, its result and, unless delivered, the send's error.
type OutboxObserver func(channel string, r SendResult, err error)

// WithOutboxObserver registers fn to be called after every send from the outbox.
func WithOutboxObserver(fn OutboxObserver) Option { return func(e *Engine) { e.sendObs = fn } }

// OutboxStats says how much the outbox holds back in this process.
type OutboxStats struct {
	Retrying int // conversations waiting for a retry
}

// OutboxStats reports the outbox's state (metrics, tests).
func (e *Engine) OutboxStats() OutboxStats {
	e.ob.mu.Lock()
	defer e.ob.mu.Unlock()
	return OutboxStats{Retrying: len(e.ob.retries)}
}

// drainAfterCommit sends id's outbox right after a turn committed to it,
// unless a drain of it already runs (it will look again) or a retry is due
// later (backoff is kept). log is the turn's.
func (e *Engine) drainAfterCommit(ctx context.Context, id ConversationID, log *slog.Logger) {
	o := e.ob
	o.mu.Lock()
	if o.busy[id] {
		o.again[id] = true
		o.mu.Unlock()
		return
	}
	if _, waiting := o.retries[id]; waiting {
		o.mu.Unlock()
		return
	}
	o.busy[id] = true
	o.mu.Unlock()
	e.drainBusy(ctx, id, log, nil, nil, false)
}

// reserveDrain marks id's outbox as being drained by the caller, who must
// then call drainBusy or releaseDrain. It reports false if a drain already
// runs (it is told to look again) or a retry is due later.
func (e *Engine) reserveDrain(id ConversationID) bool {
	o := e.ob
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.busy[id] {
		o.again[id] = true
		return false
	}
	if _, waiting := o.retries[id]; waiting {
		return false
	}
	o.busy[id] = true
	return true
}

// releaseDrain gives up a reservation of reserveDrain without sending,
// unless a commit asked for a drain meanwhile.
func (e *Engine) releaseDrain(ctx context.Context, id ConversationID, log *slog.Logger) {
	o := e.ob
	o.mu.Lock()
	if o.again[id] {
		o.mu.Unlock()
		e.drainBusy(ctx, id, log, nil, nil, false)
		return
	}
	delete(o.busy, id)
	o.mu.Unlock()
}

// drainBusy sends the entries of id's outbox in order until it is empty or
// a send fails retryably (a retry is then scheduled). The caller has set
// busy[id]. If m is set and the outbox is found empty, the mark is forgotten.
// first, if not nil, is known to be the head of the outbox (the replies the
// caller just committed): it is sent without reading the outbox first.
// leased: the caller holds the outbox lock already (taken by its commit).
// log is convLogger's for id: a turn passes its own.
func (e *Engine) drainBusy(ctx context.Context, id ConversationID, log *slog.Logger, m *OutboxMark, first []Outgoing, leased bool) {
	o := e.ob
	retryIn := time.Duration(-1)
	defer func() {
		o.mu.Lock()
		delete(o.busy, id)
		delete(o.again, id)
		if retryIn >= 0 {
			o.retries[id] = time.Now().Add(retryIn)
		} else {
			delete(o.tries, id)
		}
		o.mu.Unlock()
		if retryIn >= 0 {
			select {
			case o.kick <- struct{}{}:
			default:
			}
		}
	}()
	ctx = context.WithoutCancel(ctx)
	e.waitDone(ctx, id)
	var locked time.Time
	held := false   // this drain holds the outbox lock
	var lock string // the outbox lock's name, with a Lease
	ol, _ := e.dur.Lease.(OutboxLeaser)
	if e.dur.Lease != nil {
		lock = "outbox:" + string(id)
		ok, err := leased, error(nil)
		switch {
		case leased:
		case ol != nil && first == nil:
			// The lock and the first read in one step.
			var head []Outgoing
			ok, head, err = ol.LeaseOutbox(ctx, lock, e.dur.Replica, e.dur.LockTTL, id, 16)
			if ok && err == nil {
				first = head
			}
		default:
			ok, err = e.dur.Lease.Lease(ctx, lock, e.dur.Replica, e.dur.LockTTL)
		}
		if err != nil || !ok {
			if err != nil {
				log.Warn("outbox lock", "err", err)
				retryIn = e.dur.RetryMin
			}
			return // another replica sends it; the sweeper looks again later
		}
		locked, held = time.Now(), true
		defer func() {
			if !held {
				return
			}
			if err := e.dur.Lease.Unlease(ctx, lock, e.dur.Replica); err != nil {
				log.Debug("outbox unlock", "err", err)
			}
		}()
	}
	empty := false // the last OutboxDoneLeft emptied the outbox
	// Without the lock across replicas, the removal of the last reply of a
	// turn sent from memory is queued (OutboxDoneQueuer): those replies
	// were the whole outbox, and the next write of this conversation is
	// ordered after the removal.
	dq, _ := e.tc.(OutboxDoneQueuer)
	if e.dur.Lease != nil {
		dq = nil
	}
	// With the lock, a store that batches removals (OutboxDoneBatcher)
	// queues that removal with the lock's release.
	ub, _ := e.dur.Lease.(OutboxDoneBatcher)
	if ol == nil {
		ub = nil
	}
	for {
		xs, err, mem := first, error(nil), false
		switch {
		case empty:
			xs, empty = nil, false
		case first != nil:
			first, mem = nil, true
		default:
			e.waitDone(ctx, id)
			xs, err = e.obs.Outbox(ctx, id, 16)
		}
		if err != nil {
			log.Warn("outbox read", "err", err)
			retryIn = e.backoff(id, 0)
			return
		}
		if len(xs) == 0 {
			o.mu.Lock()
			again := o.again[id]
			delete(o.again, id)
			o.mu.Unlock()
			if again {
				if e.dur.Lease != nil && !held {
					// The last OutboxDoneUnlease gave the lock back.
					ok, err := e.dur.Lease.Lease(ctx, lock, e.dur.Replica, e.dur.LockTTL)
					if err != nil || !ok {
						if err != nil {
							log.Warn("outbox lock", "err", err)
							retryIn = e.dur.RetryMin
						}
						return
					}
					locked, held = time.Now(), true
				}
				continue
			}
			if m != nil {
				if err := e.obs.OutboxForget(ctx, *m); err != nil {
					log.Debug("outbox forget", "err", err)
				}
			}
			return
		}
		for i, x := range xs {
			if e.dur.Lease != nil && time.Since(locked) > e.dur.LockTTL/3 {
				ok, err := e.dur.Lease.Lease(ctx, "outbox:"+string(id), e.dur.Replica, e.dur.LockTTL)
				if err != nil || !ok {
					retryIn = e.dur.RetryMin
					return
				}
				locked = time.Now()
			}
			if wait := e.gateWait(x.To.Channel); wait > 0 {
				retryIn = wait
				return
			}
			sctx, cancel := context.WithTimeout(context.WithValue(ctx, sendKey{}, x.Key), e.dur.SendTimeout)
			err := e.Send(sctx, x.To, x.Reply)
			cancel()
			closed := e.gateDone(x.To.Channel, err)
			if err != nil && IsRetryable(err) && e.now().Sub(x.At) < e.dur.GiveUp {
				retryIn = closed
				log.Warn("send reply; will retry", "err", err, "channel", x.To.Channel, "in", retryIn)
				e.observeSend(x.To.Channel, SendRetry, err)
				return
			}
			if err != nil {
				log.Error("send reply; dropped", "err", err, "channel", x.To.Channel, "key", x.Key)
				e.observeSend(x.To.Channel, SendDropped, err)
			} else {
				e.observeSend(x.To.Channel, SendDelivered, nil)
			}
			o.mu.Lock()
			delete(o.tries, id)
			o.mu.Unlock()
			if dq != nil && mem && i == len(xs)-1 {
				e.queueDone(id, log, func(res func(bool, error)) { dq.OutboxDoneQueue(id, x.Key, res) })
				empty = true
				break
			}
			if ub != nil && held && mem && i == len(xs)-1 {
				e.queueDone(id, log, func(res func(bool, error)) {
					ub.OutboxDoneUnleaseQueue(id, x.Key, lock, e.dur.Replica, func(left, _ bool, err error) { res(left, err) })
				})
				held = false // the removal gives the lock back if it empties the outbox
				empty = true
				break
			}
			left := true
			if ol != nil && held {
				var unleased bool
				left, unleased, err = ol.OutboxDoneUnlease(ctx, id, x.Key, lock, e.dur.Replica)
				if unleased {
					held = false
				}
			} else if e.tc != nil {
				left, err = e.tc.OutboxDoneLeft(ctx, id, x.Key)
			} else {
				err = e.obs.OutboxDone(ctx, id, x.Key)
			}
			if err != nil {
				log.Warn("outbox done", "err", err)
				retryIn = e.backoff(id, 0)
				return
			}
			if empty = !left; empty {
				break // the rest of xs was removed by someone else
			}
		}
	}
}

func (e *Engine) observeSend(channel string, r SendResult, err error) {
	if e.sendObs != nil {
		e.sendObs(channel, r, err)
	}
}

// queueDone queues the removal of an entry of id's outbox with submit, and
// marks it pending until it is durable. If it fails, the outbox is retried
// (and the entry sent again), as after a failed OutboxDone.
func (e *Engine) queueDone(id ConversationID, log *slog.Logger, submit func(result func(left bool, err error))) {
	o := e.ob
	ch := make(chan struct{})
	o.mu.Lock()
	o.pending[id] = ch
	o.mu.Unlock()
	submit(func(_ bool, err error) {
		o.mu.Lock()
		if o.pending[id] == ch {
			delete(o.pending, id)
		}
		if err != nil {
			b := o.tries[id]
			if b == nil {
				b = &backoff{min: e.dur.RetryMin, max: e.dur.RetryMax}
				o.tries[id] = b
			}
			o.retries[id] = time.Now().Add(b.next())
		}
		o.mu.Unlock()
		close(ch)
		if err != nil {
			log.Warn("outbox done", "err", err)
			select {
			case o.kick <- struct{}{}:
			default:
			}
		}
	})
}

// waitDone waits until no removal queued by queueDone for id is pending.
func (e *Engine) waitDone(ctx context.Context, id ConversationID) {
	e.ob.mu.Lock()
	ch := e.ob.pending[id]
	e.ob.mu.Unlock()
	if ch == nil {
		return
	}
	if ub, ok := e.dur.Lease.(OutboxDoneBatcher); ok {
		ub.FlushDone(ctx)
	}
	<-ch
}

// backoff returns the next retry delay of id: the platform's hint if any,
// else doubling from RetryMin to RetryMax.
func (e *Engine) backoff(id ConversationID, hint time.Duration) time.Duration {
	o := e.ob
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.tries[id]
	if b == nil {
		b = &backoff{min: e.dur.RetryMin, max: e.dur.RetryMax}
		o.tries[id] = b
	}
	d := b.next()
	if hint > 0 {
		d = min(max(hint, e.dur.RetryMin), 10*e.dur.RetryMax)
	}
	return d
}

// runOutbox runs due retries and the sweeper until ctx is done, then waits
// for the drains it started.
func (e *Engine) runOutbox(ctx context.Context) {
	o := e.ob
	defer o.sending.Wait()
	sweep := time.NewTicker(e.dur.SweepEvery)
	defer sweep.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		next := now.Add(time.Hour)
		o.mu.Lock()
		for id, at := range o.retries {
			if at.After(now) {
				next = minTime(next, at)
				continue
			}
			if o.busy[id] {
				continue
			}
			delete(o.retries, id)
			o.busy[id] = true
			o.sending.Go(func() { e.drainBusy(ctx, id, convLogger(e.log, id), nil, nil, false) })
		}
		o.mu.Unlock()
		timer.Reset(next.Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-timer.C:
		case <-sweep.C:
			e.sweepOutboxes(ctx)
		}
	}
}

// sweepOutboxes drains the outboxes whose mark is older than SweepAge.
func (e *Engine) sweepOutboxes(ctx context.Context) {
	marks, err := e.obs.OutboxPending(ctx, e.now().Add(-e.dur.SweepAge), 100)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("outbox sweep", "err", err)
		}
		return
	}
	o := e.ob
	for _, m := range marks {
		o.mu.Lock()
		_, waiting := o.retries[m.Conv]
		if o.busy[m.Conv] || waiting {
			o.mu.Unlock()
			continue
		}
		o.busy[m.Conv] = true
		o.mu.Unlock()
		o.sending.Go(func() { e.drainBusy(ctx, m.Conv, convLogger(e.log, m.Conv), &m, nil, false) })
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
