package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
)

// The outbox (bot.OutboxStore). Keys, with the default prefix:
//
//	sb:{conv:ID}:o     list of "<key>\n<json bot.Outgoing>", oldest first
//	sb:{conv:ID}:om    the mark seq of the last commit that queued replies
//	sb:{outbox}:marks  zset conversation → mark seq (≈ commit time in ms)
//
// Commit is one Lua script on the conversation's slot (record, transcript,
// outbox, mark seq). The marks zset is a separate slot: Commit adds the mark
// before the script, and OutboxDone removes it after emptying the outbox
// only if no later commit re-marked it, so an outbox with entries always
// has a mark (a crash leaves, at worst, a mark on an empty outbox, which
// OutboxForget clears).

var _ bot.TurnCommitter = (*Store)(nil)

func (s *Store) outKeys(id bot.ConversationID) (o, om string) {
	k := s.p + "{conv:" + string(id) + "}:"
	return k + "o", k + "om"
}

func (s *Store) marksKey() string { return s.p + "{outbox}:marks" }

// doneKeys are outboxDoneAllScript's keys for id's outbox and the lease name.
func (s *Store) doneKeys(id bot.ConversationID, lease string) []string {
	o, om := s.outKeys(id)
	return []string{o, om, s.marksKey(), s.p + "lease:" + lease}
}

// markScript: KEYS marks; ARGV id, now (ms). The new score is now, or one
// more than the current score: it grows with every call.
var markScript = redis.NewScript(`
local n = tonumber(ARGV[2])
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) >= n then n = tonumber(s) + 1 end
redis.call('ZADD', KEYS[1], n, ARGV[1])
return n`)

// forgetScript: KEYS marks; ARGV id, seq. Removes the mark if its score is seq.
var forgetScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) return 1 end
return 0`)

// commitScript: KEYS c, t, h, o, om; ARGV expected version, record,
// pexpireat, header, number of messages, mark seq, messages..., outgoing...
// Returns {0, stored version} on a version mismatch, {1, stored header} on
// a header mismatch (nothing written), {2} when written.
var commitScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(string.match(cur, '^%d+')) end
if v ~= tonumber(ARGV[1]) then return {0, v} end
local n = tonumber(ARGV[5])
if n > 0 then
  local h = redis.call('LINDEX', KEYS[2], 0)
  if not h then redis.call('RPUSH', KEYS[2], ARGV[4])
  elseif h ~= ARGV[4] then return {1, h} end
  for i = 7, 6 + n, 100 do
    redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 99, 6 + n)))
  end
end
if #ARGV > 6 + n then
  for i = 7 + n, #ARGV, 100 do
    redis.call('RPUSH', KEYS[4], unpack(ARGV, i, math.min(i + 99, #ARGV)))
  end
  redis.call('SET', KEYS[5], ARGV[6])
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
for i = 2, #KEYS do redis.call('PEXPIREAT', KEYS[i], ARGV[3]) end
return {2}`)

// commitAllScript is commitScript for a single Redis server (not Cluster,
// where these keys are on several slots): the mark, the customer index and
// the turn's events are written by the same script, so a turn is one round
// trip, all or nothing. KEYS c, t, h, o, om, marks, customer index, lease,
// then one events key per event; ARGV expected version, record, pexpireat,
// header, number of messages, number of outgoing, conversation ID, now
// (ms), customer flag (0 none, 1 index, 2 index and add), created (ms),
// events cut (ms), number of events, lease owner ("": none), lease
// pexpireat, messages..., outgoing..., then per event its score, member,
// pexpireat and trim flag ("1" if its key may hold events older than the
// cut). Events with the same key must be adjacent: they share one ZADD,
// one PEXPIREAT and one trim. Returns as commitScript; when written {2,
// head, leased}: head 1 if the outbox was empty before (the outgoing are
// its head), leased 1 if the owner holds the lease now (taken as
// leaseScript).
var commitAllScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(string.match(cur, '^%d+')) end
if v ~= tonumber(ARGV[1]) then return {0, v} end
local n = tonumber(ARGV[5])
local no = tonumber(ARGV[6])
local base = 14
if n > 0 then
  local h = redis.call('LINDEX', KEYS[2], 0)
  if not h then redis.call('RPUSH', KEYS[2], ARGV[4])
  elseif h ~= ARGV[4] then return {1, h} end
  for i = base + 1, base + n, 100 do
    redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 99, base + n)))
  end
