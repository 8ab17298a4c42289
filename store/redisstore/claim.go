package redisstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
)

type handler = func(context.Context, bot.Delivery) error

// Claiming puts. While this replica is the only live member on one server,
// its partition workers hold no blocking read: a put's script also claims
// the entries new to the partition's group (its own, and any put without a
// claim before it) and reads their conversations, and hands them to the
// worker in memory. A message then costs two round trips (put, commit)
// instead of three. Claims of a partition are serialized (claimMu), so the
// worker gets its entries in stream order; a worker polls every ClaimPoll
// for entries nobody claimed (put by a replica that joined since), and goes
// back to blocking reads as soon as another member is seen.

// part is the claim state of one partition on this replica.
type part struct {
	claimMu sync.Mutex // held by each claim: a claiming put, or the worker's poll
	on      bool       // the worker takes claims (under claimMu)
	last    string     // the last entry claimed (under claimMu)

	mu     sync.Mutex
	q      []claimed // claimed entries not handled yet, in stream order
	acks   []string  // handled entries to ack, with the next claim or after ackWait
	missed bool      // entries may wait unclaimed: poll once q is handled
	kick   chan struct{}
}

// claimed is an entry claimed for the worker, with its conversation as
// stored if the claim read it (conv: nil for none; read false: not read).
type claimed struct {
	msg  redis.XMessage
	conv any
	read bool
}

// ackWait is how long handled entries wait for a claim to ride with.
const ackWait = 2 * time.Millisecond

func (p *part) push(cs []claimed) {
	p.mu.Lock()
	p.q = append(p.q, cs...)
	p.mu.Unlock()
	p.poke()
}

// poke wakes the worker if it waits.
func (p *part) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// take returns the claimed entries not handled yet, and whether the worker
// should poll first (missed, with nothing claimed waiting).
func (p *part) take() (batch []claimed, missed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	batch, missed = p.q, p.missed && len(p.q) == 0
	p.q = nil
	if missed {
		p.missed = false
	}
	return batch, missed
}

func (p *part) takeAcks() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.acks
	p.acks = nil
	return a
}

// addAcks queues handled entries to ack; first ones go ahead (a failed
// send put back).
func (p *part) addAcks(first, ids []string) {
	p.mu.Lock()
	p.acks = append(append(first, p.acks...), ids...)
	p.mu.Unlock()
}

// claimPutScript is putScript that then claims, for consumer ARGV[7] of
// group ARGV[6], up to ARGV[8] entries new to the group. It returns false
// for a duplicate, else the new entry's ID followed by ID, "in" field and
// conversation of each claimed entry; the conversation is read for the
// first entry of each (nil: none stored), 0 for the others. A failed claim
// (no group) claims nothing: the worker's poll reads the entry.
var claimPutScript = redis.NewScript(`
if ARGV[2] == '1' and not redis.call('SET', KEYS[2], '1', 'NX', 'PXAT', ARGV[1]) then return false end
local out = {redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'in', ARGV[4], 'c', ARGV[5])}
local ok, r = pcall(redis.call, 'XREADGROUP', 'GROUP', ARGV[6], ARGV[7], 'COUNT', ARGV[8], 'STREAMS', KEYS[1], '>')
if not ok or not r then return out end
local seen = {}
for _, e in ipairs(r[1][2]) do
  local f, m, c = e[2], '', nil
  for i = 1, #f - 1, 2 do
    if f[i] == 'in' then m = f[i+1] elseif f[i] == 'c' then c = f[i+1] end
  end
  out[#out+1] = e[1]
  out[#out+1] = m
  if c and not seen[c] then
    seen[c] = true
    out[#out+1] = redis.call('GET', c)
  else
    out[#out+1] = 0
  end
end
return out`)

// parseClaims reads claimPutScript's reply after its first element.
func parseClaims(vals []any) []claimed {
	var cs []claimed
	for i := 0; i+2 < len(vals); i += 3 {
		id, _ := vals[i].(string)
		in, _ := vals[i+1].(string)
		c := claimed{msg: redis.XMessage{ID: id, Values: map[string]any{"in": in}}}
		if _, unread := vals[i+2].(int64); !unread {
			c.conv, c.read = vals[i+2], true
		}
		cs = append(cs, c)
	}
	return cs
}

// claimMax is the most entries of one partition a put pipeline claims: a
// larger burst is left to the worker's poll, which takes it a batch at a
// time while the puts go on.
const claimMax = 8

// lockClaims takes the claim locks of the partitions in ps (one per put)
// whose workers take claims and have room for more, in ascending order,
// and returns them; the caller unlocks. skipped are the other partitions
// of workers taking claims: wake them (missed) once the puts are stored.
func (ib *Inbox) lockClaims(ps []int) (held map[int]*part, skipped []int) {
	if !ib.s.single {
		return nil, nil
	}
	n := map[int]int{}
	for _, p := range ps {
		n[p]++
	}
	ps = slices.Clone(ps)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	for _, p := range ps {
		lp := ib.parts[p]
		lp.claimMu.Lock()
		if !lp.on {
			lp.claimMu.Unlock()
			continue
		}
		lp.mu.Lock()
		full := len(lp.q) >= 4*ib.o.Batch // a slow worker: its poll takes the rest, in order
		lp.mu.Unlock()
		if full || n[p] > claimMax {
			lp.claimMu.Unlock()
			skipped = append(skipped, p)
			continue
		}
		if held == nil {
			held = map[int]*part{}
		}
		held[p] = lp
	}
	return held, skipped
}

