package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
)

// Inbox is the durable inbound queue (bot.Inbox) on Redis Streams, for
// several replicas. Keys, with the default prefix:
//
//	sb:{in:07}:s       stream of partition 7; consumer group "bot"
//	sb:{in:07}:d:KEY   dedupe of platform event KEY (SET NX, in Put's script)
//	sb:{in}:members    zset replica → heartbeat deadline (ms)
//	sb:lease:in:07     the lease of the replica working partition 7
//
// A conversation always maps to the same partition (FNV-1a of its ID mod
// Partitions), so its events keep their order in one stream. Every
// partition is worked by exactly one replica at a time: the live replica
// that wins rendezvous hashing over the members zset, holding a lease. It
// handles a batch of entries with one goroutine per conversation (in
// order), acks the batch, and reads on; while this replica is the only
// live member on one server, puts claim the entries for the worker
// instead (claim.go). A replica that takes a partition
// over first claims (XAUTOCLAIM, MinIdle) the entries left pending by a dead
// one and handles them before new ones. Put's dedupe key and the stream
// share the partition's hash tag, so a Cluster runs every script on one slot.
type Inbox struct {
	s     *Store
	o     InboxOptions
	parts []*part     // claim state by partition (claim.go)
	alone atomic.Bool // this replica is the only live member
}

// InboxOptions tune an Inbox. Zero values get the defaults.
type InboxOptions struct {
	// Partitions is the number of streams (default 16). Keep it fixed while
	// entries are queued: changing it moves conversations between streams.
	Partitions int
	// Replica names this process as a consumer; default host-pid-random. It
	// must be unique among live replicas.
	Replica string
	// LeaseTTL is how long a silent replica keeps its partitions and its
	// membership (default 10s): the takeover time after a crash.
	LeaseTTL time.Duration
	// MinIdle is how long an entry must have been pending before another
	// replica claims it (XAUTOCLAIM; default 15s). Keep it above the longest
	// turn, or a slow turn is handled twice (still answered once).
	MinIdle time.Duration
	// Batch is how many entries a partition reads at once (default 64).
	Batch int
	// Block bounds one blocking read (default 2s).
	Block time.Duration
	// ClaimPoll is how often a worker taking claims (this replica alone)
	// looks for entries nobody claimed: those of a replica that joined and
	// is not seen yet wait this long at most (default 500ms).
	ClaimPoll time.Duration
	// DedupeTTL is how long Put remembers platform keys (default: the
	// store's DedupeTTL).
	DedupeTTL time.Duration
	// MaxLen caps a stream approximately (default 1,000,000 entries); acked
	// entries are trimmed anyway.
	MaxLen int64
}

const inboxGroup = "bot"

var _ bot.Inbox = (*Inbox)(nil)

// NewInbox returns the inbox on s's Redis.
func (s *Store) NewInbox(o InboxOptions) *Inbox {
	if o.Partitions <= 0 {
		o.Partitions = 16
	}
	if o.Replica == "" {
		h, _ := os.Hostname()
		o.Replica = fmt.Sprintf("%s-%d-%04x", h, os.Getpid(), rand.Uint32()&0xffff)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.MinIdle <= 0 {
		o.MinIdle = 15 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	if o.ClaimPoll <= 0 {
		o.ClaimPoll = 500 * time.Millisecond
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = s.dedupe
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 1_000_000
	}
	ib := &Inbox{s: s, o: o, parts: make([]*part, o.Partitions)}
	for i := range ib.parts {
		ib.parts[i] = &part{kick: make(chan struct{}, 1)}
	}
	return ib
}

// Replica is this inbox's consumer name.
func (ib *Inbox) Replica() string { return ib.o.Replica }

// Partition is the partition of conversation id.
func (ib *Inbox) Partition(id bot.ConversationID) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(ib.o.Partitions))
}

func (ib *Inbox) tag(p int) string       { return ib.s.p + fmt.Sprintf("{in:%02d}", p) }
func (ib *Inbox) streamKey(p int) string { return ib.tag(p) + ":s" }
func (ib *Inbox) membersKey() string     { return ib.s.p + "{in}:members" }
func leaseName(p int) string             { return fmt.Sprintf("in:%02d", p) }

// StreamKey is the key of partition p's stream (tests, operations).
func (ib *Inbox) StreamKey(p int) string { return ib.streamKey(p) }

