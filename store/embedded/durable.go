package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
)

// The outbox (bot.OutboxStore) is one bucket for all conversations, keyed
// by conversation then by a sequence: it holds only replies not yet sent,
// so it stays a page or two that a group commit writes once, where a
// bucket inside each conversation cost every removal the conversation's
// page and its header's. Purge takes a conversation's entries with it.
//
//	outbox/<len(id) uint16><id><seq><key> = JSON bot.Outgoing (key: its Key)
//
// A conversation's outbox mark (bot.OutboxMark) is in its head: the seq of
// the last reply queued, and when. It needs no key of its own, written by
// every turn and deleted by every last removal: the conversations with
// marks are those with replies in bOutbox.
var (
	bOutbox  = []byte("outbox")
	bOutMark = []byte("outmark") // outmark/<id> = <seq><at>: the marks before heads (migrateHeads)
	kOut     = []byte("out")     // conv/<id>/out/<seq>: the outbox before bOutbox (migrateLayout)
)

// idPrefix is the prefix of conversation id's keys in the buckets shared by
// all conversations (bOutbox, bChunks): its length, then its bytes, so no
// ID's prefix is another's.
func idPrefix(id []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(id))), id...)
}

// outKey is the key in bOutbox of id's entry seq, whose Key is key.
func outKey(id []byte, seq uint64, key string) []byte {
	return append(binary.BigEndian.AppendUint64(idPrefix(id), seq), key...)
}