// wake makes partitions ps' workers look for entries nobody claimed.
func (ib *Inbox) wake(ps []int) {
	for _, p := range ps {
		lp := ib.parts[p]
		lp.mu.Lock()
		lp.missed = true
		lp.mu.Unlock()
		lp.poke()
	}
}

// workClaims is partition p's worker while this replica works alone: it
// handles what puts claim for it and polls for entries nobody claimed. It
// returns when another member is seen or ctx is done, after handling every
// entry claimed for it; false if an entry could not be handled. Entries
// left to ack are returned.
func (ib *Inbox) workClaims(ctx context.Context, p int, stream string, ack []string, handle handler) ([]string, bool) {
	lp := ib.parts[p]
	lp.claimMu.Lock()
	lp.on = true
	lp.claimMu.Unlock()
	lp.addAcks(nil, ack)
	poll := time.NewTimer(0) // first, whatever was put before claims began
	defer poll.Stop()
	acked := time.NewTimer(time.Hour)
	defer acked.Stop()
	var lastTrim time.Time
	ok := true
	run := func(batch []claimed) {
		msgs := make([]redis.XMessage, len(batch))
		convs := map[string]any{}
		for i, c := range batch {
			msgs[i] = c.msg
			if c.read {
				convs[c.msg.ID] = c.conv
			}
		}
		done, handled := ib.process(ctx, stream, msgs, convs, handle)
		lp.addAcks(nil, done)
		ok = ok && handled
		acked.Reset(ackWait)
		if time.Since(lastTrim) > time.Second {
			lastTrim = time.Now()
			ib.trim(ctx, stream, msgs[len(msgs)-1].ID)
		}
	}
	// Claims stop as soon as the partition is given up or another member is
	// seen: a worker that went on claiming after its lease lapsed would take
	// entries from the partition's new owner, and strand them if it died.
	for ok && ctx.Err() == nil && ib.alone.Load() {
		batch, missed := lp.take()
		if len(batch) > 0 {
			run(batch)
			continue
		}
		if missed {
			ib.pollClaims(ctx, p, stream)
			continue
		}
		select {
		case <-ctx.Done():
		case <-lp.kick:
		case <-acked.C:
			ib.ack(ctx, stream, lp.takeAcks())
		case <-poll.C:
			ib.pollClaims(ctx, p, stream)
			poll.Reset(ib.o.ClaimPoll)
		}
	}
	// Back to reads: no claim is made after this, and those made are handled.
	lp.claimMu.Lock()
	lp.on = false
	lp.claimMu.Unlock()
	for ok {
		batch, _ := lp.take()
		if len(batch) == 0 {
			break
		}
		run(batch)
	}
	return lp.takeAcks(), ok
}

// pollClaims claims the entries of partition p that no put claimed, with
// the acks waiting.
func (ib *Inbox) pollClaims(ctx context.Context, p int, stream string) {
	lp := ib.parts[p]
	lp.claimMu.Lock()
	defer lp.claimMu.Unlock()
	acks := lp.takeAcks()
	rctx := context.WithoutCancel(ctx) // claimed entries are handled before the worker stops
	var read *redis.XStreamSliceCmd
	var convs *redis.Cmd
	var acked *redis.IntCmd
	ib.s.rdb.Pipelined(rctx, func(pp redis.Pipeliner) error {
		if len(acks) > 0 {
			acked = pp.XAck(rctx, stream, inboxGroup, acks...)
		}
		read = pp.XReadGroup(rctx, &redis.XReadGroupArgs{Group: inboxGroup, Consumer: ib.o.Replica, Streams: []string{stream, ">"}, Count: int64(ib.o.Batch), Block: -1})
		start := "-"
		if lp.last != "" {
			start = "(" + lp.last // not the claimed entries still pending
		}
		convs = readConvsScript.EvalSha(rctx, pp, []string{stream}, inboxGroup, ib.o.Replica, ib.o.Batch, start)
		return nil
	}) // each command's error is read from it
	if acked != nil && acked.Err() != nil {
		lp.addAcks(acks, nil)
	}
	res, err := read.Result()
	if err != nil || len(res) == 0 || len(res[0].Messages) == 0 {
		if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil {
			ib.s.log.Warn("inbox: read", "partition", p, "err", err)
		}
		return
	}
	m := ib.readConvs(ctx, convs)
	if len(res[0].Messages) >= ib.o.Batch {
		lp.mu.Lock()
		lp.missed = true // there may be more
		lp.mu.Unlock()
	}
	cs := make([]claimed, len(res[0].Messages))
	for i, msg := range res[0].Messages {
		cs[i].msg = msg
		cs[i].conv, cs[i].read = m[msg.ID]
	}
	lp.last = cs[len(cs)-1].msg.ID
	lp.push(cs)
}

// trim cuts stream before its oldest pending entry (last: the newest
// handled, if none is pending).
func (ib *Inbox) trim(ctx context.Context, stream, last string) {
	sum, err := ib.s.rdb.XPending(ctx, stream, inboxGroup).Result()
	if err != nil {
		return
	}
	if sum.Count > 0 {
		last = sum.Lower
	}
	ib.s.rdb.XTrimMinIDApprox(ctx, stream, last, 0)
}
