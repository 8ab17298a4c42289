// Package embedded is the default store: one local bbolt file and its write
// log (wal.go), durable across process restarts (every write is fsynced
// before it returns), no server. It suits one bot process; use
// store/redisstore for replicas.
//
// Layout (top-level buckets):
//
//	convs/<id><name> for name in h,ckey,holder  (<id>: idPrefix; h: head.go)
//	transcript/<seq>; tchunks/<id><chunk>  every message, in write order (transcript.go)
//	outbox/<id><seq>                     replies not yet sent (durable.go)
//	expiry/<idx><id>                     conversations by expiry, for the sweeper
//	cust/<customer>\0<created><id>       customer index, oldest first
//	dedupe/<key> = <exp>; dexp/<exp><key>
//	lease/<name> = <exp><owner>
//	timers/<key> = JSON; timerq/<at><key>
//	queue/<conv> = JSON; held/<agent>\0<conv>; agents/<id> = JSON
//	docs/<name>/<version> = JSON
//	events/<at><seq> = JSON
//	meta                                 reserved for layout changes
//
// Expiry (retention, dedupe ttl, leases) is judged by Options.Now on every
// read; a sweeper goroutine owned by the Store deletes what expired.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
	"github.com/supportbot/supportbot/store/internal/reccache"
)

// FileName is the data file's name inside the data directory.
const FileName = "supportbot.db"

// initialMmapSize is the address space the data file is mapped with at
// first (1 GiB; bbolt maps more as the file grows past it).
const initialMmapSize = 1 << 30

// Options tune a Store. Zero values get the defaults.
type Options struct {
	Retention time.Duration // idle conversations are kept this long; default 30 days
	// EventsRetention is how long analytics events are kept; default Retention.
	EventsRetention time.Duration
	DedupeTTL       time.Duration    // FirstSeen ttl when it is called with ttl <= 0; default 24h
	Now             func() time.Time // the clock for every expiry; default time.Now
	SweepEvery      time.Duration    // sweeper period; default 1m; < 0 disables the sweeper
	Log             *slog.Logger

	checkpointEvery time.Duration // tests; default checkpointEvery
	logMax          int64         // tests; default logFileMax
	heldSyncMax     time.Duration // tests; default heldSyncMax, < 0: never held
}

// Store is the embedded store. Create it with Open.
type Store struct {
	db        *bolt.DB
	path      string
	retention time.Duration
	events    time.Duration // events retention
	dedupe    time.Duration
	now       func() time.Time
	log       *slog.Logger

	bmu        sync.Mutex // guards queue and committing: group commit (commit.go)
	queue      []*call
	committing bool
	flush      *time.Timer // syncs the log for a write nobody waits for (kickLater)
	laterWait  time.Duration
	commits    atomic.Int64 // durable writes waited for: log syncs and group commits
	recs       reccache.Cache

	// The write log (wal.go, checkpoint.go).
	gate        sync.RWMutex // read-held while a write is decided and logged; held by exclusive
	ckMu        sync.Mutex   // one checkpoint at a time
	checkpoints atomic.Int64
	logWG       sync.WaitGroup // the syncer
	kickSync    chan struct{}
	kickCk      chan struct{}
	logf        *os.File // syncer only (and Open, Close)
	heldMax     time.Duration
	lastSync    time.Duration // syncer only: how long the last sync took
	heldSyncs   int           // syncer only: syncs that kept the P
	wmu         sync.Mutex    // guards what follows
	synced      sync.Cond     // on wmu: a group was synced (or failed)
	lsn         uint64        // the last LSN given
	done        uint64        // the last LSN synced
	applied     uint64        // the last LSN folded into bbolt
	gen         uint64        // bumped when shadows are dropped
	closed      bool
	laterArmed  bool
	cur         *group // the group being filled
	wbuf, spare []byte // cur's records
	pending     []*op  // synced, not folded yet
	convs       map[string]*shadow
	seen        map[string]seenKey
	logCur      logFile
	logOld      []logFile // full files, not folded yet
	logErr      error     // sticky
	ckEvery     time.Duration
	logMax      int64

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var (
	bConv   = []byte("conv")  // conv/<id>/<name>: conversations before bConvs (migrateLayout)
	bConvs  = []byte("convs") // every conversation's keys (cv)
	bExpiry = []byte("expiry")
	bCust   = []byte("cust")
	bDedupe = []byte("dedupe")
	bDexp   = []byte("dexp")
	bLease  = []byte("lease")
	bTimers = []byte("timers")
	bTimerQ = []byte("timerq")
	bQueue  = []byte("queue")
	bHeld   = []byte("held")
	bAgents = []byte("agents")
	bDocs   = []byte("docs")
	bDocExp = []byte("docexp")  // name → expiry of documents that expire
	bDocQ   = []byte("docexpq") // expiry+name, for the sweep
	bEvents = []byte("events")
	bMeta   = []byte("meta") // what a file's layout has been migrated to

	kHead   = []byte("h")     // head
	kHeads  = []byte("heads") // in bMeta: migrateHeads is done
	kCKey   = []byte("ckey")
	kHolder = []byte("holder")
	kMsgs   = []byte("msgs") // conv/<id>/msgs/<seq>: the transcript before bTranscript (migrateLayout)
)

// Open opens or creates the data file at path and starts the sweeper. It fails
// after a second if another process has the file open.
func Open(path string, o Options) (*Store, error) {
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = min(24*time.Hour, o.Retention)
	}
	if o.EventsRetention <= 0 {
		o.EventsRetention = o.Retention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SweepEvery == 0 {
		o.SweepEvery = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.checkpointEvery <= 0 {
		o.checkpointEvery = checkpointEvery
	}
	if o.logMax <= 0 {
		o.logMax = logFileMax
	}
	if o.heldSyncMax == 0 {
		o.heldSyncMax = heldSyncMax
	}
	// The freelist is rebuilt on open instead of written on every commit.
	// The map reserves address space only: with it, a growing file is not
	// remapped (which copies every page a transaction holds) until it
	// passes InitialMmapSize.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true,
		FreelistType: bolt.FreelistMapType, InitialMmapSize: initialMmapSize})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("embedded: %s is in use by another process: %w", path, bot.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bConvs, bExpiry, bCust, bDedupe, bDexp, bLease, bTimers,
			bTimerQ, bQueue, bHeld, bAgents, bDocs, bDocExp, bDocQ, bEvents, bOutbox, bMeta, bTranscript, bChunks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: init %s: %w", path, err)
	}
	s := &Store{db: db, path: path, retention: o.Retention, events: o.EventsRetention, dedupe: o.DedupeTTL, now: o.Now, log: o.Log}
	for _, migrate := range []func() error{s.migrateLayout, s.migrateHeads} {
		if err := migrate(); err != nil {
			db.Close()
			return nil, fmt.Errorf("embedded: %s: %w", path, err)
		}
	}
	s.laterWait, s.ckEvery, s.logMax, s.heldMax = laterWait, o.checkpointEvery, o.logMax, o.heldSyncMax
	s.flush = time.AfterFunc(time.Hour, s.flushLater)
	s.flush.Stop()
	if err := s.openLog(); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.startLog(ctx)
	if o.SweepEvery > 0 {
		s.wg.Go(func() { s.sweepLoop(ctx, o.SweepEvery) })
	}
	return s, nil
}

