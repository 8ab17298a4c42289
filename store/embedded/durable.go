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
)

// The outbox (bot.OutboxStore) lives inside the conversation's bucket, so
// retention and purge take it with the conversation:
//
//	conv/<id>/out/<seq> = JSON bot.Outgoing
//	outmark/<id> = <mark seq><committed at>   conversations with queued replies
var (
	bOutMark = []byte("outmark")
	kOut     = []byte("out")
)

var _ bot.OutboxStore = (*Store)(nil)

// Commit saves c, appends msgs and queues out in one transaction.
func (s *Store) Commit(ctx context.Context, c *bot.Conversation, msgs []bot.Message, out []bot.Outgoing) error {
	next := *c
	next.Version++
	rec, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("embedded: commit %q: %w", c.ID, err)
	}
	vals := make([][]byte, len(msgs))
	for i := range msgs {
		if vals[i], err = json.Marshal(&msgs[i]); err != nil {
			return fmt.Errorf("embedded: commit %q: %w", c.ID, err)
		}
	}
	outs := make([][]byte, len(out))
	for i := range out {
		if outs[i], err = json.Marshal(&out[i]); err != nil {
			return fmt.Errorf("embedded: commit %q: %w", c.ID, err)
		}
	}
	err = s.update("commit", func(tx *bolt.Tx) error {
		if err := s.saveTx(tx, c, next.Version, rec); err != nil {
			return err
		}
		if len(vals) > 0 {
			if err := s.appendTx(tx, c.ID, vals); err != nil {
				return err
			}
		}
		if len(outs) == 0 {
			return nil
		}
		b, err := s.conv(tx, c.ID, true)
		if err != nil {
			return err
		}
		ob, err := b.CreateBucketIfNotExists(kOut)
		if err != nil {
			return err
		}
		for _, v := range outs {
			seq, err := ob.NextSequence()
			if err != nil {
				return err
			}
			if err := ob.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
				return err
			}
		}
		marks, err := tx.CreateBucketIfNotExists(bOutMark)
		if err != nil {
			return err
		}
		seq, err := marks.NextSequence()
		if err != nil {
			return err
		}
		return marks.Put([]byte(c.ID), cat(binary.BigEndian.AppendUint64(nil, seq), encTime(s.now())))
	})
	if err == nil {
		c.Version = next.Version
	}
	return err
}

// Outbox returns up to n entries from the head of id's outbox.
func (s *Store) Outbox(ctx context.Context, id bot.ConversationID, n int) ([]bot.Outgoing, error) {
	out := []bot.Outgoing{}
	err := s.view("outbox", func(tx *bolt.Tx) error {
		b, _ := s.conv(tx, id, false)
		if b == nil || b.Bucket(kOut) == nil {
			return nil
		}
		c := b.Bucket(kOut).Cursor()
		for k, v := c.First(); k != nil && (n <= 0 || len(out) < n); k, v = c.Next() {
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
	return s.update("outbox done", func(tx *bolt.Tx) error {
		b, _ := s.conv(tx, id, false)
		if b == nil || b.Bucket(kOut) == nil {
			return nil
		}
		c := b.Bucket(kOut).Cursor()
		k, v := c.First()
		if k == nil {
			return nil
		}
		var o bot.Outgoing
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		if o.Key != key {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
		if k, _ := c.First(); k == nil {
			if marks := tx.Bucket(bOutMark); marks != nil {
				return marks.Delete([]byte(id))
			}
		}
		return nil
	})
}

// OutboxPending lists up to n marks made before before, oldest first.
func (s *Store) OutboxPending(ctx context.Context, before time.Time, n int) ([]bot.OutboxMark, error) {
	var out []bot.OutboxMark
	cut := before.UnixNano()
	err := s.view("outbox pending", func(tx *bolt.Tx) error {
		marks := tx.Bucket(bOutMark)
		if marks == nil {
			return nil
		}
		return marks.ForEach(func(k, v []byte) error {
			if len(v) == 16 && decTime(v[8:]) < cut {
				out = append(out, bot.OutboxMark{Conv: bot.ConversationID(k), Seq: int64(binary.BigEndian.Uint64(v[:8]))})
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

// OutboxForget removes m if the conversation was not marked again since.
func (s *Store) OutboxForget(ctx context.Context, m bot.OutboxMark) error {
	return s.update("outbox forget", func(tx *bolt.Tx) error {
		marks := tx.Bucket(bOutMark)
		if marks == nil {
			return nil
		}
		v := marks.Get([]byte(m.Conv))
		if len(v) == 16 && bytes.Equal(v[:8], binary.BigEndian.AppendUint64(nil, uint64(m.Seq))) {
			return marks.Delete([]byte(m.Conv))
		}
		return nil
	})
}
