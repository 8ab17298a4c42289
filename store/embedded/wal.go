package embedded

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The write log. A turn (CommitTurn), an outbox removal and a FirstSeen
// are made durable by an append to a log of the store's own, synced once
// per group of concurrent writes, instead of a bbolt transaction each: a
// bbolt commit copies and writes every page the turn touched and syncs the
// file twice, and its single writer was the store's ceiling. A
// checkpointer folds the logged writes into bbolt in large transactions
// (checkpoint.go), records the last LSN folded in bMeta, and deletes the
// log files folded. Open replays what the files hold past that LSN.
//
// Files: <path>-log-<n>, n growing (16 hex digits), each a run of records:
//
//	len uint32 LE | crc32c(payload) uint32 LE | payload (op.append)
//
// A group is one write and one fdatasync; no caller of a group returns
// before both. So only the last group of the last file can be torn by a
// crash, and none of its writes was acknowledged: Open drops a torn tail
// there, and refuses a file with a bad record before its end elsewhere.

// opKind is what a logged write does.
type opKind byte

const (
	opTurn opKind = 1 + iota // CommitTurn
	opDone                   // OutboxDone: remove the outbox head if its key is key
	opSeen                   // FirstSeen: record key until now+ttl
)

// op is one logged write, with what replaying it needs.
type op struct {
	kind opKind
	lsn  uint64
	now  int64 // Unix ns: the clock of the write, for every expiry it sets or judges
	id   string
	key  string // opDone: the reply's key; opSeen, opTurn: the dedupe key ("": none)
	ttl  int64  // opSeen, opTurn: the dedupe key's ttl (ns)
	// opTurn
	ver      uint64 // the stored version the record replaces (0: none)
	customer string
	created  int64 // Unix ns, 0: the write's clock
	rec      []byte
	msgs     [][]byte
	outs     [][]byte
	outKeys  []string
	evAt     []int64
	evs      [][]byte
	// Set by elide for one fold, not logged: the removal is of a reply
	// queued in the same fold (opDone), or the first gone replies of
	// outs are removed in it (opTurn), so neither reaches bbolt.
	elided bool
	gone   int
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errRecord: a record that does not decode although its checksum matches.
var errRecord = errors.New("malformed log record")

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func appendStr(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// append appends o's record to b.
func (o *op) append(b []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, byte(o.kind))
	b = binary.AppendUvarint(b, o.lsn)
	b = binary.AppendVarint(b, o.now)
	b = appendStr(b, o.id)
	b = appendStr(b, o.key)
	b = binary.AppendVarint(b, o.ttl)
	if o.kind == opTurn {
		b = binary.AppendUvarint(b, o.ver)
		b = appendStr(b, o.customer)
		b = binary.AppendVarint(b, o.created)
		b = appendBytes(b, o.rec)
		b = binary.AppendUvarint(b, uint64(len(o.msgs)))
		for _, m := range o.msgs {
			b = appendBytes(b, m)
		}
		b = binary.AppendUvarint(b, uint64(len(o.outs)))
		for i, v := range o.outs {
			b = appendStr(b, o.outKeys[i])
			b = appendBytes(b, v)
		}
		b = binary.AppendUvarint(b, uint64(len(o.evs)))
		for i, v := range o.evs {
			b = binary.AppendVarint(b, o.evAt[i])
			b = appendBytes(b, v)
		}
	}
	p := b[start+8:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(p, castagnoli))
	return b
}

// dec reads a payload; the first error sticks.
type dec struct {
	b   []byte
	err error
}

func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errRecord
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// count reads a list's length: each item takes a byte at least.
func (d *dec) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errRecord
		return 0
	}
	return int(n)
}