end
local head = 0
if no > 0 then
  local seq = tonumber(ARGV[8])
  local s = redis.call('ZSCORE', KEYS[6], ARGV[7])
  if s and tonumber(s) >= seq then seq = tonumber(s) + 1 end
  redis.call('ZADD', KEYS[6], seq, ARGV[7])
  local f = base + n + 1
  local len = 0
  for i = f, f + no - 1, 100 do
    len = redis.call('RPUSH', KEYS[4], unpack(ARGV, i, math.min(i + 99, f + no - 1)))
  end
  if len == no then head = 1 end
  redis.call('SET', KEYS[5], seq, 'PXAT', ARGV[3])
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
for i = 2, 4 do redis.call('PEXPIREAT', KEYS[i], ARGV[3]) end
if no == 0 then redis.call('PEXPIREAT', KEYS[5], ARGV[3]) end
local cf = tonumber(ARGV[9])
if cf == 2 then redis.call('ZADD', KEYS[7], 'NX', ARGV[10], ARGV[7]) end
if cf > 0 then redis.call('PEXPIREAT', KEYS[7], ARGV[3]) end
local leased = 0
if ARGV[13] ~= '' then
  local l = redis.call('GET', KEYS[8])
  if not l or l == ARGV[13] then
    redis.call('SET', KEYS[8], ARGV[13], 'PXAT', ARGV[14])
    leased = 1
  end
end
local e = base + n + no
local ne = tonumber(ARGV[12])
local j = 1
while j <= ne do
  local k = KEYS[8 + j]
  local a = e + (j - 1) * 4
  local exp, trim = ARGV[a + 3], ARGV[a + 4]
  local zs = {}
  while j <= ne and KEYS[8 + j] == k do
    a = e + (j - 1) * 4
    zs[#zs + 1] = ARGV[a + 1]
    zs[#zs + 1] = ARGV[a + 2]
    j = j + 1
  end
  redis.call('ZADD', k, unpack(zs))
  redis.call('PEXPIREAT', k, exp)
  if trim == '1' then redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. ARGV[11]) end
end
return {2, head, leased}`)

// outboxDoneAllScript is outboxDoneScript for a single Redis server: KEYS
// o, om, marks[, lease]; ARGV key, conversation ID[, lease owner]. When the
// outbox is empty after it, the mark goes too (as OutboxForget), and the
// lease if given and held by owner (as Unlease), and it returns 0; else 1.
var outboxDoneAllScript = redis.NewScript(`
local h = redis.call('LINDEX', KEYS[1], 0)
if h then
  local p = ARGV[1] .. '\n'
  if string.sub(h, 1, #p) ~= p then return 1 end
  redis.call('LPOP', KEYS[1])
  if redis.call('LLEN', KEYS[1]) > 0 then return 1 end
end
local seq = redis.call('GET', KEYS[2])
if seq then
  local s = redis.call('ZSCORE', KEYS[3], ARGV[2])
  if s and tonumber(s) == tonumber(seq) then redis.call('ZREM', KEYS[3], ARGV[2]) end
end
if KEYS[4] and redis.call('GET', KEYS[4]) == ARGV[3] then redis.call('DEL', KEYS[4]) end
return 0`)

// leaseOutboxScript: KEYS lease, o; ARGV owner, pexpireat, n. Takes or
// renews the lease as leaseScript and returns the first n outbox entries,
// or nil if another owner holds the lease. Single server only.
var leaseOutboxScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1)`)

var _ bot.OutboxLeaser = (*Store)(nil)

// LeaseOutbox takes or renews the lease name for owner and, if it holds it
// then, reads up to n entries of id's outbox: one script on a single
// server, Lease then Outbox on Cluster.
func (s *Store) LeaseOutbox(ctx context.Context, name, owner string, ttl time.Duration, id bot.ConversationID, n int) (bool, []bot.Outgoing, error) {
	if !s.single {
		ok, err := s.Lease(ctx, name, owner, ttl)
		if err != nil || !ok {
			return false, nil, err
		}
		head, err := s.Outbox(ctx, id, n)
		return err == nil, head, err
	}
	o, _ := s.outKeys(id)
	at := s.now().Add(ttl).UnixMilli()
	vals, err := leaseOutboxScript.Run(ctx, s.rdb, []string{s.p + "lease:" + name, o}, owner, at, n).StringSlice()
	if errors.Is(err, redis.Nil) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, s.wrap("lease "+name, err)
	}
	head, err := decodeOutbox(id, vals)
	return err == nil, head, err
}

