package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

// Logged writes (wal.go) are decided when they are made: a turn's version
// and dedupe key are checked, a removal finds its outbox head. Until the
// checkpointer has folded them into bbolt, what those decisions and the
// reads of a conversation depend on is kept in memory: a shadow per
// conversation written since the last checkpoint (its version, expiry,
// record and outbox keys), and the dedupe keys recorded since. The other
// reads of what logged writes change (transcripts, outboxes, events,
// claims, exports) first settle: they wait for a checkpoint of every write
// made before them. The other writes of that data (SaveConversation,
// Append, Claim, Sweep, DeleteCustomer…) bypass the log: they hold gate,
// which stops new logged writes, settle, and write bbolt directly.

const (
	// checkpointEvery and checkpointOps: a checkpoint runs after this
	// long, or once this many writes wait for one.
	checkpointEvery = 200 * time.Millisecond
	checkpointOps   = 4096
	// logFileMax: the log moves to a new file past this size, so that
	// folded files can be deleted.
	logFileMax = 16 << 20
	// maxShadows bounds the shadows and dedupe keys kept once folded.
	maxShadows = 16384
	// heldSyncMax: syncs of the log that took less than this keep the
	// syncer's P (syncLog).
	heldSyncMax = 5 * time.Millisecond
)

// kApplied in bMeta: the last LSN folded into the file (uint64).
var kApplied = []byte("applied")

// shadow is what logged writes not yet folded made of a conversation,
// or what bbolt holds of it (loaded to decide a write; lsn 0).
type shadow struct {
	lsn    uint64 // the last logged write of it
	ok     bool   // the conversation has a head
	ver    uint64
	exp    int64 // Unix ns
	rec    []byte
	outbox []string // the keys of its queued replies, oldest first
}

// seenKey is a dedupe key's expiry, as shadow.
type seenKey struct {
	lsn uint64
	exp int64 // Unix ns; 0: not recorded
}

// group is the logged writes of one write and sync of the log.
type group struct {
	done   chan struct{} // closed once written and synced
	err    error
	ops    []*op
	last   uint64
	laters []func(error) // results of writes nobody waits for (OutboxDoneQueue)
}

var errLogFailed = errors.New("write log failed")

// written is a group with nothing to wait for.
var written = func() *group {
	g := &group{done: make(chan struct{})}
	close(g.done)
	return g
}()

// openLog replays the log files of the data file into it and starts a
// new log file (Open).
func (s *Store) openLog() error {
	s.convs, s.seen = map[string]*shadow{}, map[string]seenKey{}
	s.synced.L = &s.wmu
	s.cur = &group{done: make(chan struct{})}
	s.kickSync, s.kickCk = make(chan struct{}, 1), make(chan struct{}, 1)
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kApplied); len(v) == 8 {
			s.applied = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	files, err := logFiles(s.path)
	if err != nil {
		return err
	}
	var ops []*op
	last := s.applied
	for _, f := range files {
		fops, _, err := readLog(f.name)
		if err != nil {
			return err
		}
		for _, o := range fops {
			if o.lsn <= s.applied {
				continue // folded before
			}
			if o.lsn != last+1 {
				return fmt.Errorf("%s: write %d follows write %d: %w: writes are missing", f.name, o.lsn, last, errRecord)
			}
			ops = append(ops, o)
			last = o.lsn
		}
	}
	if len(ops) > 0 {
		if err := s.fold(ops); err != nil {
			return fmt.Errorf("replay the write log: %w", err)
		}
		s.log.Info("embedded: replayed the write log", "writes", len(ops))
	}
	for _, f := range files {
		if err := recycle(s.path, f.name); err != nil {
			return err
		}
	}
	s.lsn, s.done, s.applied = last, last, last
	n := uint64(1)
	if len(files) > 0 {
		n = files[len(files)-1].n + 1
	}
	s.logCur = logFile{name: logName(s.path, n), n: n}
	s.logf, err = createLog(s.path, s.logCur.name)
	return err
}

// startLog starts the log's syncer and checkpointer, owned by s (Close).
func (s *Store) startLog(ctx context.Context) {
	s.logWG.Go(func() { s.syncLoop(ctx) })
	s.wg.Go(func() { s.checkpointLoop(ctx) })
}

// closeLog folds every write into the file and deletes the log (Close,
// after the syncer stopped).
func (s *Store) closeLog() error {
	err := s.checkpoint()
	if cerr := s.logf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err // the log stays for the next Open
	}
	s.wmu.Lock()
	files := append(s.logOld, s.logCur)
	s.logOld = nil
	s.wmu.Unlock()
	for _, f := range files {
		if err := recycle(s.path, f.name); err != nil {
			return err
		}
	}
	return nil
}