// inWire is an Inbound in a stream entry (Ack is not stored).
type inWire struct {
	Key string      `json:"k,omitempty"`
	Msg bot.Message `json:"m"`
}

// putScript: KEYS stream, dedupe; ARGV dedupe pxat, use dedupe (1/0),
// maxlen, entry, conversation key (readConvsScript). Returns the entry ID,
// or nil for a duplicate.
var putScript = redis.NewScript(`
if ARGV[2] == '1' and not redis.call('SET', KEYS[2], '1', 'NX', 'PXAT', ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'in', ARGV[4], 'c', ARGV[5])`)

// Put adds in to its conversation's stream unless in.Key was Put within
// DedupeTTL (dup), in one script: dedupe and append are atomic.
func (ib *Inbox) Put(ctx context.Context, in bot.Inbound) (bool, error) {
	dup, err := ib.PutAll(ctx, []bot.Inbound{in})
	if err != nil {
		return false, err
	}
	return dup[0], nil
}

var _ bot.InboxBatcher = (*Inbox)(nil)

// PutAll is Put for each of ins, in order, in one pipeline. A put into a
// partition whose worker takes claims (claim.go) also claims its entry for
// that worker, and carries the worker's acks.
func (ib *Inbox) PutAll(ctx context.Context, ins []bot.Inbound) ([]bool, error) {
	type put struct {
		p      int
		script *redis.Script
		keys   []string
		args   []any
	}
	puts := make([]put, len(ins))
	ps := make([]int, len(ins))
	at := ib.s.now().Add(ib.o.DedupeTTL).UnixMilli()
	for i, in := range ins {
		b, err := jsonenc.Marshal(&inWire{Key: in.Key, Msg: in.Msg})
		if err != nil {
			return nil, fmt.Errorf("redisstore: inbox put: %w", err)
		}
		cid := in.Msg.From.ConversationID()
		p := ib.Partition(cid)
		use := "0"
		if in.Key != "" {
			use = "1"
		}
		ps[i] = p
		puts[i] = put{p, putScript, []string{ib.streamKey(p), ib.tag(p) + ":d:" + in.Key}, []any{at, use, ib.o.MaxLen, b, ib.s.convKeys(cid)[0]}}
	}
	claims, skipped := ib.lockClaims(ps)
	defer func() {
		for _, lp := range claims {
			lp.claimMu.Unlock()
		}
		ib.wake(skipped)
	}()
	for i := range puts {
		if claims[puts[i].p] != nil {
			puts[i].script = claimPutScript
			puts[i].args = append(puts[i].args, inboxGroup, ib.o.Replica, ib.o.Batch)
		}
	}
	acks := map[int][]string{}
	if ib.s.single {
		for part, lp := range ib.parts {
			if a := lp.takeAcks(); len(a) > 0 {
				acks[part] = a
			}
		}
	}
	// The outbox removals queued meanwhile ride along, ahead of the events
	// (one server: their scripts span slots), and so do the claimers' acks.
	var done []doneItem
	var doneCmds []*redis.Cmd
	if ib.s.single {
		done = ib.s.takeDone()
	}
	ackCmds := map[int]*redis.IntCmd{}
	cmds := make([]*redis.Cmd, len(ins))
	if len(ins) > 1 || len(done) > 0 || len(acks) > 0 {
		_, _ = ib.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			doneCmds = ib.s.pipeDone(ctx, p, done)
			for part, ids := range acks {
				ackCmds[part] = p.XAck(ctx, ib.streamKey(part), inboxGroup, ids...)
			}
			for i, x := range puts {
				cmds[i] = x.script.EvalSha(ctx, p, x.keys, x.args...)
			}
			return nil
		}) // each command's error is read from it
		ib.s.finishDone(ctx, done, doneCmds)
	}
	for part, c := range ackCmds {
		if c.Err() != nil { // handled again after a restart otherwise; skipped by Seq
			ib.parts[part].addAcks(acks[part], nil)
		}
	}
	dup := make([]bool, len(ins))
	got := map[int][]claimed{}
	var failed error
	for i, c := range cmds {
		x := puts[i]
		if failed == nil && (c == nil || c.Err() != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT")) { // alone, or not cached yet: not run
			c = x.script.Run(ctx, ib.s.rdb, x.keys, x.args...)
		}
		if c == nil {
			continue
		}
		switch err := c.Err(); {
		case errors.Is(err, redis.Nil):
			dup[i] = true
		case err != nil:
			failed = cmp.Or(failed, err)
		case x.script == claimPutScript: // even after a failure: claimed entries must be handled
			if vals, err := c.Slice(); err == nil && len(vals) > 0 {
				got[x.p] = append(got[x.p], parseClaims(vals[1:])...)
			}
			if cs := got[x.p]; len(cs) > 0 {
				claims[x.p].last = cs[len(cs)-1].msg.ID
			}
		}
	}
	for part, cs := range got {
		claims[part].push(cs)
	}
	if failed != nil {
		return nil, ib.s.wrap("inbox put", failed)
	}
	return dup, nil
}

