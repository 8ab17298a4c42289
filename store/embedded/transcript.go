package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Transcripts. Every message of every conversation is one key of one
// bucket, in the order they were written, so a group commit appends its
// turns' messages to the same last page or two. A conversation lists its
// messages' keys in chunks of chunkLen: the last, partial one in its head
// (which the turn writes anyway), the full ones in a bucket of their own
// (written once, when they fill), so that a conversation's keys stay small
// however long the transcript. A bucket of messages inside each
// conversation, as before, made every turn copy that bucket's last page and
// the branch page above it.
//
//	transcript/<seq> = JSON bot.Message
//	tchunks/<len(id) uint16><id><chunk uint32> = the seqs (uint64) of a full chunk
//	head.tn, head.tl: the number of messages, the seqs of the last, partial chunk
var (
	bTranscript = []byte("transcript")
	bChunks     = []byte("tchunks")
)

// chunkLen is how many message keys one chunk lists (1 KiB).
const chunkLen = 128

func chunkKey(id []byte, i uint64) []byte {
	return binary.BigEndian.AppendUint32(idPrefix(id), uint32(i))
}

// appendTo appends the encoded messages vals to the transcript of
// conversation id, whose keys are b (the caller's touch writes its head).
func appendTo(tx *bolt.Tx, id []byte, b *cv, vals [][]byte) error {
	if len(vals) == 0 {
		return nil
	}
	tb := growing(tx, bTranscript)
	n := b.h.tn
	// A new slice: the head's is the file's.
	last := bytes.Clone(b.h.tl)
	for _, v := range vals {
		seq, err := tb.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		if err := tb.Put(key, v); err != nil {
			return err
		}
		last = append(last, key...)
		n++
		if n%chunkLen == 0 {
			if err := tx.Bucket(bChunks).Put(chunkKey(id, n/chunkLen-1), last); err != nil {
				return err
			}
			last = nil
		}
	}
	b.h.tl, b.h.tn = last, n
	return nil
}

// chunk returns the message keys of chunk ci of conversation id (keys b,
// n messages).
func chunk(tx *bolt.Tx, id []byte, b *cv, n, ci uint64) []byte {
	if ci < n/chunkLen {
		return tx.Bucket(bChunks).Get(chunkKey(id, ci))
	}
	return b.h.tl
}

// lastMsgs returns the encoded last n messages of conversation id (keys
// b), oldest first (all if n <= 0).
func lastMsgs(tx *bolt.Tx, id []byte, b *cv, n int) ([][]byte, error) {
	total := b.h.tn
	start := uint64(0)
	if n > 0 && total > uint64(n) {
		start = total - uint64(n)
	}
	tb := tx.Bucket(bTranscript)
	vals := make([][]byte, 0, total-start)
	for i := start; i < total; {
		ci := i / chunkLen
		ch := chunk(tx, id, b, total, ci)
		end := min(total, (ci+1)*chunkLen)
		if uint64(len(ch)) < (end-ci*chunkLen)*8 {
			return nil, fmt.Errorf("transcript: chunk %d lists %d messages, want %d", ci, len(ch)/8, end-ci*chunkLen)
		}
		for ; i < end; i++ {
			off := (i - ci*chunkLen) * 8
			v := tb.Get(ch[off : off+8])
			if v == nil {
				return nil, fmt.Errorf("transcript: message %d of %d is missing", i, total)
			}
			vals = append(vals, v)
		}
	}
	return vals, nil
}

// deleteMsgs deletes the messages of conversation id (keys b) and its
// full chunks (the partial one goes with b's keys).
func deleteMsgs(tx *bolt.Tx, id []byte, b *cv) error {
	tb := tx.Bucket(bTranscript)
	total := b.h.tn
	for ci := uint64(0); ci*chunkLen < total; ci++ {
		ch := chunk(tx, id, b, total, ci)
		for j := 0; j+8 <= len(ch); j += 8 {
			if err := tb.Delete(ch[j : j+8]); err != nil {
				return err
			}
		}
		if ci < total/chunkLen {
			if err := tx.Bucket(bChunks).Delete(chunkKey(id, ci)); err != nil {
				return err
			}
		}
	}
	return nil
}

// migrateBatch is how many conversations one transaction of
// migrateLayout moves.
const migrateBatch = 500

// migrateLayout moves the conversations of files written before bConvs,
// each in a bucket of its own (conv/<id>, which in older files still holds
// its transcript in msgs and its queued replies in out), into bConvs,
// bTranscript and bOutbox, migrateBatch conversations per transaction (an
// interrupted migration goes on at the next open), and drops conv once it
// is empty.
func (s *Store) migrateLayout() error {
	return s.migrate("conversations moved to the shared buckets", func(tx *bolt.Tx) (int, error) {
		old := tx.Bucket(bConv)
		if old == nil {
			return 0, nil
		}
		var ids [][]byte
		c := old.Cursor()
		for k, v := c.First(); k != nil && len(ids) < migrateBatch; k, v = c.Next() {
			if v == nil {
				ids = append(ids, bytes.Clone(k))
			}
		}
		for _, id := range ids {
			if err := moveConv(tx, id, old.Bucket(id)); err != nil {
				return 0, fmt.Errorf("conversation %q: %w", id, err)
			}
			if err := old.DeleteBucket(id); err != nil {
				return 0, err
			}
		}
		if len(ids) < migrateBatch {
			if err := tx.DeleteBucket(bConv); err != nil {
				return 0, err
			}
			return len(ids), tx.Bucket(bMeta).Delete(kMsgs) // the flag of an earlier migration
		}
		return len(ids), nil
	})
}

// migrate runs step in write transactions, one after another, until one
// reports fewer than migrateBatch conversations (an interrupted migration
// goes on at the next open), and logs what it did and to how many.
func (s *Store) migrate(what string, step func(*bolt.Tx) (int, error)) error {
	start, moved := time.Now(), 0
	for {
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) (err error) {
			n, err = step(tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		moved += n
		if n < migrateBatch {
			break
		}
	}
	if moved > 0 {
		s.log.Info("store: "+what, "conversations", moved, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// moveConv copies conversation id from its own bucket ob into bConvs, and
// its transcript and queued replies, if ob still holds them, into
// bTranscript and bOutbox (migrateLayout).
func moveConv(tx *bolt.Tx, id []byte, ob *bolt.Bucket) error {
	b := keysOf(tx, id)
	h, ok := headOf(ob.Get)
	if !ok {
		return fmt.Errorf("no expiry")
	}
	b.h, b.ok = h, true
	for _, k := range [][]byte{kCKey, kHolder} {
		if v := ob.Get(k); v != nil {
			if err := b.Put(k, bytes.Clone(v)); err != nil {
				return err
			}
		}
	}
	if m := ob.Bucket(kMsgs); m != nil {
		var vals [][]byte
		if err := m.ForEach(func(_, v []byte) error {
			vals = append(vals, bytes.Clone(v))
			return nil
		}); err != nil {
			return err
		}
		if err := appendTo(tx, id, b, vals); err != nil {
			return err
		}
	}
	if err := b.save(); err != nil {
		return err
	}
	if ob.Bucket(kOut) != nil {
		return moveOutbox(tx, id, ob)
	}
	return nil
}