// ---- logging a write

// logged runs decide under the log's lock with the shadows of conversation
// id (if not "") and dedupe key (if not ""), loaded from bbolt when
// missing, and the write's clock. decide returns the write to log (nil:
// none) or an error. logged returns the group to wait on.
func (s *Store) logged(id, key string, decide func(c *shadow, k *seenKey, now int64) (*op, error), later func(error)) (*group, error) {
	s.gate.RLock()
	defer s.gate.RUnlock()
	c, k, err := s.shadowsLocked(id, key)
	if err != nil {
		return nil, err
	}
	defer s.wmu.Unlock()
	return s.logLocked(id, key, c, &k, decide, later)
}

// shadowsLocked returns the shadows of conversation id (if not "") and
// dedupe key (if not ""), loaded from bbolt and kept when missing, with
// wmu held; on an error wmu is not held. gate must be read-held.
func (s *Store) shadowsLocked(id, key string) (*shadow, seenKey, error) {
	for {
		s.wmu.Lock()
		c, k, gen := s.convs[id], s.seen[key], s.gen
		_, kok := s.seen[key]
		if (id == "" || c != nil) && (key == "" || kok) {
			return c, k, nil
		}
		s.wmu.Unlock()
		lc, lk, err := s.load(id, key, c == nil, !kok)
		if err != nil {
			return nil, seenKey{}, err
		}
		s.wmu.Lock()
		if s.gen != gen { // a checkpoint dropped shadows meanwhile: load again
			s.wmu.Unlock()
			continue
		}
		if id != "" {
			if c = s.convs[id]; c == nil {
				c = lc
				s.convs[id] = c
			}
		}
		if key != "" {
			if k, kok = s.seen[key]; !kok {
				k = lk
				s.seen[key] = k
			}
		}
		return c, k, nil
	}
}

func (s *Store) logLocked(id, key string, c *shadow, k *seenKey, decide func(*shadow, *seenKey, int64) (*op, error), later func(error)) (*group, error) {
	if s.logErr != nil {
		return nil, fmt.Errorf("%w: %w", errLogFailed, s.logErr)
	}
	if s.closed {
		return nil, bolt.ErrDatabaseNotOpen
	}
	now := s.now().UnixNano()
	o, err := decide(c, k, now)
	if err != nil {
		return nil, err
	}
	if o == nil && later == nil {
		return written, nil // nothing to write: nothing to wait for
	}
	g := s.cur
	if later != nil {
		g.laters = append(g.laters, later)
	}
	if o == nil {
		s.kickLater()
		return g, nil
	}
	s.lsn++
	o.lsn, o.now = s.lsn, now
	if c != nil {
		c.lsn = o.lsn
	}
	if key != "" {
		k.lsn = o.lsn
		s.seen[key] = *k
	}
	s.wbuf = o.append(s.wbuf)
	g.ops = append(g.ops, o)
	g.last = o.lsn
	if later != nil {
		s.kickLater()
	} else {
		select {
		case s.kickSync <- struct{}{}:
		default:
		}
	}
	return g, nil
}

// kickLater has the syncer write the group within laterWait if no
// waited-for write does first (wmu held).
func (s *Store) kickLater() {
	if !s.laterArmed {
		s.laterArmed = true
		s.flush.Reset(s.laterWait)
	}
}

// flushLater is kickLater's timer.
func (s *Store) flushLater() {
	s.wmu.Lock()
	s.laterArmed = false
	s.wmu.Unlock()
	select {
	case s.kickSync <- struct{}{}:
	default:
	}
}

// load reads from bbolt the shadow of conversation id and the expiry of
// dedupe key.
func (s *Store) load(id, key string, conv, seen bool) (*shadow, seenKey, error) {
	var c *shadow
	var k seenKey
	err := s.db.View(func(tx *bolt.Tx) error {
		if conv && id != "" {
			b := keysOf(tx, []byte(id))
			if err := b.load(); err != nil {
				return err
			}
			c = &shadow{ok: b.ok}
			if b.ok {
				c.ver, c.exp, c.rec = b.h.ver, decTime(b.h.exp), bytes.Clone(b.h.rec)
			}
			p := b.p
			cur := tx.Bucket(bOutbox).Cursor()
			for k, _ := cur.Seek(p); bytes.HasPrefix(k, p) && len(k) >= len(p)+8; k, _ = cur.Next() {
				c.outbox = append(c.outbox, string(k[len(p)+8:]))
			}
		}
		if seen && key != "" {
			if v := tx.Bucket(bDedupe).Get([]byte(key)); v != nil {
				k.exp = decTime(v)
			}
		}
		return nil
	})
	return c, k, s.wrap("load", err)
}