var _ bot.InboxPending = (*Inbox)(nil)

// Pending is how many entries of all partitions are not acked yet: read
// by a consumer and not acked, or not read yet (XINFO GROUPS: pending and
// lag; the whole stream while no consumer has ever read it).
func (ib *Inbox) Pending(ctx context.Context) (int64, error) {
	groups := make([]*redis.XInfoGroupsCmd, ib.o.Partitions)
	lens := make([]*redis.IntCmd, ib.o.Partitions)
	ib.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range groups {
			groups[i] = p.XInfoGroups(ctx, ib.streamKey(i))
			lens[i] = p.XLen(ctx, ib.streamKey(i))
		}
		return nil
	}) // each command's error is read from it
	var n int64
	for i, c := range groups {
		gs, err := c.Result()
		if redis.HasErrorPrefix(err, "no such key") {
			continue // nothing was ever put in that partition
		}
		if err != nil {
			return 0, ib.s.wrap("inbox pending", err)
		}
		g := slices.IndexFunc(gs, func(g redis.XInfoGroup) bool { return g.Name == inboxGroup })
		switch {
		case g < 0:
			n += lens[i].Val()
		case gs[g].Lag < 0: // unknown
			n += gs[g].Pending
		default:
			n += gs[g].Pending + gs[g].Lag
		}
	}
	return n, nil
}

// owner returns the rendezvous winner of partition p among members.
func owner(p int, members []string) string {
	best, bestH := "", uint64(0)
	for _, m := range members {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s", p, m)
		if v := h.Sum64(); best == "" || v > bestH {
			best, bestH = m, v
		}
	}
	return best
}

// partWorker is one partition worked by this replica.
type partWorker struct {
	cancel  context.CancelFunc
	done    chan struct{}
	renewed time.Time // last successful lease renewal
}