// deleteOutbox deletes id's entries in bOutbox.
func deleteOutbox(tx *bolt.Tx, id []byte) error {
	p := idPrefix(id)
	c := tx.Bucket(bOutbox).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Seek(p) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// moveOutbox copies the replies of conversation id from the out bucket of
// its own bucket b, where files written before bOutbox keep them, into
// bOutbox (migrateLayout).
func moveOutbox(tx *bolt.Tx, id []byte, b *bolt.Bucket) error {
	ob := tx.Bucket(bOutbox)
	return b.Bucket(kOut).ForEach(func(_, v []byte) error {
		var o bot.Outgoing
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		seq, err := ob.NextSequence()
		if err != nil {
			return err
		}
		return ob.Put(outKey(id, seq, o.Key), bytes.Clone(v))
	})
}

var _ bot.TurnCommitter = (*Store)(nil)

// Commit saves c, appends msgs and queues out in one transaction.
func (s *Store) Commit(ctx context.Context, c *bot.Conversation, msgs []bot.Message, out []bot.Outgoing) error {
	return s.CommitTurn(ctx, &bot.TurnCommit{Conv: c, Msgs: msgs, Out: out})
}

// Seen reports whether key was recorded (FirstSeen, CommitTurn) and has
// not expired. What bbolt holds of key is kept as its shadow, for the
// commit that records it next.
func (s *Store) Seen(ctx context.Context, key string) (bool, error) {
	s.gate.RLock()
	defer s.gate.RUnlock()
	_, k, err := s.shadowsLocked("", key)
	if err != nil {
		return false, err
	}
	s.wmu.Unlock()
	return k.exp > s.now().UnixNano(), nil
}

// CommitTurn saves t.Conv, appends t.Msgs, queues t.Out, records t.Dedupe
// and t.Events as one logged write (one sync of the log, shared with
// concurrent writers).
func (s *Store) CommitTurn(ctx context.Context, t *bot.TurnCommit) error {
	c, msgs, out := t.Conv, t.Msgs, t.Out
	next := *c
	next.Version++
	rec, err := jsonenc.Marshal(&next)
	if err != nil {
		return fmt.Errorf("embedded: commit %q: %w", c.ID, err)
	}
	o := &op{kind: opTurn, id: string(c.ID), key: t.Dedupe, ver: uint64(c.Version), customer: c.Customer.ID, rec: rec,
		msgs: make([][]byte, len(msgs)), outs: make([][]byte, len(out)), outKeys: make([]string, len(out)),
		evs: make([][]byte, len(t.Events)), evAt: make([]int64, len(t.Events))}
	if !c.Created.IsZero() {
		o.created = c.Created.UnixNano()
	}
	for i := range msgs {
		if o.msgs[i], err = jsonenc.Marshal(&msgs[i]); err != nil {
			return fmt.Errorf("embedded: commit %q: %w", c.ID, err)
		}
	}
	for i := range out {
		if o.outs[i], err = jsonenc.Marshal(&out[i]); err != nil {
			return fmt.Errorf("embedded: commit %q: %w", c.ID, err)
		}
		o.outKeys[i] = out[i].Key
	}
	for i := range t.Events {
		e := t.Events[i]
		if e.At.IsZero() {
			e.At = s.now().UTC()
		}
		o.evAt[i] = e.At.UnixNano()
		if o.evs[i], err = jsonenc.Marshal(&e); err != nil {
			return fmt.Errorf("embedded: commit %q: event: %w", c.ID, err)
		}
	}
	ttl := t.DedupeTTL
	if ttl <= 0 {
		ttl = s.dedupe
	}
	o.ttl = int64(ttl)
	head := false
	g, err := s.logged(o.id, o.key, func(sh *shadow, k *seenKey, now int64) (*op, error) {
		if o.key != "" && k.exp > now {
			return nil, fmt.Errorf("embedded: commit %q: %q: %w", c.ID, o.key, bot.ErrDuplicate)
		}
		// As conv: an expired conversation is purged, outbox and all, and
		// the turn starts it again.
		cur, queued := sh.ver, sh.outbox
		if sh.ok && sh.exp <= now {
			cur, queued = 0, nil
		}
		if cur != o.ver {
			return nil, fmt.Errorf("conversation %q: version %d, stored %d: %w", c.ID, c.Version, cur, bot.ErrConflict)
		}
		head = len(out) > 0 && len(queued) == 0
		sh.ok, sh.ver, sh.exp, sh.rec = true, o.ver+1, now+int64(s.retention), rec
		sh.outbox = append(queued[:len(queued):len(queued)], o.outKeys...)
		if o.key != "" {
			k.exp = now + o.ttl
		}
		return o, nil
	}, nil)
	if err == nil {
		err = g.wait()
	}
	if err != nil {
		return s.wrap("commit", err)
	}
	t.Head = head
	c.Version = next.Version
	s.recs.Put(c.ID, rec, next.Clone())
	return nil
}

// applyTurn is a logged CommitTurn, replayed into bbolt (checkpoint); the
// conversation's head is written at the end of the fold (hs).
func (s *Store) applyTurn(tx *bolt.Tx, hs heads, o *op) error {
	now := time.Unix(0, o.now)
	var old []byte
	if o.key != "" {
		old = tx.Bucket(bDedupe).Get([]byte(o.key))
		if old != nil && decTime(old) > o.now {
			// Checked before any write, so a refusal writes nothing.
			return refuse(fmt.Errorf("%q: %w", o.key, bot.ErrDuplicate))
		}
	}
	created := now
	if o.created != 0 {
		created = time.Unix(0, o.created)
	}
	b, err := hs.conv(s, tx, o.id, now)
	if err != nil {
		return err
	}
	if err := setRec(tx, b, bot.ConversationID(o.id), int64(o.ver), o.customer, created, int64(o.ver)+1, o.rec); err != nil {
		return err
	}
	if o.key != "" {
		idx := growing(tx, bDexp)
		if old != nil {
			if err := idx.Delete(cat(old, []byte(o.key))); err != nil {
				return err
			}
		}
		exp := encTime(now.Add(time.Duration(o.ttl)))
		if err := tx.Bucket(bDedupe).Put([]byte(o.key), exp); err != nil {
			return err
		}
		if err := idx.Put(cat(exp, []byte(o.key)), nil); err != nil {
			return err
		}
	}
	if len(o.evs) > 0 {
		eb := growing(tx, bEvents)
		for i, v := range o.evs {
			seq, err := eb.NextSequence()
			if err != nil {
				return err
			}
			if err := eb.Put(binary.BigEndian.AppendUint64(encTime(time.Unix(0, o.evAt[i])), seq), v); err != nil {
				return err
			}
		}
	}
	if err := appendTo(tx, []byte(o.id), b, o.msgs); err != nil {
		return err
	}
	if len(o.outs) > o.gone {
		ob := tx.Bucket(bOutbox)
		for i, v := range o.outs[o.gone:] {
			i += o.gone
			seq, err := ob.NextSequence()
			if err != nil {
				return err
			}
			if err := ob.Put(outKey([]byte(o.id), seq, o.outKeys[i]), v); err != nil {
				return err
			}
			b.h.mark = seq
		}
		b.h.marked = encTime(now)
	}
	return s.expireAt(tx, b, bot.ConversationID(o.id), now)
}

// Outbox returns up to n entries from the head of id's outbox.
func (s *Store) Outbox(ctx context.Context, id bot.ConversationID, n int) ([]bot.Outgoing, error) {
	out := []bot.Outgoing{}
	err := s.settled("outbox", func(tx *bolt.Tx) error {
		b, _ := s.conv(tx, id, false)
		if b == nil {
			return nil
		}
		p := b.p
		c := tx.Bucket(bOutbox).Cursor()
		for k, v := c.Seek(p); bytes.HasPrefix(k, p) && (n <= 0 || len(out) < n); k, v = c.Next() {
			var o bot.Outgoing
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// OutboxDone removes the head of id's outbox if its key is key, and the
// conversation's mark once the outbox is empty.
func (s *Store) OutboxDone(ctx context.Context, id bot.ConversationID, key string) error {
	_, err := s.OutboxDoneLeft(ctx, id, key)
	return err
}

// OutboxDoneLeft is OutboxDone; left reports whether the outbox still has
// entries.
func (s *Store) OutboxDoneLeft(ctx context.Context, id bot.ConversationID, key string) (left bool, err error) {
	g, err := s.logged(string(id), "", s.decideDone(id, key, &left), nil)
	if err == nil {
		err = g.wait()
	}
	return left, s.wrap("outbox done", err)
}

var _ bot.OutboxDoneQueuer = (*Store)(nil)

// OutboxDoneQueue is OutboxDoneLeft without the wait (bot.OutboxDoneQueuer):
// the removal is logged before this call returns, so before every write
// issued after it, and result is called once the log is synced.
func (s *Store) OutboxDoneQueue(id bot.ConversationID, key string, result func(left bool, err error)) {
	left := false
	_, err := s.logged(string(id), "", s.decideDone(id, key, &left), func(err error) { result(left, s.wrap("outbox done", err)) })
	if err != nil {
		result(false, s.wrap("outbox done", err))
	}
}

// decideDone decides a removal as outboxDone does it, against the shadow.
func (s *Store) decideDone(id bot.ConversationID, key string, left *bool) func(*shadow, *seenKey, int64) (*op, error) {
	return func(sh *shadow, _ *seenKey, _ int64) (*op, error) {
		switch {
		case len(sh.outbox) == 0:
			*left = false
			return nil, nil
		case sh.outbox[0] != key:
			*left = true
			return nil, nil
		}
		sh.outbox = sh.outbox[1:]
		*left = len(sh.outbox) > 0
		return &op{kind: opDone, id: string(id), key: key}, nil
	}
}

// outboxDone removes the head of id's outbox if its key is key; left
// reports entries left.
func (s *Store) outboxDone(tx *bolt.Tx, id bot.ConversationID, key string) (left bool, err error) {
	p := idPrefix([]byte(id))
	c := tx.Bucket(bOutbox).Cursor()
	k, _ := c.Seek(p)
	if !bytes.HasPrefix(k, p) {
		return false, nil
	}
	if string(k[len(p)+8:]) != key {
		return true, nil
	}
	if err := c.Delete(); err != nil {
		return false, err
	}
	k, _ = c.Seek(p)
	return bytes.HasPrefix(k, p), nil
}

// outboxConvs calls fn with the ID of every conversation with queued
// replies (bOutbox holds nothing else), and its keys.
func outboxConvs(tx *bolt.Tx, fn func(id []byte, b *cv) error) error {
	var last []byte
	c := tx.Bucket(bOutbox).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		id, _, err := splitKey(k)
		if err != nil {
			return err
		}
		if bytes.Equal(id, last) {
			continue
		}
		last = bytes.Clone(id)
		if err := fn(last, keysOf(tx, last)); err != nil {
			return err
		}
	}
	return nil
}

// OutboxDepth is the number of conversations whose outbox holds replies
// (metrics).
func (s *Store) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	err := s.settled("outbox depth", func(tx *bolt.Tx) error {
		return outboxConvs(tx, func([]byte, *cv) error { n++; return nil })
	})
	return n, err
}

// OutboxPending lists up to n marks made before before, oldest first: those
// of the conversations with queued replies whose last commit with replies
// was before before. Replies queued by a build that kept marks apart have
// no mark: their Seq is 0, and they count as marked long ago.
func (s *Store) OutboxPending(ctx context.Context, before time.Time, n int) ([]bot.OutboxMark, error) {
	var out []bot.OutboxMark
	cut := before.UnixNano()
	err := s.settled("outbox pending", func(tx *bolt.Tx) error {
		return outboxConvs(tx, func(id []byte, b *cv) error {
			if err := b.load(); err != nil {
				return err
			}
			if b.h.mark == 0 || decTime(b.h.marked) < cut {
				out = append(out, bot.OutboxMark{Conv: bot.ConversationID(id), Seq: int64(b.h.mark)})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b bot.OutboxMark) int { return cmp.Compare(a.Seq, b.Seq) })
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// OutboxForget does nothing: a conversation is marked while its outbox
// holds replies, so the mark went with the last reply.
func (s *Store) OutboxForget(ctx context.Context, m bot.OutboxMark) error { return nil }