// Commits is how many write transactions (each synced to the file) the
// store has made since Open: the group commits, and the rare write that
// is retried alone.
func (s *Store) Commits() int64 { return s.commits.Load() }

// Path is the data file.
func (s *Store) Path() string { return s.path }

// Close refuses new writes, stops the sweeper and the checkpointer, syncs
// the writes logged, folds them into the file, deletes the log and closes
// the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.wmu.Lock()
		s.closed = true
		s.wmu.Unlock()
		s.stop()
		s.wg.Wait()
		s.logWG.Wait()
		s.flush.Stop()
		s.closeErr = s.closeLog()
		if err := s.db.Close(); s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// Checkpoints is how many times logged writes were folded into the file.
func (s *Store) Checkpoints() int64 { return s.checkpoints.Load() }

// Ping reports whether the file is open.
func (s *Store) Ping(ctx context.Context) error {
	return s.view("ping", func(*bolt.Tx) error { return nil })
}

func (s *Store) sweepLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Sweep(ctx); err != nil {
				s.log.Warn("store sweep failed", "err", err)
			} else if n > 0 {
				s.log.Debug("store sweep", "deleted", n)
			}
		}
	}
}

// sweepBatch bounds the work of one write transaction of Sweep.
const sweepBatch = 500

// Sweep deletes what expired by now: conversations (with transcript, claim
// and index entries), dedupe keys, leases, expired documents and events
// older than retention.
// It returns how many items it deleted. The sweeper calls it periodically;
// reads already hide expired data, so calling it is never needed for correctness.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	total := 0
	// No logged write until the sweep is done: it purges what they decide on.
	resume, err := s.stopLog()
	if err != nil {
		return 0, s.wrap("sweep", err)
	}
	defer resume()
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		now := s.now()
		// Its own transaction: the function counts what it deletes.
		refiled := 0
		err := s.wrap("sweep", s.db.Update(func(tx *bolt.Tx) error {
			var entries [][]byte
			c := tx.Bucket(bExpiry).Cursor()
			for k, _ := c.First(); k != nil && len(entries) < sweepBatch && decTime(k) <= now.UnixNano(); k, _ = c.Next() {
				entries = append(entries, bytes.Clone(k))
			}
			for _, k := range entries {
				gone, err := sweepConv(tx, k, now)
				if err != nil {
					return err
				}
				if gone {
					n++
				} else {
					refiled++
				}
			}
			var keys [][]byte
			c = tx.Bucket(bDexp).Cursor()
			for k, _ := c.First(); k != nil && len(keys) < sweepBatch && decTime(k) <= now.UnixNano(); k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				if err := tx.Bucket(bDexp).Delete(k); err != nil {
					return err
				}
				if err := tx.Bucket(bDedupe).Delete(k[8:]); err != nil {
					return err
				}
			}
			n += len(keys)
			keys = keys[:0]
			c = tx.Bucket(bEvents).Cursor()
			cut := now.Add(-s.events).UnixNano()
			for k, _ := c.First(); k != nil && len(keys) < sweepBatch && decTime(k) < cut; k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				if err := tx.Bucket(bEvents).Delete(k); err != nil {
					return err
				}
			}
			n += len(keys)
			keys = keys[:0]
			c = tx.Bucket(bDocQ).Cursor()
			for k, _ := c.First(); k != nil && len(keys) < sweepBatch && decTime(k) <= now.UnixNano(); k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k[8:]))
			}
			for _, name := range keys {
				if err := dropDoc(tx, name); err != nil {
					return err
				}
			}
			n += len(keys)
			keys = keys[:0]
			lb := tx.Bucket(bLease)
			lb.ForEach(func(k, v []byte) error {
				if decTime(v) <= now.UnixNano() {
					keys = append(keys, bytes.Clone(k))
				}
				return nil
			})
			for _, k := range keys {
				if err := lb.Delete(k); err != nil {
					return err
				}
			}
			n += len(keys)
			return nil
		}))
		total += n
		if err != nil || n+refiled < sweepBatch {
			return total, err
		}
	}
}