// Consume implements bot.Inbox: it keeps this replica's membership and
// partition leases, and works its partitions until ctx is canceled. Then
// it finishes the batches in flight, acks them, gives its leases and
// membership up (others take over at once) and returns nil.
func (ib *Inbox) Consume(ctx context.Context, handle func(context.Context, bot.Delivery) error) error {
	workers := map[int]*partWorker{}
	var wg sync.WaitGroup
	tick := time.NewTicker(ib.o.LeaseTTL / 4)
	defer tick.Stop()
	defer func() {
		for _, w := range workers {
			w.cancel()
		}
		// Keep the leases while the batches in flight finish, so nobody
		// claims entries that are still being handled.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		bg := context.WithoutCancel(ctx)
		for waiting := true; waiting; {
			select {
			case <-done:
				waiting = false
			case <-tick.C:
				ib.s.rdb.ZAdd(bg, ib.membersKey(), redis.Z{Score: float64(ib.s.now().Add(ib.o.LeaseTTL).UnixMilli()), Member: ib.o.Replica})
				for p := range workers {
					ib.s.Lease(bg, leaseName(p), ib.o.Replica, ib.o.LeaseTTL)
				}
			}
		}
		bg, cancel := context.WithTimeout(bg, 2*time.Second)
		defer cancel()
		for p := range workers {
			if err := ib.s.Unlease(bg, leaseName(p), ib.o.Replica); err != nil {
				ib.s.log.Debug("inbox: unlease", "partition", p, "err", err)
			}
		}
		if err := ib.s.rdb.ZRem(bg, ib.membersKey(), ib.o.Replica).Err(); err != nil {
			ib.s.log.Debug("inbox: leave", "err", err)
		}
	}()
	for {
		ib.balance(ctx, workers, &wg, handle)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// balance renews membership and leases, starts workers for the partitions
// this replica should own and stops the others.
func (ib *Inbox) balance(ctx context.Context, workers map[int]*partWorker, wg *sync.WaitGroup, handle func(context.Context, bot.Delivery) error) {
	now := ib.s.now()
	stop := func(p int, release bool) {
		w := workers[p]
		w.cancel()
		delete(workers, p)
		if release {
			wg.Go(func() {
				<-w.done
				bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				defer cancel()
				ib.s.Unlease(bg, leaseName(p), ib.o.Replica)
			})
		}
	}
	for p, w := range workers {
		select {
		case <-w.done: // stopped by itself
			stop(p, true)
		default:
		}
	}
	var members *redis.StringSliceCmd
	_, err := ib.s.rdb.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		pp.ZAdd(ctx, ib.membersKey(), redis.Z{Score: float64(now.Add(ib.o.LeaseTTL).UnixMilli()), Member: ib.o.Replica})
		pp.ZRemRangeByScore(ctx, ib.membersKey(), "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10))
		members = pp.ZRange(ctx, ib.membersKey(), 0, -1)
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			ib.s.log.Warn("inbox: heartbeat", "err", err)
		}
		for p, w := range workers { // unsure whether we still own them
			if now.Sub(w.renewed) > ib.o.LeaseTTL*2/3 {
				stop(p, false)
			}
		}
		return
	}
	live := members.Val()
	sort.Strings(live)
	alone := len(live) == 1 && live[0] == ib.o.Replica
	if ib.alone.Swap(alone) != alone {
		for _, lp := range ib.parts { // workers switch between reads and claims
			lp.poke()
		}
	}
	for p := range ib.o.Partitions {
		w := workers[p]
		if owner(p, live) != ib.o.Replica {
			if w != nil {
				stop(p, true)
			}
			continue
		}
		ok, err := ib.s.Lease(ctx, leaseName(p), ib.o.Replica, ib.o.LeaseTTL)
		switch {
		case err != nil:
			if w != nil && now.Sub(w.renewed) > ib.o.LeaseTTL*2/3 {
				stop(p, false)
			}
		case !ok:
			if w != nil {
				stop(p, false)
			}
		case w != nil:
			w.renewed = now
		default:
			wctx, cancel := context.WithCancel(ctx)
			w = &partWorker{cancel: cancel, done: make(chan struct{}), renewed: now}
			workers[p] = w
			wg.Go(func() {
				defer close(w.done)
				ib.work(wctx, p, handle)
			})
		}
	}
}

// work handles partition p until ctx is done: first the entries other
// consumers left pending (claimed once idle for MinIdle), then its own
// pending ones, then new ones, in stream order.
func (ib *Inbox) work(ctx context.Context, p int, handle func(context.Context, bot.Delivery) error) {
	rdb, stream, me := ib.s.rdb, ib.streamKey(p), ib.o.Replica
	log := ib.s.log.With("partition", p)
	retry := func() bool { return sleep(ctx, 200*time.Millisecond) }
	for {
		err := rdb.XGroupCreateMkStream(ctx, stream, inboxGroup, "0").Err()
		if err == nil || redis.HasErrorPrefix(err, "BUSYGROUP") {
			break
		}
		log.Warn("inbox: create group", "err", err)
		if !retry() {
			return
		}
	}
	// Take over what dead consumers left pending.
	for start := time.Now(); ; {
		claimed := 0
		cur := "0-0"
		for {
			msgs, next, err := rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: inboxGroup,
				Consumer: me, MinIdle: ib.o.MinIdle, Start: cur, Count: 100}).Result()
			if err != nil {
				break
			}
			claimed += len(msgs)
			if next == "0-0" || next == "" {
				break
			}
			cur = next
		}
		sum, err := rdb.XPending(ctx, stream, inboxGroup).Result()
		if err != nil {
			if !retry() {
				return
			}
			continue
		}
		others := sum.Count - sum.Consumers[me]
		if claimed > 0 {
			log.Info("inbox: claimed entries of a dead consumer", "entries", claimed)
		}
		if others <= 0 {
			ib.dropIdleConsumers(ctx, stream, sum.Consumers)
			break
		}
		if time.Since(start) < 100*time.Millisecond {
			log.Info("inbox: waiting for entries of another consumer to become claimable", "entries", others, "min_idle", ib.o.MinIdle)
		}
		if !sleep(ctx, min(ib.o.MinIdle/4, 500*time.Millisecond)) {
			return
		}
	}
	id := "0" // own pending entries first, then new ones
	var lastTrim time.Time
	var ack []string // handled entries, acked with the next read
	defer func() { ib.ack(ctx, stream, ack) }()
	for ctx.Err() == nil {
		if id == ">" && ib.s.single && ib.alone.Load() {
			var ok bool
			if ack, ok = ib.workClaims(ctx, p, stream, ack, handle); !ok {
				return
			}
			continue
		}
		block := ib.o.Block
		if id == "0" {
			block = -1 // history: never block
		}
		// The read is not canceled with ctx: entries it takes become this
		// consumer's, so it handles them before stopping rather than
		// stranding them until MinIdle. Block bounds the wait.
		rctx := context.WithoutCancel(ctx)
		args := &redis.XReadGroupArgs{Group: inboxGroup, Consumer: me, Streams: []string{stream, id}, Count: int64(ib.o.Batch), Block: block}
		var read *redis.XStreamSliceCmd
		var convs *redis.Cmd
		if len(ack) > 0 || ib.s.single {
			// The last batch's ack goes with the next read, and on one
			// server the batch's conversations are read right after it,
			// when Redis serves the read: one round trip. A pipeline waits
			// ReadTimeout (3s) at most, so block less.
			pa := *args
			pa.Block = min(pa.Block, 2*time.Second)
			var acked *redis.IntCmd
			rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
				if len(ack) > 0 {
					acked = p.XAck(rctx, stream, inboxGroup, ack...)
				}
				read = p.XReadGroup(rctx, &pa)
				if ib.s.single {
					convs = readConvsScript.EvalSha(rctx, p, []string{stream}, inboxGroup, me, ib.o.Batch, "-")
				}
				return nil
			}) // each command's error is read from it
			if acked != nil && acked.Err() != nil {
				ib.ack(ctx, stream, ack)
			}
			ack = nil
		} else {
			read = rdb.XReadGroup(rctx, args)
		}
		res, err := read.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("inbox: read", "err", err)
				retry()
			}
			continue
		}
		var msgs []redis.XMessage
		if len(res) > 0 {
			msgs = res[0].Messages
		}
		if len(msgs) == 0 {
			id = ">"
			continue
		}
		done, ok := ib.process(ctx, stream, msgs, ib.readConvs(ctx, convs), handle)
		ack = done
		if !ok {
			return
		}
		if time.Since(lastTrim) > time.Second {
			lastTrim = time.Now()
			ib.trim(ctx, stream, msgs[len(msgs)-1].ID)
		}
	}
}