// wait waits for g's sync.
func (g *group) wait() error {
	<-g.done
	return g.err
}

// ---- the syncer

func (s *Store) syncLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			s.syncGroup()
			return
		case <-s.kickSync:
			// Let the goroutines ready to run log their writes first: a
			// larger group costs fewer syncs, and a lone writer waits
			// for nothing.
			runtime.Gosched()
			s.syncGroup()
		}
	}
}

// syncGroup writes and syncs the group being filled, then tells its
// writers.
func (s *Store) syncGroup() {
	s.wmu.Lock()
	g, buf := s.cur, s.wbuf
	if len(g.ops) == 0 && len(g.laters) == 0 {
		s.wmu.Unlock()
		return
	}
	s.cur = &group{done: make(chan struct{})}
	s.wbuf = s.spare[:0]
	if s.laterArmed { // this sync carries what the timer was for
		s.flush.Stop()
		s.laterArmed = false
	}
	err := s.logErr
	s.wmu.Unlock()

	if err == nil && len(buf) > 0 {
		err = s.writeLog(buf)
		s.commits.Add(1)
	}

	s.wmu.Lock()
	if err != nil && s.logErr == nil {
		s.logErr = err
		s.log.Error("embedded: the write log failed; writes fail until restart", "file", s.logCur.name, "err", err)
	}
	if err == nil {
		s.pending = append(s.pending, g.ops...)
		if g.last > 0 {
			s.logCur.max = g.last
		}
	}
	s.done = max(s.done, g.last)
	s.spare = buf
	n := len(s.pending)
	s.synced.Broadcast()
	s.wmu.Unlock()

	if err != nil {
		err = fmt.Errorf("%w: %w", errLogFailed, err)
	}
	g.err = err
	for _, f := range g.laters { // first: a later write of the group is ordered after them
		f(err)
	}
	close(g.done)
	if n >= checkpointOps {
		select {
		case s.kickCk <- struct{}{}:
		default:
		}
	}
}

// writeLog appends buf to the log and syncs it, moving to a new file
// first when the current one is full (syncer only).
func (s *Store) writeLog(buf []byte) error {
	if s.logCur.size > 0 && s.logCur.size+int64(len(buf)) > s.logMax {
		next := logFile{name: logName(s.path, s.logCur.n+1), n: s.logCur.n + 1}
		f, err := createLog(s.path, next.name)
		if err != nil {
			return err
		}
		if err := s.logf.Close(); err != nil {
			f.Close()
			return err
		}
		s.wmu.Lock()
		s.logOld = append(s.logOld, s.logCur)
		s.logCur = next
		s.wmu.Unlock()
		s.logf = f
	}
	if _, err := s.logf.WriteAt(buf, s.logCur.size); err != nil {
		return err
	}
	s.logCur.size += int64(len(buf))
	return s.syncLog()
}

// syncLog syncs the log file (syncer only). Every logged write waits for
// this sync, and through the scheduler the syncer lost its P while the
// disk worked and then waited behind the runnable goroutines to tell the
// writers (in BenchmarkEngineEmbedded, 557 µs on average after each sync
// returned). So it keeps its P (fdatasyncHeld) while syncs are short and
// another P can run the rest: a sync slower than heldMax (a busy or stuck
// disk) sends the next ones through the scheduler until one is short again.
func (s *Store) syncLog() error {
	held := s.lastSync < s.heldMax && runtime.GOMAXPROCS(0) > 1
	t0 := time.Now()
	var err error
	if held {
		s.heldSyncs++
		err = fdatasyncHeld(s.logf)
	} else {
		err = fdatasync(s.logf)
	}
	s.lastSync = time.Since(t0)
	return err
}

// ---- checkpoints

func (s *Store) checkpointLoop(ctx context.Context) {
	t := time.NewTicker(s.ckEvery)
	defer t.Stop()
	spare := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kickCk:
		}
		if err := s.checkpoint(); err != nil {
			s.log.Error("embedded: checkpoint failed; will retry", "err", err)
		}
		if !spare {
			if err := makeSpare(s.path, s.logMax); err != nil {
				s.log.Warn("embedded: make a spare log file", "err", err)
			}
			spare = true // once: later ones are folded files
		}
	}
}