func decodeOp(p []byte) (*op, error) {
	if len(p) == 0 {
		return nil, errRecord
	}
	o := &op{kind: opKind(p[0])}
	d := &dec{b: p[1:]}
	o.lsn = d.uvarint()
	o.now = d.varint()
	o.id = string(d.bytes())
	o.key = string(d.bytes())
	o.ttl = d.varint()
	switch o.kind {
	case opDone, opSeen:
	case opTurn:
		o.ver = d.uvarint()
		o.customer = string(d.bytes())
		o.created = d.varint()
		o.rec = d.bytes()
		o.msgs = make([][]byte, d.count())
		for i := range o.msgs {
			o.msgs[i] = d.bytes()
		}
		n := d.count()
		o.outs, o.outKeys = make([][]byte, n), make([]string, n)
		for i := range n {
			o.outKeys[i] = string(d.bytes())
			o.outs[i] = d.bytes()
		}
		n = d.count()
		o.evs, o.evAt = make([][]byte, n), make([]int64, n)
		for i := range n {
			o.evAt[i] = d.varint()
			o.evs[i] = d.bytes()
		}
	default:
		return nil, fmt.Errorf("%w: kind %d", errRecord, o.kind)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = errRecord
	}
	return o, d.err
}

// logFile is one file of the log.
type logFile struct {
	name string
	n    uint64
	max  uint64 // the last LSN it holds (0: none yet)
	size int64  // bytes written: the offset of the next group
}

func logName(path string, n uint64) string {
	return fmt.Sprintf("%s-log-%016x", path, n)
}

// spareName is the log file kept for reuse: a folded file, or one filled
// with zeros. Overwriting blocks a file already has costs a sync a third
// of the wall time and half the CPU of growing the file (measured on
// ext4), so the log moves into it instead of a new file.
func spareName(path string) string { return path + "-log-spare" }

// logFiles lists the log files of the data file path, oldest first.
func logFiles(path string) ([]logFile, error) {
	names, err := filepath.Glob(path + "-log-*")
	if err != nil {
		return nil, err
	}
	var out []logFile
	for _, name := range names {
		n, err := strconv.ParseUint(strings.TrimPrefix(name, path+"-log-"), 16, 64)
		if err != nil {
			continue // the spare, or not ours
		}
		out = append(out, logFile{name: name, n: n})
	}
	slices.SortFunc(out, func(a, b logFile) int { return cmp.Compare(a.n, b.n) })
	return out, nil
}

// readLog returns the records of log file name up to the first that is
// not whole (a torn write, the zeros or the older records of a reused
// file): tail is how many bytes follow it. A record whose checksum
// matches but which does not decode is an error naming file and offset.
func readLog(name string) (ops []*op, tail int, err error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, 0, err
	}
	off := 0
	for len(b)-off >= 8 {
		n := int(binary.LittleEndian.Uint32(b[off:]))
		if n == 0 || n > len(b)-off-8 || crc32.Checksum(b[off+8:off+8+n], castagnoli) != binary.LittleEndian.Uint32(b[off+4:]) {
			break
		}
		o, err := decodeOp(b[off+8 : off+8+n])
		if err != nil {
			return nil, 0, fmt.Errorf("%s: offset %d: %w", name, off, err)
		}
		if len(ops) > 0 && o.lsn != ops[len(ops)-1].lsn+1 {
			break // a reused file's older records
		}
		ops = append(ops, o)
		off += 8 + n
	}
	return ops, len(b) - off, nil
}

// createLog makes log file name, from the spare if there is one, and
// syncs its directory, so that the file survives a crash once a write to
// it is synced.
func createLog(path, name string) (*os.File, error) {
	err := os.Rename(spareName(path), name)
	if errors.Is(err, os.ErrNotExist) {
		var f *os.File
		if f, err = os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
			err = f.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(name)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// makeSpare fills a spare log file of size bytes with zeros, unless
// there is one.
func makeSpare(path string, size int64) error {
	name := spareName(path)
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for i := int64(0); i < size && err == nil; i += int64(len(zeros)) {
		_, err = f.Write(zeros)
	}
	if err == nil {
		err = fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// recycle makes folded log file name the spare, or deletes it if there
// is one.
func recycle(path, name string) error {
	if _, err := os.Stat(spareName(path)); err == nil {
		return os.Remove(name)
	}
	return os.Rename(name, spareName(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