// OutboxDoneUnlease is OutboxDoneLeft that also gives the lease name up
// when the outbox is empty after it: one script on a single server.
func (s *Store) OutboxDoneUnlease(ctx context.Context, id bot.ConversationID, key, name, owner string) (left, unleased bool, err error) {
	if !s.single {
		left, err := s.OutboxDoneLeft(ctx, id, key)
		if err != nil || left {
			return left, false, err
		}
		return false, true, s.Unlease(ctx, name, owner)
	}
	return s.doneReply(id, outboxDoneAllScript.Run(ctx, s.rdb, s.doneKeys(id, name), key, string(id), owner))
}

// doneReply reads outboxDoneAllScript's reply for id's outbox.
func (s *Store) doneReply(id bot.ConversationID, c *redis.Cmd) (left, unleased bool, err error) {
	n, err := c.Int()
	if err != nil {
		return true, false, s.wrap(fmt.Sprintf("outbox done %q", id), err)
	}
	return n != 0, n == 0, nil
}

// outboxDoneScript: KEYS o, om; ARGV key. Pops the head if it is key's;
// returns the mark seq if the outbox is empty now, else false.
var outboxDoneScript = redis.NewScript(`
local h = redis.call('LINDEX', KEYS[1], 0)
if not h then return redis.call('GET', KEYS[2]) end
local p = ARGV[1] .. '\n'
if string.sub(h, 1, #p) ~= p then return false end
redis.call('LPOP', KEYS[1])
if redis.call('LLEN', KEYS[1]) == 0 then return redis.call('GET', KEYS[2]) end
return false`)

// Commit saves c, appends msgs and queues out atomically (one script on the
// conversation's slot); the customer index is updated as by SaveConversation.
func (s *Store) Commit(ctx context.Context, c *bot.Conversation, msgs []bot.Message, out []bot.Outgoing) error {
	return s.CommitTurn(ctx, &bot.TurnCommit{Conv: c, Msgs: msgs, Out: out})
}

// Seen reports whether key was recorded by FirstSeen or CommitTurn.
func (s *Store) Seen(ctx context.Context, key string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.p+"dd:"+key).Result()
	if err != nil {
		return false, s.wrap("seen", err)
	}
	return n > 0, nil
}