// checkpoint folds every synced write into bbolt in one transaction,
// drops the shadows it made current, and deletes the log files folded.
func (s *Store) checkpoint() error {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	s.wmu.Lock()
	ops := s.pending
	s.pending = nil
	s.wmu.Unlock()
	if len(ops) == 0 {
		return nil
	}
	if err := s.fold(ops); err != nil {
		s.wmu.Lock()
		s.pending = append(ops, s.pending...)
		s.wmu.Unlock()
		return err
	}
	last := ops[len(ops)-1].lsn
	s.wmu.Lock()
	s.applied = last
	// A folded shadow is what bbolt holds: it stays, as a cache, until
	// there are too many.
	if evict(s.convs, func(c *shadow) uint64 { return c.lsn }, last) ||
		evict(s.seen, func(k seenKey) uint64 { return k.lsn }, last) {
		s.gen++
	}
	var drop []logFile
	keep := s.logOld[:0]
	for _, f := range s.logOld {
		if f.max <= last {
			drop = append(drop, f)
		} else {
			keep = append(keep, f)
		}
	}
	s.logOld = keep
	s.wmu.Unlock()
	for _, f := range drop {
		if err := recycle(s.path, f.name); err != nil {
			s.log.Warn("embedded: recycle a folded log file", "file", f.name, "err", err)
		}
	}
	return nil
}

// evict deletes folded entries (lsn ≤ last) of m once it holds more
// than maxShadows, down to 3/4 of that; it reports whether it did.
func evict[V any](m map[string]V, lsn func(V) uint64, last uint64) bool {
	if len(m) <= maxShadows {
		return false
	}
	for k, v := range m {
		if lsn(v) <= last {
			delete(m, k)
		}
		if len(m) <= maxShadows*3/4 {
			break
		}
	}
	return true
}

// fold applies ops to bbolt in one transaction, with the last one's LSN.
func (s *Store) fold(ops []*op) error {
	s.checkpoints.Add(1)
	return s.db.Update(func(tx *bolt.Tx) error {
		elide(tx, ops)
		hs := heads{}
		for _, o := range ops {
			err := s.apply(tx, hs, o)
			var r refusal
			if errors.As(err, &r) {
				// The write was decided against the shadows, which
				// mirror this: a bug, reported, and the write skipped.
				s.log.Error("embedded: a logged write was refused at checkpoint", "lsn", o.lsn, "conversation", o.id, "err", r.err)
				continue
			}
			if err != nil {
				return fmt.Errorf("write %d (conversation %q): %w", o.lsn, o.id, err)
			}
		}
		for _, b := range hs {
			if !b.ok { // its only turns were refused
				continue
			}
			if err := b.save(); err != nil {
				return err
			}
		}
		return tx.Bucket(bMeta).Put(kApplied, binary.BigEndian.AppendUint64(nil, ops[len(ops)-1].lsn))
	})
}

// heads are the keys, with their heads, of the conversations a fold
// wrote: a conversation with many turns in one checkpoint has its head
// read and written once, at the end of the fold.
type heads map[string]*cv

// conv is convAt through hs: the keys of conversation id, to be saved at
// the end of the fold.
func (hs heads) conv(s *Store, tx *bolt.Tx, id string, now time.Time) (*cv, error) {
	if b := hs[id]; b != nil {
		if !b.ok || decTime(b.h.exp) > now.UnixNano() {
			return b, nil
		}
		// Expired: written back, for convAt to purge it.
		if err := b.save(); err != nil {
			return nil, err
		}
		delete(hs, id)
	}
	b, err := s.convAt(tx, bot.ConversationID(id), true, now)
	if err != nil {
		return nil, err
	}
	hs[id] = b
	return b, nil
}

func (s *Store) apply(tx *bolt.Tx, hs heads, o *op) error {
	switch o.kind {
	case opTurn:
		return s.applyTurn(tx, hs, o)
	case opDone:
		if o.elided {
			return nil
		}
		_, err := s.outboxDone(tx, bot.ConversationID(o.id), o.key)
		return err
	case opSeen:
		_, err := s.firstSeen(tx, o.key, time.Duration(o.ttl), time.Unix(0, o.now))
		return err
	}
	return fmt.Errorf("%w: kind %d", errRecord, o.kind)
}