// sweepConv handles entry k (expiry, conversation ID) of the expiry index,
// due by now: it purges the conversation if it expired, else files it at
// its expiry (it was written since it was filed), or drops a stale entry.
// gone reports a purge.
func sweepConv(tx *bolt.Tx, k []byte, now time.Time) (gone bool, err error) {
	id := k[8:]
	b := keysOf(tx, id)
	if err := b.load(); err != nil {
		return false, err
	}
	if !b.ok || !bytes.Equal(b.h.idx, k[:8]) {
		return false, tx.Bucket(bExpiry).Delete(k)
	}
	if decTime(b.h.exp) > now.UnixNano() {
		if err := file(tx, b, id, bytes.Clone(b.h.exp)); err != nil {
			return false, err
		}
		return false, b.save()
	}
	return true, purge(tx, id)
}

// ---- encoding helpers

// encTime encodes t so that byte order is time order (also before 1970).
func encTime(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^(1<<63))
}

// decTime decodes the first 8 bytes written by encTime, as Unix nanoseconds.
func decTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[:8]) ^ (1 << 63)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// growing returns bucket name of tx set to pack its pages full, for a
// bucket whose keys grow (times, sequences: transcript, events, the expiry
// indexes): its writes append, and a page left half empty (bbolt's
// default) would never fill.
func growing(tx *bolt.Tx, name []byte) *bolt.Bucket {
	b := tx.Bucket(name)
	b.FillPercent = 1
	return b
}

// ---- transactions and errors

func (s *Store) view(op string, fn func(*bolt.Tx) error) error {
	return s.wrap(op, s.db.View(fn))
}

func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("embedded: %s: store closed: %w", op, bot.ErrUnavailable)
	case errors.Is(err, bot.ErrNotFound), errors.Is(err, bot.ErrConflict), errors.Is(err, bot.ErrClaimed):
		return err
	default:
		return fmt.Errorf("embedded: %s: %w", op, err)
	}
}

// ---- conversations

// cv is one conversation's keys, which are kept together in bConvs: the
// conversation's idPrefix, then the key's name: its head (kHead), and
// kCKey and kHolder, which are rarely written. A conversation exists while
// it has a head.
type cv struct {
	b  *bolt.Bucket
	p  []byte
	h  head // read by load; written by save
	ok bool // h is loaded or set: the conversation exists
}

func keysOf(tx *bolt.Tx, id []byte) *cv { return &cv{b: tx.Bucket(bConvs), p: idPrefix(id)} }

// load reads the head.
func (c *cv) load() error {
	v := c.Get(kHead)
	if v == nil {
		c.h, c.ok = head{}, false
		return nil
	}
	h, err := decodeHead(v)
	if err != nil {
		return fmt.Errorf("conversation %q: %w", c.p[2:], err)
	}
	c.h, c.ok = h, true
	return nil
}

// save writes the head (touch does, once a write has changed it).
func (c *cv) save() error { return c.Put(kHead, c.h.encode()) }

func (c *cv) key(name []byte) []byte   { return append(c.p[:len(c.p):len(c.p)], name...) }
func (c *cv) Get(name []byte) []byte   { return c.b.Get(c.key(name)) }
func (c *cv) Put(name, v []byte) error { return c.b.Put(c.key(name), v) }
func (c *cv) Delete(name []byte) error { return c.b.Delete(c.key(name)) }