// CommitTurn is Commit, plus t.Dedupe and t.Events. The dedupe key and the
// events live on other Cluster slots than the conversation, so they cannot
// join its script: the key is set (SET NX) just before it, and dropped again
// if the commit fails; the events are written in one pipeline with the
// customer index right after it (at-least-once, as RecordEvent after a
// commit). t.Head is left false: the engine reads the outbox under its lock.
func (s *Store) CommitTurn(ctx context.Context, t *bot.TurnCommit) (err error) {
	c, msgs, out := t.Conv, t.Msgs, t.Out
	if t.Dedupe != "" {
		first, ferr := s.FirstSeen(ctx, t.Dedupe, t.DedupeTTL)
		if ferr != nil {
			return ferr
		}
		if !first {
			return fmt.Errorf("redisstore: commit %q: %q: %w", c.ID, t.Dedupe, bot.ErrDuplicate)
		}
		defer func() {
			if err != nil {
				if derr := s.rdb.Del(context.WithoutCancel(ctx), s.p+"dd:"+t.Dedupe).Err(); derr != nil {
					s.log.Warn("redisstore: commit failed; dedupe key kept", "key", t.Dedupe, "err", derr)
				}
			}
		}()
	}
	rec, err := encodeConv(c, c.Version+1)
	if err != nil {
		return fmt.Errorf("redisstore: commit %q: %w", c.ID, err)
	}
	outs := make([]any, len(out))
	for i := range out {
		b, err := jsonenc.Marshal(&out[i])
		if err != nil {
			return fmt.Errorf("redisstore: commit %q: %w", c.ID, err)
		}
		outs[i] = out[i].Key + "\n" + string(b)
	}
	if s.single {
		return s.commitAll(ctx, t, rec, outs)
	}
	var seq int64
	if len(out) > 0 {
		seq, err = markScript.Run(ctx, s.rdb, []string{s.marksKey()}, string(c.ID), s.now().UnixMilli()).Int64()
		if err != nil {
			return s.wrap(fmt.Sprintf("commit %q: mark", c.ID), err)
		}
	}
	ck := s.convKeys(c.ID)
	o, om := s.outKeys(c.ID)
	keys := []string{ck[0], ck[1], ck[2], o, om}
	exp := s.expireAt()
	if _, err := s.runCommit(ctx, commitScript, keys, c, msgs,
		func(hb []byte) []any { return []any{c.Version, rec, exp, hb, len(msgs), seq} }, outs); err != nil {
		return err
	}
	if c.Customer.ID != "" || len(t.Events) > 0 {
		// One round trip for the customer index and the turn's events
		// (they are on several Cluster slots, so no MULTI).
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.queueCustomer(ctx, p, c, exp)
			for _, e := range t.Events {
				if err := s.recordEvent(ctx, p, e); err != nil {
					s.log.Warn("redisstore: commit: record event", "conversation", string(c.ID), "err", err)
				}
			}
			return nil
		})
		if err != nil {
			s.log.Warn("redisstore: commit: customer index and events", "conversation", string(c.ID), "err", err)
		}
	}
	c.Version++
	s.recs.Put(c.ID, rec, c.Clone())
	return nil
}

// Outbox returns up to n entries from the head of id's outbox (all if n <= 0).
func (s *Store) Outbox(ctx context.Context, id bot.ConversationID, n int) ([]bot.Outgoing, error) {
	o, _ := s.outKeys(id)
	vals, err := s.rdb.LRange(ctx, o, 0, int64(n)-1).Result()
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("outbox %q", id), err)
	}
	return decodeOutbox(id, vals)
}

// decodeOutbox decodes outbox entries; it returns a non-nil slice.
func decodeOutbox(id bot.ConversationID, vals []string) ([]bot.Outgoing, error) {
	out := make([]bot.Outgoing, 0, len(vals))
	for _, v := range vals {
		_, js, ok := strings.Cut(v, "\n")
		var x bot.Outgoing
		if !ok || json.Unmarshal([]byte(js), &x) != nil {
			return nil, fmt.Errorf("redisstore: outbox %q: bad entry %.40q", id, v)
		}
		out = append(out, x)
	}
	return out, nil
}

// OutboxDone pops the head of id's outbox if its key is key; when that
// empties the outbox, the conversation's mark goes too unless a commit
// re-marked it meanwhile.
func (s *Store) OutboxDone(ctx context.Context, id bot.ConversationID, key string) error {
	_, err := s.OutboxDoneLeft(ctx, id, key)
	return err
}