// elide marks the replies that ops both queue and remove, which then
// never reach bbolt: most replies are sent, and removed, within a
// checkpoint of their turn. An outbox is a queue and a removal takes its
// head, so replaying ops against the conversation's queue (what bbolt
// holds, then the replies queued) tells which reply each removal takes;
// the replies removed are a prefix of those queued, and so of each turn's.
// A conversation where a removal would not take the reply it names (an
// expired conversation restarted, which purges its outbox) is left as it
// is: its ops are applied one by one.
func elide(tx *bolt.Tx, ops []*op) {
	type queued struct {
		o *op
		i int
	}
	type queue struct {
		held  []string // keys bbolt holds, oldest first
		puts  []queued
		next  int // puts[:next] are removed
		dones []*op
		bad   bool
	}
	var qs map[string]*queue
	for _, o := range ops {
		o.elided, o.gone = false, 0
		if o.kind == opDone && qs[o.id] == nil {
			if qs == nil {
				qs = map[string]*queue{}
			}
			qs[o.id] = &queue{}
		}
	}
	if qs == nil {
		return
	}
	c := tx.Bucket(bOutbox).Cursor()
	for id, q := range qs {
		p := idPrefix([]byte(id))
		for k, _ := c.Seek(p); bytes.HasPrefix(k, p) && len(k) >= len(p)+8; k, _ = c.Next() {
			q.held = append(q.held, string(k[len(p)+8:]))
		}
	}
	for _, o := range ops {
		q := qs[o.id]
		if q == nil || q.bad {
			continue
		}
		switch {
		case o.kind == opTurn:
			for i := range o.outKeys {
				q.puts = append(q.puts, queued{o, i})
			}
		case o.kind != opDone:
		case len(q.held) > 0:
			q.bad = q.held[0] != o.key
			q.held = q.held[1:]
		case q.next < len(q.puts) && q.puts[q.next].o.outKeys[q.puts[q.next].i] == o.key:
			q.dones = append(q.dones, o)
			q.next++
		default:
			q.bad = true
		}
	}
	for _, q := range qs {
		if q.bad {
			continue
		}
		for _, o := range q.dones {
			o.elided = true
		}
		for _, r := range q.puts[:q.next] {
			r.o.gone = r.i + 1
		}
	}
}

// settle returns once every logged write made before it is in bbolt.
func (s *Store) settle() error {
	s.wmu.Lock()
	target := s.lsn
	for s.done < target && s.logErr == nil {
		select {
		case s.kickSync <- struct{}{}:
		default:
		}
		s.synced.Wait()
	}
	err := s.logErr
	applied := s.applied
	s.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: %w", errLogFailed, err)
	}
	if applied >= target {
		return nil
	}
	return s.checkpoint()
}

// settled runs fn in a read transaction that sees every write made
// before the call.
func (s *Store) settled(op string, fn func(*bolt.Tx) error) error {
	if err := s.settle(); err != nil {
		return s.wrap(op, err)
	}
	return s.view(op, fn)
}

// exclusive runs fn in a write transaction (update) with the log
// stopped and settled, and the shadows dropped: for the writes that
// change what logged writes decide on, without the log.
// after, if given, runs once fn is committed, with the log still stopped.
func (s *Store) exclusive(op string, fn func(*bolt.Tx) error, after ...func() error) error {
	resume, err := s.stopLog()
	if err != nil {
		return s.wrap(op, err)
	}
	defer resume()
	err = s.update(op, fn)
	for _, f := range after {
		if err == nil {
			err = s.wrap(op, f())
		}
	}
	return err
}

// scrubLog empties the log, all of it folded (gate held, settled): the
// files folded and the spare are removed and the current one is truncated,
// so that data just deleted does not stay in them (DeleteCustomer).
func (s *Store) scrubLog() error {
	s.wmu.Lock()
	old := s.logOld
	s.logOld = nil
	s.logCur.size, s.logCur.max = 0, 0
	s.wmu.Unlock()
	for _, f := range old {
		if err := os.Remove(f.name); err != nil {
			return err
		}
	}
	if err := os.Remove(spareName(s.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := s.logf.Truncate(0); err != nil {
		return err
	}
	return fdatasync(s.logf)
}

// stopLog holds gate, so that no write is logged until resume, folds
// every logged write into bbolt and drops the shadows: bbolt alone holds
// the state then, for a write that bypasses the log.
func (s *Store) stopLog() (resume func(), err error) {
	s.gate.Lock()
	if err := s.settle(); err != nil {
		s.gate.Unlock()
		return nil, err
	}
	s.dropShadows()
	return s.gate.Unlock, nil
}

// dropShadows drops every shadow, once every logged write is folded and
// gate is held.
func (s *Store) dropShadows() {
	s.wmu.Lock()
	clear(s.convs)
	clear(s.seen)
	s.gen++
	s.wmu.Unlock()
}
