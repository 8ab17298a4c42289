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
// messages' keys in chunks of chunkLen: the last, partial one in its own
// bucket beside its record (whose page the turn writes anyway), the full
// ones in a bucket of their own (written once, when they fill), so the
// conversation's bucket stays one page however long the transcript. A
// bucket of messages inside each conversation, as before, made every turn
// copy that bucket's last page and the branch page above it.
//
//	transcript/<seq> = JSON bot.Message
//	tchunks/<len(id) uint16><id><chunk uint32> = the seqs (uint64) of a full chunk
//	conv/<id>/tn = number of messages (uint64)
//	conv/<id>/tl = the seqs of the last, partial chunk
var (
	bTranscript = []byte("transcript")
	bChunks     = []byte("tchunks")
	kTN         = []byte("tn")
	kTL         = []byte("tl")
)

// chunkLen is how many message keys one chunk lists (1 KiB).
const chunkLen = 128

func chunkKey(id []byte, i uint64) []byte {
	return binary.BigEndian.AppendUint32(idPrefix(id), uint32(i))
}

// msgCount is the number of messages of conversation bucket b.
func msgCount(b *bolt.Bucket) uint64 {
	if v := b.Get(kTN); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// appendTo appends the encoded messages vals to the transcript of
// conversation id, whose bucket is b.
func appendTo(tx *bolt.Tx, id []byte, b *bolt.Bucket, vals [][]byte) error {
	if len(vals) == 0 {
		return nil
	}
	tb := tx.Bucket(bTranscript)
	tb.FillPercent = 1 // keys only ever grow: pack pages full
	n := msgCount(b)
	// A new slice: bbolt holds a value it was given until the commit.
	last := bytes.Clone(b.Get(kTL))
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
	if err := b.Put(kTL, last); err != nil {
		return err
	}
	return b.Put(kTN, binary.BigEndian.AppendUint64(nil, n))
}

// chunk returns the message keys of chunk ci of conversation id (bucket b,
// n messages).
func chunk(tx *bolt.Tx, id []byte, b *bolt.Bucket, n, ci uint64) []byte {
	if ci < n/chunkLen {
		return tx.Bucket(bChunks).Get(chunkKey(id, ci))
	}
	return b.Get(kTL)
}

// lastMsgs returns the encoded last n messages of conversation id (bucket
// b), oldest first (all if n <= 0).
func lastMsgs(tx *bolt.Tx, id []byte, b *bolt.Bucket, n int) ([][]byte, error) {
	total := msgCount(b)
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

// deleteMsgs deletes the messages of conversation id (bucket b) and its
// full chunks (the partial one goes with b).
func deleteMsgs(tx *bolt.Tx, id []byte, b *bolt.Bucket) error {
	tb := tx.Bucket(bTranscript)
	total := msgCount(b)
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

// migrateLayout moves what files written before the transcript and outbox
// buckets keep in each conversation's own msgs and out buckets into those,
// in transactions of migrateBatch conversations (an interrupted migration
// goes on at the next open), and records when it is done (meta/msgs).
func (s *Store) migrateLayout() error {
	done := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bMeta).Get(kMsgs) != nil
		return nil
	}); err != nil || done {
		return err
	}
	start, moved := time.Now(), 0
	var after []byte // the last conversation looked at
	for {
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			n = 0
			convs := tx.Bucket(bConv)
			var ids [][]byte
			c := convs.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(ids) < migrateBatch; k, v = c.Next() {
				if v != nil {
					continue
				}
				if b := convs.Bucket(k); b.Bucket(kMsgs) != nil || b.Bucket(kOut) != nil {
					ids = append(ids, bytes.Clone(k))
				}
			}
			for _, id := range ids {
				b := convs.Bucket(id)
				if err := moveMsgs(tx, id, b); err != nil {
					return err
				}
				if b.Bucket(kOut) != nil {
					if err := moveOutbox(tx, id, b); err != nil {
						return err
					}
				}
			}
			n = len(ids)
			if n > 0 {
				after = ids[n-1]
			}
			if n < migrateBatch {
				return tx.Bucket(bMeta).Put(kMsgs, []byte{1})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("moving transcripts and queued replies: %w", err)
		}
		moved += n
		if n < migrateBatch {
			break
		}
	}
	if moved > 0 {
		s.log.Info("store: transcripts and queued replies moved to the shared buckets", "conversations", moved, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// moveMsgs moves the transcript of conversation id (bucket b) from its own
// msgs bucket, if it has one, into the transcript bucket (migrateLayout).
func moveMsgs(tx *bolt.Tx, id []byte, b *bolt.Bucket) error {
	m := b.Bucket(kMsgs)
	if m == nil {
		return nil
	}
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
	return b.DeleteBucket(kMsgs)
}
