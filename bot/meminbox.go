package bot

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryInbox is an in-process Inbox: nothing survives the process, so it
// suits tests and single-process setups only. Put dedupes by Inbound.Key
// through dd (nil: no dedupe).
type MemoryInbox struct {
	dd  Deduper
	ttl time.Duration

	mu     sync.Mutex
	seq    uint64
	queues map[ConversationID][]Delivery
	active map[ConversationID]bool
	wake   chan struct{} // buffered 1
}

var _ Inbox = (*MemoryInbox)(nil)

// NewMemoryInbox returns an empty inbox remembering keys in dd for ttl.
func NewMemoryInbox(dd Deduper, ttl time.Duration) *MemoryInbox {
	return &MemoryInbox{dd: dd, ttl: ttl, queues: map[ConversationID][]Delivery{},
		active: map[ConversationID]bool{}, wake: make(chan struct{}, 1)}
}

// Put implements Inbox.
func (b *MemoryInbox) Put(ctx context.Context, in Inbound) (bool, error) {
	if b.dd != nil && in.Key != "" {
		first, err := b.dd.FirstSeen(ctx, "in:"+in.Key, b.ttl)
		if err != nil {
			return false, err
		}
		if !first {
			return true, nil
		}
	}
	in.Ack = nil
	id := in.Msg.From.ConversationID()
	b.mu.Lock()
	b.seq++
	b.queues[id] = append(b.queues[id], Delivery{In: in, Seq: fmt.Sprintf("%d-0", b.seq)})
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return false, nil
}

// Len is the number of entries not yet handled successfully.
func (b *MemoryInbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, q := range b.queues {
		n += len(q)
	}
	return n
}

// Consume implements Inbox; call it once at a time.
func (b *MemoryInbox) Consume(ctx context.Context, handle func(context.Context, Delivery) error) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		b.mu.Lock()
		for id, q := range b.queues {
			if len(q) > 0 && !b.active[id] {
				b.active[id] = true
				wg.Go(func() { b.run(ctx, id, handle) })
			}
		}
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-b.wake:
		}
	}
}

// run handles the entries of id in order until its queue is empty or ctx
// is done; a failed entry is retried with backoff and stays first.
func (b *MemoryInbox) run(ctx context.Context, id ConversationID, handle func(context.Context, Delivery) error) {
	bo := backoff{min: 10 * time.Millisecond, max: time.Second}
	defer func() {
		b.mu.Lock()
		delete(b.active, id)
		if len(b.queues[id]) == 0 {
			delete(b.queues, id)
		}
		b.mu.Unlock()
		select { // let Consume look again: entries may have come meanwhile
		case b.wake <- struct{}{}:
		default:
		}
	}()
	for ctx.Err() == nil {
		b.mu.Lock()
		q := b.queues[id]
		if len(q) == 0 {
			b.mu.Unlock()
			return
		}
		d := q[0]
		b.mu.Unlock()
		if err := handle(context.WithoutCancel(ctx), d); err != nil {
			if !sleepCtx(ctx, bo.next()) {
				return
			}
			continue
		}
		bo.reset()
		b.mu.Lock()
		b.queues[id] = b.queues[id][1:]
		b.mu.Unlock()
	}
}

// backoff doubles a delay from min to max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleepCtx waits d or until ctx is done; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