// OutboxDoneLeft is OutboxDone; left is false when the outbox is empty
// after it (true when entries remain, or when the script cannot tell).
func (s *Store) OutboxDoneLeft(ctx context.Context, id bot.ConversationID, key string) (left bool, err error) {
	o, om := s.outKeys(id)
	if s.single {
		n, err := outboxDoneAllScript.Run(ctx, s.rdb, []string{o, om, s.marksKey()}, key, string(id)).Int()
		if err != nil {
			return true, s.wrap(fmt.Sprintf("outbox done %q", id), err)
		}
		return n != 0, nil
	}
	seq, err := outboxDoneScript.Run(ctx, s.rdb, []string{o, om}, key).Text()
	if errors.Is(err, redis.Nil) {
		return true, nil
	}
	if err != nil {
		return true, s.wrap(fmt.Sprintf("outbox done %q", id), err)
	}
	n, _ := strconv.ParseInt(seq, 10, 64)
	return false, s.OutboxForget(ctx, bot.OutboxMark{Conv: id, Seq: n})
}

// OutboxDepth is the number of conversations whose outbox holds replies
// (their marks; metrics).
func (s *Store) OutboxDepth(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.marksKey()).Result()
	return n, s.wrap("outbox depth", err)
}

// OutboxPending lists up to n marks older than before, oldest first.
func (s *Store) OutboxPending(ctx context.Context, before time.Time, n int) ([]bot.OutboxMark, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, s.marksKey(), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: int64(n)}).Result()
	if err != nil {
		return nil, s.wrap("outbox pending", err)
	}
	out := make([]bot.OutboxMark, len(zs))
	for i, z := range zs {
		out[i] = bot.OutboxMark{Conv: bot.ConversationID(fmt.Sprint(z.Member)), Seq: int64(z.Score)}
	}
	return out, nil
}

// OutboxForget removes m if the conversation was not marked again since.
func (s *Store) OutboxForget(ctx context.Context, m bot.OutboxMark) error {
	err := forgetScript.Run(ctx, s.rdb, []string{s.marksKey()}, string(m.Conv), m.Seq).Err()
	return s.wrap("outbox forget", err)
}

// ---- doc change notices

// docsChannel is the pub/sub channel PutDoc announces new versions on.
func (s *Store) docsChannel() string { return s.p + "docs" }

// publishDoc announces name's new version; a lost notice is covered by the
// replicas' polling of DocVersion.
func (s *Store) publishDoc(ctx context.Context, d bot.Doc) {
	if err := s.rdb.Publish(ctx, s.docsChannel(), d.Name+"\n"+strconv.FormatInt(d.Version, 10)).Err(); err != nil {
		s.log.Warn("redisstore: announce doc", "doc", d.Name, "err", err)
	}
}

// WatchDocs calls fn(name, version) for every document version PutDoc
// stores on any replica, until ctx is canceled; it returns nil then. It
// resubscribes by itself after a disconnection; notices published meanwhile
// are lost (pub/sub is at-most-once), so keep polling DocVersion as well.
// ready, if not nil, is closed once the subscription is active.
func (s *Store) WatchDocs(ctx context.Context, ready chan<- struct{}, fn func(name string, version int64)) error {
	return s.subscribe(ctx, s.docsChannel(), ready, func(p string) {
		name, v, _ := strings.Cut(p, "\n")
		n, _ := strconv.ParseInt(v, 10, 64)
		fn(name, n)
	})
}