// drop deletes every key of the conversation.
func (c *cv) drop() error {
	cur := c.b.Cursor()
	for k, _ := cur.Seek(c.p); k != nil && bytes.HasPrefix(k, c.p); k, _ = cur.Seek(c.p) {
		if err := cur.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// conv returns the keys of live conversation id, nil if there is none
// (create: the keys to write it with). An expired one is purged first when
// the transaction is writable.
func (s *Store) conv(tx *bolt.Tx, id bot.ConversationID, create bool) (*cv, error) {
	return s.convAt(tx, id, create, s.now())
}

// convAt is conv with the clock at now.
func (s *Store) convAt(tx *bolt.Tx, id bot.ConversationID, create bool, now time.Time) (*cv, error) {
	b := keysOf(tx, []byte(id))
	if err := b.load(); err != nil {
		return nil, err
	}
	if b.ok && decTime(b.h.exp) <= now.UnixNano() {
		if !tx.Writable() {
			return nil, nil
		}
		if err := purge(tx, []byte(id)); err != nil {
			return nil, err
		}
		b.h, b.ok = head{}, false
	}
	if !b.ok && !create {
		return nil, nil
	}
	return b, nil
}

// touch moves the expiry of conversation b (of id) to now+retention and
// writes its head: every write to a conversation ends with it.
// The expiry index keeps the conversation where it was filed (head.idx) as
// long as that is not later than the expiry, so that a turn writes no index
// page; Sweep files it again at its expiry when it reaches the entry.
func (s *Store) touch(tx *bolt.Tx, b *cv, id bot.ConversationID) error {
	return s.touchAt(tx, b, id, s.now())
}

// touchAt is touch with the clock at now.
func (s *Store) touchAt(tx *bolt.Tx, b *cv, id bot.ConversationID, now time.Time) error {
	if err := s.expireAt(tx, b, id, now); err != nil {
		return err
	}
	return b.save()
}

// expireAt is touchAt without writing the head.
func (s *Store) expireAt(tx *bolt.Tx, b *cv, id bot.ConversationID, now time.Time) error {
	exp := encTime(now.Add(s.retention))
	if b.ok && bytes.Compare(b.h.idx, exp) <= 0 {
		b.h.exp = exp
		return nil
	}
	// New, or the expiry moved earlier (a shorter retention): file it anew.
	return file(tx, b, []byte(id), exp)
}

// file sets the expiry of conversation b (of id) to exp and moves its
// index entry there; the caller saves the head.
func file(tx *bolt.Tx, b *cv, id, exp []byte) error {
	idx := growing(tx, bExpiry)
	if b.ok {
		if err := idx.Delete(cat(b.h.idx, id)); err != nil {
			return err
		}
	}
	b.h.exp, b.h.idx, b.ok = exp, exp, true
	return idx.Put(cat(exp, id), nil)
}

// purge deletes conversation id and its index entries.
func purge(tx *bolt.Tx, id []byte) error {
	b := keysOf(tx, id)
	if err := b.load(); err != nil {
		return err
	}
	if b.ok {
		if err := tx.Bucket(bExpiry).Delete(cat(b.h.idx, id)); err != nil {
			return err
		}
	}
	if ck := b.Get(kCKey); ck != nil {
		if err := tx.Bucket(bCust).Delete(ck); err != nil {
			return err
		}
	}
	if h := b.Get(kHolder); h != nil {
		if err := tx.Bucket(bHeld).Delete(heldKey(string(h), bot.ConversationID(id))); err != nil {
			return err
		}
	}
	if err := deleteOutbox(tx, id); err != nil {
		return err
	}
	if err := deleteMsgs(tx, id, b); err != nil {
		return err
	}
	return b.drop()
}

// Conversation returns the stored conversation or an error wrapping bot.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	s.wmu.Lock()
	sh, logErr := s.convs[string(id)], s.logErr
	var rec []byte
	live := sh != nil && sh.ok && sh.exp > s.now().UnixNano()
	if live {
		rec = sh.rec
	}
	s.wmu.Unlock()
	if logErr != nil {
		return nil, s.wrap("conversation", fmt.Errorf("%w: %w", errLogFailed, logErr))
	}
	if sh != nil {
		if len(rec) == 0 {
			return nil, fmt.Errorf("conversation %q: %w", id, bot.ErrNotFound)
		}
		c, err := s.record(id, rec)
		return c, s.wrap("conversation", err)
	}
	var c *bot.Conversation
	err := s.view("conversation", func(tx *bolt.Tx) error {
		b, err := s.conv(tx, id, false)
		if err != nil {
			return err
		}
		var rec []byte
		if b != nil {
			rec = b.h.rec
		}
		if len(rec) == 0 {
			return fmt.Errorf("conversation %q: %w", id, bot.ErrNotFound)
		}
		c, err = s.record(id, rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// record returns conversation id's record rec decoded, from the record
// cache if it holds rec.
func (s *Store) record(id bot.ConversationID, rec []byte) (*bot.Conversation, error) {
	if c := s.recs.Get(id, rec); c != nil {
		return c, nil
	}
	c := new(bot.Conversation)
	if err := json.Unmarshal(rec, c); err != nil {
		return nil, err
	}
	return c, nil
}

// SaveConversation writes c if c.Version is the stored version (0 for new),
// then increments c.Version; else it fails with an error wrapping bot.ErrConflict.
func (s *Store) SaveConversation(ctx context.Context, c *bot.Conversation) error {
	next := *c
	next.Version++
	rec, err := jsonenc.Marshal(&next)
	if err != nil {
		return fmt.Errorf("embedded: save %q: %w", c.ID, err)
	}
	err = s.exclusive("save", func(tx *bolt.Tx) error { return s.saveTx(tx, c, next.Version, rec) })
	if err == nil {
		c.Version = next.Version
		s.recs.Put(c.ID, rec, next.Clone())
	}
	return err
}

// saveTx writes record rec of c as version next if c.Version is the stored
// version (SaveConversation and Commit).
func (s *Store) saveTx(tx *bolt.Tx, c *bot.Conversation, next int64, rec []byte) error {
	now := s.now()
	created := c.Created
	if created.IsZero() {
		created = now
	}
	b, err := s.saveRec(tx, c.ID, c.Version, c.Customer.ID, created, next, rec, now)
	if err != nil {
		return err
	}
	return s.touch(tx, b, c.ID)
}

// saveRec is saveTx without touch: it sets record rec of conversation id
// (of customer, created then) as version next if ver is the stored
// version, in the head of the conversation's keys, which it returns, and
// the caller's touch writes it.
func (s *Store) saveRec(tx *bolt.Tx, id bot.ConversationID, ver int64, customer string, created time.Time, next int64, rec []byte, now time.Time) (*cv, error) {
	b, err := s.convAt(tx, id, true, now)
	if err != nil {
		return nil, err
	}
	return b, setRec(tx, b, id, ver, customer, created, next, rec)
}

// setRec is saveRec on the keys b of conversation id.
func setRec(tx *bolt.Tx, b *cv, id bot.ConversationID, ver int64, customer string, created time.Time, next int64, rec []byte) error {
	cur := int64(b.h.ver)
	if cur != ver {
		return refuse(fmt.Errorf("conversation %q: version %d, stored %d: %w", id, ver, cur, bot.ErrConflict))
	}
	if cur == 0 && customer != "" {
		ck := cat([]byte(customer), []byte{0}, encTime(created), []byte(id))
		if err := tx.Bucket(bCust).Put(ck, nil); err != nil {
			return err
		}
		if err := b.Put(kCKey, ck); err != nil {
			return err
		}
	}
	b.h.rec, b.h.ver = rec, uint64(next)
	return nil
}

// CustomerConversations lists a customer's live conversations, oldest first.
func (s *Store) CustomerConversations(ctx context.Context, customerID string) ([]bot.ConversationID, error) {
	var ids []bot.ConversationID
	err := s.settled("customer conversations", func(tx *bolt.Tx) error {
		prefix := append([]byte(customerID), 0)
		c := tx.Bucket(bCust).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := bot.ConversationID(k[len(prefix)+8:])
			if b, _ := s.conv(tx, id, false); b != nil {
				ids = append(ids, id)
			}
		}
		return nil
	})
	return ids, err
}

// ---- transcripts

// Append adds msgs to the end of the transcript of id, one key per message.
func (s *Store) Append(ctx context.Context, id bot.ConversationID, msgs ...bot.Message) error {
	vals := make([][]byte, len(msgs))
	for i := range msgs {
		v, err := jsonenc.Marshal(&msgs[i])
		if err != nil {
			return fmt.Errorf("embedded: append %q: %w", id, err)
		}
		vals[i] = v
	}
	return s.exclusive("append", func(tx *bolt.Tx) error { return s.appendTx(tx, id, vals) })
}

// appendTx appends the encoded messages vals to the transcript of id.
func (s *Store) appendTx(tx *bolt.Tx, id bot.ConversationID, vals [][]byte) error {
	b, err := s.conv(tx, id, true)
	if err != nil {
		return err
	}
	if err := appendTo(tx, []byte(id), b, vals); err != nil {
		return err
	}
	return s.touch(tx, b, id)
}

// Transcript returns the last n messages of id, oldest first (all if n <= 0).
func (s *Store) Transcript(ctx context.Context, id bot.ConversationID, n int) ([]bot.Message, error) {
	out := []bot.Message{}
	err := s.settled("transcript", func(tx *bolt.Tx) error {
		b, err := s.conv(tx, id, false)
		if b == nil {
			return err
		}
		vals, err := lastMsgs(tx, []byte(id), b, n)
		if err != nil {
			return err
		}
		out = make([]bot.Message, len(vals))
		for i, v := range vals {
			if err := json.Unmarshal(v, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- dedupe

// FirstSeen records key for ttl (the store's DedupeTTL if ttl <= 0) and
// reports whether this call was the first to see it within that time: a
// logged write when it was.
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		ttl = s.dedupe
	}
	first := false
	g, err := s.logged("", key, func(_ *shadow, k *seenKey, now int64) (*op, error) {
		if k.exp > now {
			return nil, nil
		}
		first = true
		k.exp = now + int64(ttl)
		return &op{kind: opSeen, key: key, ttl: int64(ttl)}, nil
	}, nil)
	if err == nil {
		err = g.wait()
	}
	return first, s.wrap("first seen", err)
}

// firstSeen is a logged FirstSeen, replayed (checkpoint).
func (s *Store) firstSeen(tx *bolt.Tx, key string, ttl time.Duration, now time.Time) (bool, error) {
	db, idx := tx.Bucket(bDedupe), growing(tx, bDexp)
	if old := db.Get([]byte(key)); old != nil {
		if decTime(old) > now.UnixNano() {
			return false, nil
		}
		if err := idx.Delete(cat(old, []byte(key))); err != nil {
			return false, err
		}
	}
	exp := encTime(now.Add(ttl))
	if err := db.Put([]byte(key), exp); err != nil {
		return false, err
	}
	return true, idx.Put(cat(exp, []byte(key)), nil)
}

// ---- docs

// docBucket returns the bucket of document name, nil if there is none or it
// has expired.
func (s *Store) docBucket(tx *bolt.Tx, name string) *bolt.Bucket {
	if exp := tx.Bucket(bDocExp).Get([]byte(name)); exp != nil && decTime(exp) <= s.now().UnixNano() {
		return nil
	}
	return tx.Bucket(bDocs).Bucket([]byte(name))
}

// clearDocExpiry removes the expiry of document name and its sweep entry.
func clearDocExpiry(tx *bolt.Tx, name []byte) error {
	exp := tx.Bucket(bDocExp).Get(name)
	if exp == nil {
		return nil
	}
	if err := tx.Bucket(bDocQ).Delete(cat(exp, name)); err != nil {
		return err
	}
	return tx.Bucket(bDocExp).Delete(name)
}

// dropDoc deletes document name, every version, and its expiry entries.
func dropDoc(tx *bolt.Tx, name []byte) error {
	if err := clearDocExpiry(tx, name); err != nil {
		return err
	}
	if err := tx.Bucket(bDocs).DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// Doc returns the latest version of name, or an error wrapping bot.ErrNotFound.
func (s *Store) Doc(ctx context.Context, name string) (bot.Doc, error) {
	var d bot.Doc
	err := s.view("doc", func(tx *bolt.Tx) error {
		if b := s.docBucket(tx, name); b != nil {
			if _, v := b.Cursor().Last(); v != nil {
				return json.Unmarshal(v, &d)
			}
		}
		return fmt.Errorf("doc %q: %w", name, bot.ErrNotFound)
	})
	return d, err
}

// DocAt returns one version of name, or an error wrapping bot.ErrNotFound.
func (s *Store) DocAt(ctx context.Context, name string, version int64) (bot.Doc, error) {
	var d bot.Doc
	err := s.view("doc", func(tx *bolt.Tx) error {
		if b := s.docBucket(tx, name); b != nil {
			if v := b.Get(binary.BigEndian.AppendUint64(nil, uint64(version))); v != nil {
				return json.Unmarshal(v, &d)
			}
		}
		return fmt.Errorf("doc %q version %d: %w", name, version, bot.ErrNotFound)
	})
	return d, err
}

// DocVersion returns the latest version number of name, 0 if none.
func (s *Store) DocVersion(ctx context.Context, name string) (int64, error) {
	var n int64
	err := s.view("doc version", func(tx *bolt.Tx) error {
		n = s.docVersion(tx, name)
		return nil
	})
	return n, err
}

func (s *Store) docVersion(tx *bolt.Tx, name string) int64 {
	if b := s.docBucket(tx, name); b != nil {
		if k, _ := b.Cursor().Last(); k != nil {
			return int64(binary.BigEndian.Uint64(k))
		}
	}
	return 0
}

// PutDoc stores d as version expect+1 if the latest version is expect, else
// it fails with an error wrapping bot.ErrConflict. At defaults to now.
func (s *Store) PutDoc(ctx context.Context, d bot.Doc, expect int64) (bot.Doc, error) {
	d.Version = expect + 1
	if d.At.IsZero() {
		d.At = s.now().UTC()
	}
	v, err := jsonenc.Marshal(&d)
	if err != nil {
		return bot.Doc{}, fmt.Errorf("embedded: put doc %q: %w", d.Name, err)
	}
	name := []byte(d.Name)
	err = s.update("put doc", func(tx *bolt.Tx) error {
		if cur := s.docVersion(tx, d.Name); cur != expect {
			return refuse(fmt.Errorf("doc %q: version %d, expected %d: %w", d.Name, cur, expect, bot.ErrConflict))
		} else if cur == 0 {
			if err := dropDoc(tx, name); err != nil { // an expired one, not swept yet
				return err
			}
		}
		b, err := tx.Bucket(bDocs).CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		if err := b.Put(binary.BigEndian.AppendUint64(nil, uint64(d.Version)), v); err != nil {
			return err
		}
		if err := clearDocExpiry(tx, name); err != nil {
			return err
		}
		if d.Expires.IsZero() {
			return nil
		}
		exp := encTime(d.Expires)
		if err := tx.Bucket(bDocExp).Put(name, exp); err != nil {
			return err
		}
		return tx.Bucket(bDocQ).Put(cat(exp, name), nil)
	})
	if err != nil {
		return bot.Doc{}, err
	}
	return d, nil
}

// DocHistory lists up to limit versions of name (all if limit <= 0), newest
// first, without Data.
func (s *Store) DocHistory(ctx context.Context, name string, limit int) ([]bot.Doc, error) {
	var out []bot.Doc
	err := s.view("doc history", func(tx *bolt.Tx) error {
		b := s.docBucket(tx, name)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var d bot.Doc
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			d.Data = nil
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// ---- events

// RecordEvent appends e (At defaults to now) to the log.
func (s *Store) RecordEvent(ctx context.Context, e bot.Event) error {
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	v, err := jsonenc.Marshal(&e)
	if err != nil {
		return fmt.Errorf("embedded: record event: %w", err)
	}
	return s.update("record event", func(tx *bolt.Tx) error {
		b := growing(tx, bEvents)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(encTime(e.At), seq), v)
	})
}

// Events returns the events with since <= At < until, oldest first, among
// those younger than the events retention.
func (s *Store) Events(ctx context.Context, since, until time.Time) ([]bot.Event, error) {
	if cut := s.now().Add(-s.events); since.Before(cut) {
		since = cut
	}
	var out []bot.Event
	err := s.settled("events", func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(encTime(since)); k != nil && decTime(k) < until.UnixNano(); k, v = c.Next() {
			var e bot.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// ---- leases

// Lease acquires or renews name for owner until now+ttl and reports whether
// owner holds it after the call.
func (s *Store) Lease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	held := false
	err := s.update("lease", func(tx *bolt.Tx) error {
		held = false // the function may run again (group commit)
		b := tx.Bucket(bLease)
		now := s.now()
		if v := b.Get([]byte(name)); v != nil && decTime(v) > now.UnixNano() && string(v[8:]) != owner {
			return nil
		}
		held = true
		return b.Put([]byte(name), cat(encTime(now.Add(ttl)), []byte(owner)))
	})
	return held, err
}

// Unlease gives name up if owner holds it.
func (s *Store) Unlease(ctx context.Context, name, owner string) error {
	return s.update("unlease", func(tx *bolt.Tx) error {
		b := tx.Bucket(bLease)
		if v := b.Get([]byte(name)); v != nil && string(v[8:]) == owner {
			return b.Delete([]byte(name))
		}
		return nil
	})
}

// ---- timers

// Schedule stores t, replacing a timer with the same key.
func (s *Store) Schedule(ctx context.Context, t bot.Timer) error {
	v, err := jsonenc.Marshal(&t)
	if err != nil {
		return fmt.Errorf("embedded: schedule %q: %w", t.Key, err)
	}
	return s.update("schedule", func(tx *bolt.Tx) error {
		if err := cancelTimer(tx, t.Key); err != nil {
			return err
		}
		if err := tx.Bucket(bTimers).Put([]byte(t.Key), v); err != nil {
			return err
		}
		return tx.Bucket(bTimerQ).Put(cat(encTime(t.At), []byte(t.Key)), nil)
	})
}

// Cancel deletes the timer key; a missing one is not an error.
func (s *Store) Cancel(ctx context.Context, key string) error {
	return s.update("cancel", func(tx *bolt.Tx) error { return cancelTimer(tx, key) })
}

func cancelTimer(tx *bolt.Tx, key string) error {
	b := tx.Bucket(bTimers)
	v := b.Get([]byte(key))
	if v == nil {
		return nil
	}
	var old bot.Timer
	if err := json.Unmarshal(v, &old); err != nil {
		return err
	}
	if err := tx.Bucket(bTimerQ).Delete(cat(encTime(old.At), []byte(key))); err != nil {
		return err
	}
	return b.Delete([]byte(key))
}

// Due removes and returns up to n timers (all if n <= 0) with At <= now,
// earliest first. Writers are serialized, so no two callers get the same timer.
func (s *Store) Due(ctx context.Context, now time.Time, n int) ([]bot.Timer, error) {
	var out []bot.Timer
	// Most ticks find nothing due: look in a read transaction first, so an
	// idle desk costs no disk sync.
	due := false
	if err := s.view("due", func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bTimerQ).Cursor().First()
		due = k != nil && decTime(k) <= now.UnixNano()
		return nil
	}); err != nil || !due {
		return nil, err
	}
	err := s.update("due", func(tx *bolt.Tx) error {
		out = out[:0]
		var keys [][]byte
		c := tx.Bucket(bTimerQ).Cursor()
		for k, _ := c.First(); k != nil && decTime(k) <= now.UnixNano() && (n <= 0 || len(keys) < n); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			var t bot.Timer
			if err := json.Unmarshal(tx.Bucket(bTimers).Get(k[8:]), &t); err != nil {
				return err
			}
			if err := cancelTimer(tx, t.Key); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// ---- the desk

// Enqueue adds or replaces the queue entry of e.Conv.
func (s *Store) Enqueue(ctx context.Context, e handoff.Entry) error {
	v, err := jsonenc.Marshal(&e)
	if err != nil {
		return fmt.Errorf("embedded: enqueue %q: %w", e.Conv, err)
	}
	return s.update("enqueue", func(tx *bolt.Tx) error { return tx.Bucket(bQueue).Put([]byte(e.Conv), v) })
}

// Dequeue removes id from the queue; a missing entry is not an error.
func (s *Store) Dequeue(ctx context.Context, id bot.ConversationID) error {
	return s.update("dequeue", func(tx *bolt.Tx) error { return tx.Bucket(bQueue).Delete([]byte(id)) })
}

// Queue lists waiting conversations by priority (high first), then age.
func (s *Store) Queue(ctx context.Context) ([]handoff.Entry, error) {
	var out []handoff.Entry
	err := s.view("queue", func(tx *bolt.Tx) error {
		return tx.Bucket(bQueue).ForEach(func(_, v []byte) error {
			var e handoff.Entry
			err := json.Unmarshal(v, &e)
			out = append(out, e)
			return err
		})
	})
	sortQueue(out)
	return out, err
}

// sortQueue orders entries by priority (high first), then Since (old first),
// then conversation ID.
func sortQueue(q []handoff.Entry) {
	slices.SortStableFunc(q, func(a, b handoff.Entry) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.Conv), []byte(b.Conv))
	})
}

func heldKey(agent string, id bot.ConversationID) []byte {
	return cat([]byte(agent), []byte{0}, []byte(id))
}

// Claim gives id to agent and removes it from the queue in one transaction;
// it fails with an error wrapping bot.ErrClaimed if another agent holds it.
func (s *Store) Claim(ctx context.Context, id bot.ConversationID, agent string) error {
	return s.exclusive("claim", func(tx *bolt.Tx) error {
		b, err := s.conv(tx, id, true)
		if err != nil {
			return err
		}
		if h := b.Get(kHolder); h != nil && string(h) != agent {
			return refuse(fmt.Errorf("conversation %q is held by %s: %w", id, h, bot.ErrClaimed))
		}
		if err := b.Put(kHolder, []byte(agent)); err != nil {
			return err
		}
		if err := tx.Bucket(bHeld).Put(heldKey(agent, id), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bQueue).Delete([]byte(id)); err != nil {
			return err
		}
		return s.touch(tx, b, id)
	})
}

// Holder returns the agent holding id, "" if none.
func (s *Store) Holder(ctx context.Context, id bot.ConversationID) (string, error) {
	var h string
	err := s.settled("holder", func(tx *bolt.Tx) error {
		if b, _ := s.conv(tx, id, false); b != nil {
			h = string(b.Get(kHolder))
		}
		return nil
	})
	return h, err
}

// Unclaim releases id if agent holds it.
func (s *Store) Unclaim(ctx context.Context, id bot.ConversationID, agent string) error {
	return s.exclusive("unclaim", func(tx *bolt.Tx) error {
		b, err := s.conv(tx, id, false)
		if err != nil || b == nil || string(b.Get(kHolder)) != agent {
			return err
		}
		if err := b.Delete(kHolder); err != nil {
			return err
		}
		return tx.Bucket(bHeld).Delete(heldKey(agent, id))
	})
}

// Held lists the conversations agent holds, sorted by ID.
func (s *Store) Held(ctx context.Context, agent string) ([]bot.ConversationID, error) {
	var out []bot.ConversationID
	err := s.settled("held", func(tx *bolt.Tx) error {
		out = s.held(tx, agent)
		return nil
	})
	return out, err
}

func (s *Store) held(tx *bolt.Tx, agent string) []bot.ConversationID {
	var out []bot.ConversationID
	prefix := append([]byte(agent), 0)
	c := tx.Bucket(bHeld).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := bot.ConversationID(k[len(prefix):])
		if b, _ := s.conv(tx, id, false); b != nil && string(b.Get(kHolder)) == agent {
			out = append(out, id)
		}
	}
	return out
}

// PutAgent creates or updates an agent (Active is ignored).
func (s *Store) PutAgent(ctx context.Context, a handoff.Agent) error {
	a.Active = 0
	v, err := jsonenc.Marshal(&a)
	if err != nil {
		return fmt.Errorf("embedded: put agent %q: %w", a.ID, err)
	}
	return s.update("put agent", func(tx *bolt.Tx) error { return tx.Bucket(bAgents).Put([]byte(a.ID), v) })
}

// Agents lists agents sorted by ID, with Active counted from their claims.
func (s *Store) Agents(ctx context.Context) ([]handoff.Agent, error) {
	var out []handoff.Agent
	err := s.view("agents", func(tx *bolt.Tx) error {
		return tx.Bucket(bAgents).ForEach(func(_, v []byte) error {
			var a handoff.Agent
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			a.Active = len(s.held(tx, a.ID))
			out = append(out, a)
			return nil
		})
	})
	return out, err
}