// ack acknowledges entries, retrying for a few seconds; entries left
// unacked are handled again, and skipped by their Seq.
func (ib *Inbox) ack(ctx context.Context, stream string, ids []string) {
	if len(ids) == 0 {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		if err := ib.s.rdb.XAck(bg, stream, inboxGroup, ids...).Err(); err == nil || !sleep(bg, wait) {
			return
		}
	}
}

// dropIdleConsumers deletes consumers other than this one that have no
// pending entries (replicas gone, or no longer working the partition).
func (ib *Inbox) dropIdleConsumers(ctx context.Context, stream string, pending map[string]int64) {
	cs, err := ib.s.rdb.XInfoConsumers(ctx, stream, inboxGroup).Result()
	if err != nil {
		return
	}
	for _, c := range cs {
		if c.Name != ib.o.Replica && c.Pending == 0 && pending[c.Name] == 0 {
			ib.s.rdb.XGroupDelConsumer(ctx, stream, inboxGroup, c.Name)
		}
	}
}

// conv is the entries of one conversation in a batch.
type conv struct{ ds []bot.Delivery }

// process handles msgs, one goroutine per conversation in stream order (the
// last on the caller's), retrying failed entries with backoff while ctx
// lasts. It returns the IDs of the entries handled (or dropped as
// malformed), to be acked, and whether all were handled.
func (ib *Inbox) process(ctx context.Context, stream string, msgs []redis.XMessage, read map[string]any, handle func(context.Context, bot.Delivery) error) ([]string, bool) {
	convs := map[bot.ConversationID]*conv{}
	var order []bot.ConversationID
	var bad []string
	for _, m := range msgs {
		raw, _ := m.Values["in"].(string)
		var w inWire
		if raw == "" || json.Unmarshal([]byte(raw), &w) != nil {
			ib.s.log.Error("inbox: dropping a malformed entry", "stream", stream, "id", m.ID)
			bad = append(bad, m.ID)
			continue
		}
		id := w.Msg.From.ConversationID()
		c := convs[id]
		if c == nil {
			c = &conv{}
			convs[id] = c
			order = append(order, id)
		}
		c.ds = append(c.ds, bot.Delivery{In: bot.Inbound{Key: w.Key, Msg: w.Msg}, Seq: m.ID})
	}
	ib.prefetch(ctx, convs, order, read)
	var mu sync.Mutex
	done := bad
	all := true
	var wg sync.WaitGroup
	for i, id := range order {
		c := convs[id]
		run := func() {
			for _, d := range c.ds {
				for wait := 50 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
					err := handle(context.WithoutCancel(ctx), d)
					if err == nil {
						break
					}
					if !sleep(ctx, wait) {
						mu.Lock()
						all = false
						mu.Unlock()
						return // left pending for whoever works the partition next
					}
				}
				mu.Lock()
				done = append(done, d.Seq)
				mu.Unlock()
			}
		}
		if i == len(order)-1 {
			run() // the last beside the others, on this goroutine (its stack has grown already)
		} else {
			wg.Go(run)
		}
	}
	wg.Wait()
	return done, all
}