// commitAll is CommitTurn on a single Redis server: one script
// (commitAllScript) for the whole turn.
func (s *Store) commitAll(ctx context.Context, t *bot.TurnCommit, rec []byte, outs []any) error {
	c, msgs := t.Conv, t.Msgs
	ck := s.convKeys(c.ID)
	o, om := s.outKeys(c.ID)
	now := s.now()
	lease := t.Lease
	if lease == "" {
		lease = "outbox:" + string(c.ID) // a key is needed; not touched
	}
	keys := []string{ck[0], ck[1], ck[2], o, om, s.marksKey(), s.p + "cust:" + c.Customer.ID, s.p + "lease:" + lease}
	leaseAt := now.Add(t.LeaseTTL).UnixMilli()
	t.Leased = false
	cust, created := 0, int64(0)
	if c.Customer.ID != "" {
		cust = 1
		if c.Version == 0 {
			cust = 2
			at := c.Created
			if at.IsZero() {
				at = now
			}
			created = at.UnixMilli()
		}
	}
	events := make([]bot.Event, len(t.Events))
	for i, e := range t.Events {
		if e.At.IsZero() {
			e.At = now.UTC()
		}
		events[i] = e
	}
	// The script writes adjacent events of one day (key) together.
	slices.SortStableFunc(events, func(a, b bot.Event) int {
		da, _ := day(a.At)
		db, _ := day(b.At)
		return da.Compare(db)
	})
	cut := now.Add(-s.events)
	evs := make([]any, 0, 4*len(events))
	for _, e := range events {
		b, err := jsonenc.Marshal(&e)
		if err != nil {
			return fmt.Errorf("redisstore: commit %q: event: %w", c.ID, err)
		}
		dayStart, dayEnd := day(e.At)
		trim := "0"
		if dayStart.Before(cut) {
			trim = "1"
		}
		keys = append(keys, s.eventKey(e.At))
		evs = append(evs, e.At.UnixMilli(), fmt.Sprintf("%016x%08x", uint64(e.At.UnixNano()), rand.Uint32())+string(b), dayEnd.Add(s.events).UnixMilli(), trim)
	}
	exp := s.expireAt()
	res, err := s.runCommit(ctx, commitAllScript, keys, c, msgs, func(hb []byte) []any {
		return []any{c.Version, rec, exp, hb, len(msgs), len(outs), string(c.ID), now.UnixMilli(),
			cust, created, cut.UnixMilli(), len(events), t.LeaseOwner, leaseAt}
	}, outs, evs)
	if err != nil {
		return err
	}
	if len(res) > 2 {
		head, _ := res[1].(int64)
		leased, _ := res[2].(int64)
		t.Head = head == 1 && len(outs) > 0
		t.Leased = leased == 1 && t.Lease != ""
	}
	c.Version++
	s.recs.Put(c.ID, rec, c.Clone())
	return nil
}

// runCommit runs a commit script: the arguments head(transcript header),
// then the messages encoded against that header, then tail. When the stored
// transcript header differs (code 1), the messages are encoded again
// against it, up to three times. Code 0 is a version conflict.
func (s *Store) runCommit(ctx context.Context, script *redis.Script, keys []string, c *bot.Conversation,
	msgs []bot.Message, head func(hb []byte) []any, tail ...[]any) ([]any, error) {
	var hdr header
	if len(msgs) > 0 {
		hdr = guessHeader(c.ID, msgs)
	}
	for range 3 {
		hb, err := jsonenc.Marshal(&hdr)
		if err != nil {
			return nil, fmt.Errorf("redisstore: commit %q: %w", c.ID, err)
		}
		args := head(hb)
		for i := range msgs {
			b, err := encodeMsg(&msgs[i], &hdr)
			if err != nil {
				return nil, fmt.Errorf("redisstore: commit %q: %w", c.ID, err)
			}
			args = append(args, b)
		}
		for _, t := range tail {
			args = append(args, t...)
		}
		res, err := script.Run(ctx, s.rdb, keys, args...).Slice()
		if err != nil {
			return nil, s.wrap(fmt.Sprintf("commit %q", c.ID), err)
		}
		switch code, _ := res[0].(int64); code {
		case 0:
			return nil, fmt.Errorf("redisstore: conversation %q: version %d, stored %v: %w", c.ID, c.Version, res[1], bot.ErrConflict)
		case 1:
			str, _ := res[1].(string)
			hdr = header{}
			if err := json.Unmarshal([]byte(str), &hdr); err != nil {
				return nil, fmt.Errorf("redisstore: commit %q: bad transcript header: %w", c.ID, err)
			}
			continue
		}
		return res, nil
	}
	return nil, fmt.Errorf("redisstore: commit %q: transcript header keeps changing: %w", c.ID, bot.ErrConflict)
}
