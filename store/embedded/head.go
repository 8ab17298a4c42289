package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// head is what every turn rewrites of a conversation, in one value
// (convs/<id>h), so that a turn reads and writes one key of it where it
// read five and wrote five (a B+tree search each):
//
//	ver uint64 | exp 8 | idx 8 | mark uint64 | marked 8 | tn uint64 | len(tl) uint16 | tl | rec
//
// ver is the record's version, exp the expiry and idx where the expiry
// index files the conversation (encTime, see touch), mark the outbox's
// bot.OutboxMark.Seq (0: none) and marked when it was made (durable.go), tn
// the number of its messages, tl the seqs of the last, partial chunk of its
// transcript (transcript.go), rec the JSON record (empty before the first
// save).
type head struct {
	ver      uint64
	exp, idx []byte
	mark     uint64
	marked   []byte
	tn       uint64
	tl       []byte
	rec      []byte
}

const headFixed = 6*8 + 2

var noTime = make([]byte, 8)

var errHead = errors.New("embedded: conversation head is corrupt")

func (h *head) encode() []byte {
	v := make([]byte, 0, headFixed+len(h.tl)+len(h.rec))
	v = binary.BigEndian.AppendUint64(v, h.ver)
	v = append(v, h.exp[:8]...)
	v = append(v, h.idx[:8]...)
	v = binary.BigEndian.AppendUint64(v, h.mark)
	if len(h.marked) == 8 {
		v = append(v, h.marked...)
	} else {
		v = append(v, noTime...) // no mark yet
	}
	v = binary.BigEndian.AppendUint64(v, h.tn)
	v = binary.BigEndian.AppendUint16(v, uint16(len(h.tl)))
	v = append(v, h.tl...)
	return append(v, h.rec...)
}

// decodeHead decodes v; the head's slices are v's.
func decodeHead(v []byte) (head, error) {
	if len(v) < headFixed {
		return head{}, errHead
	}
	n := headFixed + int(binary.BigEndian.Uint16(v[headFixed-2:]))
	if len(v) < n {
		return head{}, errHead
	}
	return head{ver: binary.BigEndian.Uint64(v), exp: v[8:16:16], idx: v[16:24:24],
		mark: binary.BigEndian.Uint64(v[24:]), marked: v[32:40:40], tn: binary.BigEndian.Uint64(v[40:]),
		tl: v[headFixed:n:n], rec: v[n:]}, nil
}

// The keys a conversation had instead of its head, before kHead.
var (
	kRec = []byte("rec")
	kVer = []byte("ver")
	kExp = []byte("exp")
	kIdx = []byte("idx")
	kTN  = []byte("tn")
	kTL  = []byte("tl")
)

// headOf builds a conversation's head from its keys of the layouts before
// kHead (get returns a key's value, nil if there is none); ok is false
// without an expiry, which every conversation had. A file from before kIdx
// filed a conversation at its expiry.
func headOf(get func(name []byte) []byte) (h head, ok bool) {
	exp := get(kExp)
	if len(exp) != 8 {
		return head{}, false
	}
	h.exp = bytes.Clone(exp)
	h.idx = bytes.Clone(exp)
	if idx := get(kIdx); len(idx) == 8 {
		h.idx = bytes.Clone(idx)
	}
	if v := get(kVer); len(v) == 8 {
		h.ver = binary.BigEndian.Uint64(v)
	}
	if v := get(kTN); len(v) == 8 {
		h.tn = binary.BigEndian.Uint64(v)
	}
	h.tl = bytes.Clone(get(kTL))
	h.rec = bytes.Clone(get(kRec))
	return h, true
}

// migrateHeads gives every conversation of bConvs that still has the keys
// of the layout before kHead its head instead, migrateBatch conversations
// per transaction (an interrupted migration goes on at the next open), and
// marks the file done in bMeta so that later opens skip the scan. The
// outbox marks, which heads now hold, are dropped: a queued reply without
// one counts as marked long ago (OutboxPending).
func (s *Store) migrateHeads() error {
	var from []byte
	return s.migrate("conversation keys merged into their heads", func(tx *bolt.Tx) (int, error) {
		meta := tx.Bucket(bMeta)
		if meta.Get(kHeads) != nil {
			return 0, nil
		}
		var ids [][]byte
		c := tx.Bucket(bConvs).Cursor()
		k, _ := c.First()
		if from != nil {
			k, _ = c.Seek(from)
		}
		for ; k != nil && len(ids) < migrateBatch; k, _ = c.Next() {
			id, name, err := splitKey(k)
			if err != nil {
				return 0, err
			}
			if bytes.Equal(name, kExp) {
				ids = append(ids, bytes.Clone(id))
			}
		}
		for _, id := range ids {
			b := keysOf(tx, id)
			h, ok := headOf(b.Get)
			if !ok {
				return 0, fmt.Errorf("conversation %q: malformed expiry %x", id, b.Get(kExp))
			}
			for _, name := range [][]byte{kRec, kVer, kExp, kIdx, kTN, kTL} {
				if err := b.Delete(name); err != nil {
					return 0, err
				}
			}
			b.h, b.ok = h, true
			if err := b.save(); err != nil {
				return 0, fmt.Errorf("conversation %q: %w", id, err)
			}
		}
		if len(ids) == migrateBatch {
			from = append(idPrefix(ids[len(ids)-1]), 0xff)
			return len(ids), nil
		}
		if tx.Bucket(bOutMark) != nil {
			if err := tx.DeleteBucket(bOutMark); err != nil {
				return 0, err
			}
		}
		return len(ids), meta.Put(kHeads, []byte{1})
	})
}

// splitKey splits key k of a bucket keyed by idPrefix (bConvs, bOutbox)
// into its conversation's ID and the rest.
func splitKey(k []byte) (id, name []byte, err error) {
	if len(k) < 2 || len(k) < 2+int(binary.BigEndian.Uint16(k)) {
		return nil, nil, fmt.Errorf("malformed key %q", k)
	}
	n := 2 + int(binary.BigEndian.Uint16(k))
	return k[2:n], k[n:], nil
}