// readConvsScript: KEYS stream; ARGV group, consumer, count, start. Run
// right after the consumer's read, whose batch is then its pending list
// from start ("-", as the last batch was acked before the read, or just
// after the entries claimed before), it returns entry ID and stored
// conversation (false: none) for the first entry of each conversation in
// that list, found by the entry's "c" field. One server only: the
// conversation keys are in other slots.
var readConvsScript = redis.NewScript(`
local out, seen = {}, {}
for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[4], '+', ARGV[3], ARGV[2])) do
  local e = redis.call('XRANGE', KEYS[1], p[1], p[1])[1]
  local f = e and e[2] or {}
  for i = 1, #f - 1, 2 do
    if f[i] == 'c' then
      if not seen[f[i+1]] then
        seen[f[i+1]] = true
        out[#out+1] = p[1]
        out[#out+1] = redis.call('GET', f[i+1])
      end
      break
    end
  end
end
return out`)

// readConvs is the reply of readConvsScript by entry ID (nil if it did not
// run). The first time, the script is not cached yet: it is loaded for the
// next batch.
func (ib *Inbox) readConvs(ctx context.Context, cmd *redis.Cmd) map[string]any {
	if cmd == nil {
		return nil
	}
	vals, err := cmd.Slice()
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		readConvsScript.Load(ctx, ib.s.rdb)
	}
	if err != nil || len(vals)%2 != 0 {
		return nil
	}
	m := make(map[string]any, len(vals)/2)
	for i := 0; i < len(vals); i += 2 {
		if id, ok := vals[i].(string); ok {
			m[id] = vals[i+1]
		}
	}
	return m
}

// prefetch hands each conversation of a batch, as stored, to its first
// entry (Delivery.Conv), so that a turn need not read its conversation on
// its own: from read (readConvs), else read in one pipeline. A failed read
// just leaves the entry without.
func (ib *Inbox) prefetch(ctx context.Context, convs map[bot.ConversationID]*conv, order []bot.ConversationID, read map[string]any) {
	load := func(id bot.ConversationID, d *bot.Delivery, v any) {
		switch v := v.(type) {
		case nil:
			d.Loaded = true
		case string:
			if c := ib.s.recs.GetString(id, v); c != nil {
				d.Conv, d.Loaded = c, true
			} else if c, err := decodeConv([]byte(v)); err == nil {
				d.Conv, d.Loaded = c, true
			}
		}
	}
	var rest []bot.ConversationID
	for _, id := range order {
		d := &convs[id].ds[0]
		if v, ok := read[d.Seq]; ok {
			load(id, d, v)
		} else {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return
	}
	cmds := make([]*redis.StringCmd, len(rest))
	ib.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range rest {
			cmds[i] = p.Get(ctx, ib.s.convKeys(id)[0])
		}
		return nil
	}) // each command's error is read from it
	for i, id := range rest {
		d := &convs[id].ds[0]
		switch v, err := cmds[i].Result(); {
		case errors.Is(err, redis.Nil):
			load(id, d, nil)
		case err == nil:
			load(id, d, v)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
