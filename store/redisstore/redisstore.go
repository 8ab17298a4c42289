// Package redisstore is the store on Redis through go-redis's UniversalClient:
// a single node, Sentinel or Cluster is a configuration change. It is the
// store for several bot replicas.
//
// Keys, shown with the default prefix "sb:" (Options.KeyPrefix); a {tag}
// keeps keys on one Cluster slot so Lua and MULTI can span them:
//
//	sb:{conv:ID}:c    string "<version>\n<json>", the conversation (compare-and-set in Lua)
//	sb:{conv:ID}:t    list: a header {from, customer}, then one compact JSON per message
//	sb:{conv:ID}:h    string, the agent holding the conversation (claimed in Lua)
//	sb:cust:CUSTOMER  zset of conversation IDs by creation time
//	sb:dd:KEY         dedupe keys, SET NX PXAT
//	sb:lease:NAME     leases, SET PXAT in Lua
//	sb:{queue}        hash conversation → queue entry
//	sb:{agents}       hash agent ID → agent; sb:{agents}:held:AGENT, set of claimed conversations
//	sb:{timers}:z, sb:{timers}:h   zset of due times, hash of timers; popped in Lua
//	sb:{doc:NAME}:v, sb:{doc:NAME}:h   latest version; hash "N" → meta, "N:d" → data
//	sb:ev:YYYYMMDD    zset of the events of one UTC day
//
// Every write of a conversation sets PEXPIREAT now+Retention on all its keys,
// so an idle conversation disappears as a whole. Expiry instants come from
// Options.Now, so replicas' clocks should agree to within seconds.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
	"github.com/supportbot/supportbot/store/internal/reccache"
)

// Options configure a Store. Zero values get the defaults.
type Options struct {
	// URL is redis://[user:password@]host:port[/db] (rediss:// for TLS). With
	// Addrs set only its credentials, db and TLS setting are used.
	URL string
	// Addrs are Cluster nodes (two or more) or, with MasterName, Sentinels.
	Addrs      []string
	MasterName string
	KeyPrefix  string        // default "sb:"
	Retention  time.Duration // default 30 days
	// EventsRetention is how long analytics events are kept; default Retention.
	EventsRetention time.Duration
	DedupeTTL       time.Duration    // FirstSeen ttl when it is called with ttl <= 0; default 24h
	Now             func() time.Time // the clock of every expiry; default time.Now
	Log             *slog.Logger
	// PoolSize is the connection pool per node; default 10 per CPU plus 48,
	// because each partition of an Inbox holds one in a blocking read.
	PoolSize int
	// Pipelining, if above 0, turns automatic pipelining on: it is how many
	// round trips (single commands or pipelines) the store's calls may have
	// in flight at once before further commands wait and go out together as
	// one pipeline when one returns. Off by default: on the 2-core VM of
	// docs/performance.md it halves the read/write system calls per message
	// (ours and redis-server's) but neither the CPU time per message nor the
	// throughput moves beyond the noise. 2 is a reasonable value to try.
	Pipelining int
}

// Store is the Redis store. Create it with New.
type Store struct {
	rdb       redis.UniversalClient
	addr      string
	p         string
	retention time.Duration
	events    time.Duration // events retention
	dedupe    time.Duration
	now       func() time.Time
	log       *slog.Logger
	closeOnce sync.Once
	closeErr  error
	batch     *batcher // nil without automatic pipelining
	dq        doneQueue
	// single: one Redis server (or Sentinel's master), not Cluster, so a
	// script may touch keys of several hash tags (commitAllScript).
	single bool
	recs   reccache.Cache // the records this process committed, decoded
}

// New connects and pings. An unreachable Redis fails with an error naming its
// address and wrapping bot.ErrUnavailable.
func New(ctx context.Context, o Options) (*Store, error) {
	if o.KeyPrefix == "" {
		o.KeyPrefix = "sb:"
	}
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
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 10*runtime.GOMAXPROCS(0) + 48
	}
	uo := &redis.UniversalOptions{PoolSize: o.PoolSize,
		Addrs: o.Addrs, MasterName: o.MasterName,
		DialTimeout: 5 * time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
		ContextTimeoutEnabled: true, DisableIdentity: true,
		DialerRetries: 1, // fail fast when Redis is down; commands still retry (MaxRetries 3)
	}
	if o.URL != "" {
		ro, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, errors.New("redisstore: the Redis URL is invalid") // the error would show the password
		}
		if len(uo.Addrs) == 0 {
			uo.Addrs = []string{ro.Addr}
		}
		uo.Username, uo.Password, uo.DB, uo.TLSConfig = ro.Username, ro.Password, ro.DB, ro.TLSConfig
	}
	if len(uo.Addrs) == 0 {
		return nil, errors.New("redisstore: no Redis address (URL or Addrs)")
	}
	s := &Store{rdb: redis.NewUniversalClient(uo), addr: strings.Join(uo.Addrs, ","), p: o.KeyPrefix,
		retention: o.Retention, events: o.EventsRetention, dedupe: o.DedupeTTL, now: o.Now, log: o.Log}
	_, cluster := s.rdb.(*redis.ClusterClient)
	s.single = !cluster
	if o.Pipelining > 0 {
		s.batch = newBatcher(s.rdb, o.Pipelining, 256)
		s.rdb.AddHook(hook{s.batch})
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", s.addr, unavailable(err))
	}
	return s, nil
}

// KeyPrefix is the prefix of every key of s.
func (s *Store) KeyPrefix() string { return s.p }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.wrap("ping", s.rdb.Ping(ctx).Err())
}

// Close waits for the commands in flight, then closes the connections.
// Calling it again is a no-op.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeDone()
		if s.batch != nil {
			s.batch.close()
		}
		s.closeErr = s.rdb.Close()
	})
	return s.closeErr
}

// ---- errors

type unavailableError struct{ err error }

func (e unavailableError) Error() string   { return e.err.Error() }
func (e unavailableError) Unwrap() []error { return []error{bot.ErrUnavailable, e.err} }

func unavailable(err error) error { return unavailableError{err} }

// wrap translates a go-redis error: redis.Nil → bot.ErrNotFound, network and
// server-not-ready errors → bot.ErrUnavailable.
func (s *Store) wrap(op string, err error) error {
	var rerr redis.Error
	var nerr net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("redisstore: %s: %w", op, bot.ErrNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("redisstore: %s: %w", op, err)
	case errors.As(err, &rerr):
		for _, p := range []string{"LOADING", "READONLY", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "BUSY "} {
			if strings.HasPrefix(rerr.Error(), p) {
				return fmt.Errorf("redisstore: %s: %w", op, unavailable(err))
			}
		}
		return fmt.Errorf("redisstore: %s: %w", op, err)
	case errors.As(err, &nerr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("redisstore: %s: %w", op, unavailable(err))
	default:
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
}

// ---- keys

func (s *Store) convKeys(id bot.ConversationID) []string {
	k := s.p + "{conv:" + string(id) + "}:"
	return []string{k + "c", k + "t", k + "h"}
}

func (s *Store) heldKey(agent string) string { return s.p + "{agents}:held:" + agent }

// expireAt is the retention deadline of a write now, in Unix milliseconds.
func (s *Store) expireAt() int64 { return s.now().Add(s.retention).UnixMilli() }

// ---- conversations

// saveScript: KEYS c, t, h; ARGV expected version, record, pexpireat.
// Returns -1 if written, else the stored version.
var saveScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(string.match(cur, '^%d+')) end
if v ~= tonumber(ARGV[1]) then return v end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[3], ARGV[3])
return -1`)

// Conversation returns the stored conversation or an error wrapping bot.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	b, err := s.rdb.Get(ctx, s.convKeys(id)[0]).Bytes()
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("conversation %q", id), err)
	}
	if c := s.recs.Get(id, b); c != nil {
		return c, nil
	}
	return decodeConv(b)
}

// SaveConversation writes c if c.Version is the stored version (0 for new),
// then increments c.Version; else it fails with an error wrapping
// bot.ErrConflict. One round trip: the compare-and-set script on the
// conversation's slot, pipelined with the customer index update (ZADD NX for
// a new conversation, which is idempotent, and the index's expiry).
func (s *Store) SaveConversation(ctx context.Context, c *bot.Conversation) error {
	rec, err := encodeConv(c, c.Version+1)
	if err != nil {
		return fmt.Errorf("redisstore: save %q: %w", c.ID, err)
	}
	exp := s.expireAt()
	keys, args := s.convKeys(c.ID), []any{c.Version, rec, exp}
	pipe := func(p redis.Pipeliner, eval func(redis.Pipeliner) *redis.Cmd) *redis.Cmd {
		cmd := eval(p)
		s.queueCustomer(ctx, p, c, exp)
		return cmd
	}
	var cmd *redis.Cmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmd = pipe(p, func(p redis.Pipeliner) *redis.Cmd { return saveScript.EvalSha(ctx, p, keys, args...) })
		return nil
	})
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") { // not cached on that node yet: nothing ran
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			cmd = pipe(p, func(p redis.Pipeliner) *redis.Cmd { return saveScript.Eval(ctx, p, keys, args...) })
			return nil
		})
	}
	if err != nil {
		return s.wrap(fmt.Sprintf("save %q", c.ID), err)
	}
	cur, err := cmd.Int64()
	if err != nil {
		return s.wrap(fmt.Sprintf("save %q", c.ID), err)
	}
	if cur >= 0 {
		return fmt.Errorf("redisstore: conversation %q: version %d, stored %d: %w", c.ID, c.Version, cur, bot.ErrConflict)
	}
	c.Version++
	s.recs.Put(c.ID, rec, c.Clone())
	return nil
}

// CustomerConversations lists a customer's live conversations, oldest first.
// Entries of expired conversations are dropped from the index on the way.
func (s *Store) CustomerConversations(ctx context.Context, customerID string) ([]bot.ConversationID, error) {
	k := s.p + "cust:" + customerID
	ids, err := s.rdb.ZRange(ctx, k, 0, -1).Result()
	if err != nil || len(ids) == 0 {
		return nil, s.wrap("customer conversations", err)
	}
	cmds := make([]*redis.IntCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Exists(ctx, s.convKeys(bot.ConversationID(id))[0])
		}
		return nil
	}); err != nil {
		return nil, s.wrap("customer conversations", err)
	}
	var out []bot.ConversationID
	var dead []any
	for i, id := range ids {
		if cmds[i].Val() == 1 {
			out = append(out, bot.ConversationID(id))
		} else {
			dead = append(dead, id)
		}
	}
	if len(dead) > 0 {
		if err := s.rdb.ZRem(ctx, k, dead...).Err(); err != nil {
			s.log.Warn("redisstore: trimming customer index", "err", err)
		}
	}
	return out, nil
}

// ---- transcripts

// appendScript: KEYS t, c, h; ARGV pexpireat, header, messages...
// Returns 1 if appended, else the stored header, which differs from ARGV[2].
var appendScript = redis.NewScript(`
local h = redis.call('LINDEX', KEYS[1], 0)
if not h then redis.call('RPUSH', KEYS[1], ARGV[2])
elseif h ~= ARGV[2] then return h end
for i = 3, #ARGV, 100 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 99, #ARGV)))
end
for i = 1, #KEYS do redis.call('PEXPIREAT', KEYS[i], ARGV[1]) end
return 1`)

// Append adds msgs to the end of the transcript of id: one RPUSH in one round
// trip, whatever the transcript's length.
func (s *Store) Append(ctx context.Context, id bot.ConversationID, msgs ...bot.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	k := s.convKeys(id)
	hdr := guessHeader(id, msgs)
	for range 3 {
		hb, err := jsonenc.Marshal(&hdr)
		if err != nil {
			return fmt.Errorf("redisstore: append %q: %w", id, err)
		}
		args := make([]any, 0, 2+len(msgs))
		args = append(args, s.expireAt(), hb)
		for i := range msgs {
			b, err := encodeMsg(&msgs[i], &hdr)
			if err != nil {
				return fmt.Errorf("redisstore: append %q: %w", id, err)
			}
			args = append(args, b)
		}
		res, err := appendScript.Run(ctx, s.rdb, []string{k[1], k[0], k[2]}, args...).Result()
		if err != nil {
			return s.wrap(fmt.Sprintf("append %q", id), err)
		}
		stored, ok := res.(string)
		if !ok {
			return nil
		}
		hdr = header{}
		if err := json.Unmarshal([]byte(stored), &hdr); err != nil {
			return fmt.Errorf("redisstore: append %q: bad transcript header: %w", id, err)
		}
	}
	return fmt.Errorf("redisstore: append %q: transcript header keeps changing: %w", id, bot.ErrConflict)
}

// Transcript returns the last n messages of id, oldest first (all if n <= 0).
func (s *Store) Transcript(ctx context.Context, id bot.ConversationID, n int) ([]bot.Message, error) {
	k := s.convKeys(id)[1]
	start := int64(1)
	if n > 0 {
		start = -int64(n)
	}
	var hdrCmd *redis.StringCmd
	var lenCmd *redis.IntCmd
	var rangeCmd *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		hdrCmd = p.LIndex(ctx, k, 0)
		lenCmd = p.LLen(ctx, k)
		rangeCmd = p.LRange(ctx, k, start, -1)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return []bot.Message{}, nil
	}
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("transcript %q", id), err)
	}
	vals := rangeCmd.Val()
	if n > 0 && lenCmd.Val() <= int64(n) && len(vals) > 0 {
		vals = vals[1:] // the range reached the header
	}
	var hdr header
	if err := json.Unmarshal([]byte(hdrCmd.Val()), &hdr); err != nil {
		return nil, fmt.Errorf("redisstore: transcript %q: bad header: %w", id, err)
	}
	out := make([]bot.Message, len(vals))
	for i, v := range vals {
		if err := decodeMsg([]byte(v), &hdr, &out[i]); err != nil {
			return nil, fmt.Errorf("redisstore: transcript %q: %w", id, err)
		}
	}
	return out, nil
}

// ---- dedupe

// FirstSeen records key until now+ttl (the store's DedupeTTL if ttl <= 0)
// with SET NX and reports whether this call set it.
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		ttl = s.dedupe
	}
	at := s.now().Add(ttl).Truncate(time.Millisecond)
	err := s.rdb.SetArgs(ctx, s.p+"dd:"+key, "1", redis.SetArgs{Mode: "NX", ExpireAt: at}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap("first seen", err)
	}
	return true, nil
}

// ---- leases

var leaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1`)

var unleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`)

// Lease acquires or renews name for owner until now+ttl and reports whether
// owner holds it after the call.
func (s *Store) Lease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	at := s.now().Add(ttl).UnixMilli()
	n, err := leaseScript.Run(ctx, s.rdb, []string{s.p + "lease:" + name}, owner, at).Int()
	return n == 1, s.wrap("lease "+name, err)
}

// Unlease gives name up if owner holds it.
func (s *Store) Unlease(ctx context.Context, name, owner string) error {
	return s.wrap("unlease "+name, unleaseScript.Run(ctx, s.rdb, []string{s.p + "lease:" + name}, owner).Err())
}

// ---- timers

func (s *Store) timerKeys() []string { return []string{s.p + "{timers}:z", s.p + "{timers}:h"} }

// dueScript: KEYS z, h; ARGV now (ms), n. Pops up to n due timers atomically.
var dueScript = redis.NewScript(`
local ks = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #ks == 0 then return {} end
local vs = redis.call('HMGET', KEYS[2], unpack(ks))
redis.call('ZREM', KEYS[1], unpack(ks))
redis.call('HDEL', KEYS[2], unpack(ks))
return vs`)

// Schedule stores t, replacing a timer with the same key.
func (s *Store) Schedule(ctx context.Context, t bot.Timer) error {
	b, err := jsonenc.Marshal(&t)
	if err != nil {
		return fmt.Errorf("redisstore: schedule %q: %w", t.Key, err)
	}
	// The score rounds At up to the millisecond, so Due never returns a timer early.
	score := float64((t.At.UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond))
	k := s.timerKeys()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k[1], t.Key, b)
		p.ZAdd(ctx, k[0], redis.Z{Score: score, Member: t.Key})
		return nil
	})
	return s.wrap("schedule "+t.Key, err)
}

// Cancel deletes the timer key; a missing one is not an error.
func (s *Store) Cancel(ctx context.Context, key string) error {
	k := s.timerKeys()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, k[0], key)
		p.HDel(ctx, k[1], key)
		return nil
	})
	return s.wrap("cancel "+key, err)
}

// Due removes and returns up to n timers (all if n <= 0) with At <= now,
// earliest first. Each batch is popped by one Lua script, so concurrent
// callers never receive the same timer.
func (s *Store) Due(ctx context.Context, now time.Time, n int) ([]bot.Timer, error) {
	const batch = 500
	var out []bot.Timer
	for n <= 0 || len(out) < n {
		want := batch
		if n > 0 {
			want = min(batch, n-len(out))
		}
		vals, err := dueScript.Run(ctx, s.rdb, s.timerKeys(), now.UnixMilli(), want).Slice()
		if err != nil {
			return out, s.wrap("due", err)
		}
		for _, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue // removed between ZADD and HSET: cannot happen in MULTI, skip anyway
			}
			var t bot.Timer
			if err := json.Unmarshal([]byte(str), &t); err != nil {
				return out, fmt.Errorf("redisstore: due: %w", err)
			}
			out = append(out, t)
		}
		if len(vals) < want {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b bot.Timer) int { return a.At.Compare(b.At) })
	return out, nil
}

// ---- docs

func (s *Store) docKeys(name string) []string {
	k := s.p + "{doc:" + name + "}:"
	return []string{k + "v", k + "h"}
}

// putDocScript: KEYS v, h; ARGV expect, new version, meta, data, expiry
// (Unix ms, 0 for none). Returns -1 if written, else the latest version.
var putDocScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur ~= tonumber(ARGV[1]) then return cur end
if cur == 0 then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3], ARGV[2] .. ':d', ARGV[4])
redis.call('SET', KEYS[1], ARGV[2])
local at = tonumber(ARGV[5])
if at > 0 then
  redis.call('PEXPIREAT', KEYS[1], at)
  redis.call('PEXPIREAT', KEYS[2], at)
else
  redis.call('PERSIST', KEYS[2])
end
return -1`)

// docScript: KEYS v, h; ARGV version (0: latest), with data (1/0), limit.
// Returns metas of versions v, v-1, ... (limit of them), then the data of v if asked.
var docScript = redis.NewScript(`
local v = tonumber(ARGV[1])
if v == 0 then v = tonumber(redis.call('GET', KEYS[1]) or '0') end
if v == 0 then return {} end
local fs = {}
for i = v, math.max(1, v - tonumber(ARGV[3]) + 1), -1 do fs[#fs + 1] = tostring(i) end
if ARGV[2] == '1' then fs[#fs + 1] = v .. ':d' end
return redis.call('HMGET', KEYS[2], unpack(fs))`)

func (s *Store) docs(ctx context.Context, name string, version int64, data bool, limit int) ([]bot.Doc, error) {
	d := "0"
	if data {
		d = "1"
	}
	vals, err := docScript.Run(ctx, s.rdb, s.docKeys(name), version, d, limit).Slice()
	if err != nil {
		return nil, s.wrap("doc "+name, err)
	}
	var raw any
	if data && len(vals) > 0 {
		raw, vals = vals[len(vals)-1], vals[:len(vals)-1]
	}
	var out []bot.Doc
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			break
		}
		var doc bot.Doc
		if err := json.Unmarshal([]byte(str), &doc); err != nil {
			return nil, fmt.Errorf("redisstore: doc %q: %w", name, err)
		}
		out = append(out, doc)
	}
	if str, ok := raw.(string); ok && len(out) > 0 {
		out[0].Data = []byte(str)
	}
	return out, nil
}

// Doc returns the latest version of name, or an error wrapping bot.ErrNotFound.
func (s *Store) Doc(ctx context.Context, name string) (bot.Doc, error) {
	ds, err := s.docs(ctx, name, 0, true, 1)
	if err == nil && len(ds) == 0 {
		err = fmt.Errorf("redisstore: doc %q: %w", name, bot.ErrNotFound)
	}
	if err != nil {
		return bot.Doc{}, err
	}
	return ds[0], nil
}

// DocAt returns one version of name, or an error wrapping bot.ErrNotFound.
func (s *Store) DocAt(ctx context.Context, name string, version int64) (bot.Doc, error) {
	var ds []bot.Doc
	var err error
	if version > 0 {
		ds, err = s.docs(ctx, name, version, true, 1)
	}
	if err == nil && len(ds) == 0 {
		err = fmt.Errorf("redisstore: doc %q version %d: %w", name, version, bot.ErrNotFound)
	}
	if err != nil {
		return bot.Doc{}, err
	}
	return ds[0], nil
}

// DocVersion returns the latest version number of name, 0 if none.
func (s *Store) DocVersion(ctx context.Context, name string) (int64, error) {
	v, err := s.rdb.Get(ctx, s.docKeys(name)[0]).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, s.wrap("doc version "+name, err)
}

// PutDoc stores d as version expect+1 if the latest version is expect, else
// it fails with an error wrapping bot.ErrConflict. At defaults to now.
func (s *Store) PutDoc(ctx context.Context, d bot.Doc, expect int64) (bot.Doc, error) {
	d.Version = expect + 1
	if d.At.IsZero() {
		d.At = s.now().UTC()
	}
	meta := d
	meta.Data = nil
	mb, err := jsonenc.Marshal(&meta)
	if err != nil {
		return bot.Doc{}, fmt.Errorf("redisstore: put doc %q: %w", d.Name, err)
	}
	var at int64
	if !d.Expires.IsZero() {
		at = max(d.Expires.UnixMilli(), 1)
	}
	cur, err := putDocScript.Run(ctx, s.rdb, s.docKeys(d.Name), expect, d.Version, mb, d.Data, at).Int64()
	if err != nil {
		return bot.Doc{}, s.wrap("put doc "+d.Name, err)
	}
	if cur >= 0 {
		return bot.Doc{}, fmt.Errorf("redisstore: doc %q: version %d, expected %d: %w", d.Name, cur, expect, bot.ErrConflict)
	}
	s.publishDoc(ctx, d) // replicas reload at once (WatchDocs); polling covers a lost notice
	return d, nil
}

// DocHistory lists up to limit versions of name (all if limit <= 0), newest
// first, without Data.
func (s *Store) DocHistory(ctx context.Context, name string, limit int) ([]bot.Doc, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	return s.docs(ctx, name, 0, false, limit)
}

// queueCustomer queues on p the customer index entry of c (added when c is
// new) and moves its expiry to exp (Unix ms). Nothing without a customer.
func (s *Store) queueCustomer(ctx context.Context, p redis.Pipeliner, c *bot.Conversation, exp int64) {
	if c.Customer.ID == "" {
		return
	}
	k := s.p + "cust:" + c.Customer.ID
	if c.Version == 0 {
		created := c.Created
		if created.IsZero() {
			created = s.now()
		}
		p.ZAddNX(ctx, k, redis.Z{Score: float64(created.UnixMilli()), Member: string(c.ID)})
	}
	p.PExpireAt(ctx, k, time.UnixMilli(exp))
}

// ---- events

func (s *Store) eventKey(t time.Time) string { return s.p + "ev:" + t.UTC().Format("20060102") }

// RecordEvent adds e (At defaults to now) to the set of its UTC day, which
// expires EventsRetention after the day ends; older events are trimmed.
func (s *Store) RecordEvent(ctx context.Context, e bot.Event) error {
	now := s.now()
	if e.At.IsZero() {
		e.At = now.UTC()
	}
	b, err := jsonenc.Marshal(&e)
	if err != nil {
		return fmt.Errorf("redisstore: record event: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		s.queueEvent(ctx, p, now, e, b)
		return nil
	})
	return s.wrap("record event", err)
}

// queueEvent queues the writes of e (encoded as b) on p.
func (s *Store) queueEvent(ctx context.Context, p redis.Pipeliner, now time.Time, e bot.Event, b []byte) {
	// The member starts with the exact time and a random tag: ordered, and
	// distinct for equal events.
	member := fmt.Sprintf("%016x%08x", uint64(e.At.UnixNano()), rand.Uint32()) + string(b)
	k := s.eventKey(e.At)
	dayStart, dayEnd := day(e.At)
	p.ZAdd(ctx, k, redis.Z{Score: float64(e.At.UnixMilli()), Member: member})
	p.PExpireAt(ctx, k, dayEnd.Add(s.events))
	if cut := now.Add(-s.events); dayStart.Before(cut) { // else the day's set has nothing older
		p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(cut.UnixMilli(), 10))
	}
}

// day returns the start and the end of t's UTC day.
func day(t time.Time) (start, end time.Time) {
	y, m, d := t.UTC().Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 0, 1)
}

// recordEvent queues e's writes on p, as RecordEvent does in its own
// transaction (the writes are idempotent but for the random tag).
func (s *Store) recordEvent(ctx context.Context, p redis.Pipeliner, e bot.Event) error {
	now := s.now()
	if e.At.IsZero() {
		e.At = now.UTC()
	}
	b, err := jsonenc.Marshal(&e)
	if err != nil {
		return err
	}
	s.queueEvent(ctx, p, now, e, b)
	return nil
}

// Events returns the events with since <= At < until, oldest first, among
// those younger than the events retention.
func (s *Store) Events(ctx context.Context, since, until time.Time) ([]bot.Event, error) {
	if cut := s.now().Add(-s.events); since.Before(cut) {
		since = cut
	}
	if !since.Before(until) {
		return nil, nil
	}
	var cmds []*redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		y, m, d := since.UTC().Date()
		for day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); day.Before(until); day = day.AddDate(0, 0, 1) {
			cmds = append(cmds, p.ZRangeByScore(ctx, s.eventKey(day), &redis.ZRangeBy{
				Min: strconv.FormatInt(since.UnixMilli(), 10), Max: strconv.FormatInt(until.UnixMilli(), 10)}))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.wrap("events", err)
	}
	var out []bot.Event
	for _, c := range cmds {
		vals := c.Val()
		slices.Sort(vals) // same-millisecond members by their exact time
		for _, v := range vals {
			var e bot.Event
			if len(v) < 24 || json.Unmarshal([]byte(v[24:]), &e) != nil {
				return nil, fmt.Errorf("redisstore: events: bad member %.40q", v)
			}
			if !e.At.Before(since) && e.At.Before(until) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// ---- the desk

func (s *Store) queueKey() string  { return s.p + "{queue}" }
func (s *Store) agentsKey() string { return s.p + "{agents}" }

// Enqueue adds or replaces the queue entry of e.Conv.
func (s *Store) Enqueue(ctx context.Context, e handoff.Entry) error {
	b, err := jsonenc.Marshal(&e)
	if err != nil {
		return fmt.Errorf("redisstore: enqueue %q: %w", e.Conv, err)
	}
	return s.wrap("enqueue", s.rdb.HSet(ctx, s.queueKey(), string(e.Conv), b).Err())
}

// Dequeue removes id from the queue; a missing entry is not an error.
func (s *Store) Dequeue(ctx context.Context, id bot.ConversationID) error {
	return s.wrap("dequeue", s.rdb.HDel(ctx, s.queueKey(), string(id)).Err())
}

// Queue lists waiting conversations by priority (high first), then age.
func (s *Store) Queue(ctx context.Context) ([]handoff.Entry, error) {
	m, err := s.rdb.HGetAll(ctx, s.queueKey()).Result()
	if err != nil {
		return nil, s.wrap("queue", err)
	}
	out := make([]handoff.Entry, 0, len(m))
	for _, v := range m {
		var e handoff.Entry
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, fmt.Errorf("redisstore: queue: %w", err)
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b handoff.Entry) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(string(a.Conv), string(b.Conv))
	})
	return out, nil
}

// claimScript: KEYS h, c, t; ARGV agent, pexpireat. Returns "" if agent
// holds the conversation now, else the holder.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
redis.call('PEXPIREAT', KEYS[3], ARGV[2])
return ''`)

var unclaimScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`)

// Claim gives id to agent atomically (one Lua script on the conversation's
// slot), then removes it from the queue and indexes it under the agent. If
// another agent holds it, it fails with an error wrapping bot.ErrClaimed.
func (s *Store) Claim(ctx context.Context, id bot.ConversationID, agent string) error {
	k := s.convKeys(id)
	holder, err := claimScript.Run(ctx, s.rdb, []string{k[2], k[0], k[1]}, agent, s.expireAt()).Text()
	if err != nil {
		return s.wrap(fmt.Sprintf("claim %q", id), err)
	}
	if holder != "" {
		return fmt.Errorf("redisstore: conversation %q is held by %s: %w", id, holder, bot.ErrClaimed)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, s.queueKey(), string(id))
		p.SAdd(ctx, s.heldKey(agent), string(id))
		return nil
	})
	return s.wrap(fmt.Sprintf("claim %q", id), err)
}

// Holder returns the agent holding id, "" if none.
func (s *Store) Holder(ctx context.Context, id bot.ConversationID) (string, error) {
	h, err := s.rdb.Get(ctx, s.convKeys(id)[2]).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return h, s.wrap(fmt.Sprintf("holder %q", id), err)
}

// Unclaim releases id if agent holds it.
func (s *Store) Unclaim(ctx context.Context, id bot.ConversationID, agent string) error {
	if err := unclaimScript.Run(ctx, s.rdb, s.convKeys(id)[2:], agent).Err(); err != nil {
		return s.wrap(fmt.Sprintf("unclaim %q", id), err)
	}
	return s.wrap(fmt.Sprintf("unclaim %q", id), s.rdb.SRem(ctx, s.heldKey(agent), string(id)).Err())
}

// Held lists the conversations agent holds, sorted by ID. The claim keys are
// the truth; index entries of expired or released claims are dropped.
func (s *Store) Held(ctx context.Context, agent string) ([]bot.ConversationID, error) {
	m, err := s.held(ctx, []string{agent})
	return m[agent], err
}

// held returns the verified claims of each agent.
func (s *Store) held(ctx context.Context, agents []string) (map[string][]bot.ConversationID, error) {
	members := make([]*redis.StringSliceCmd, len(agents))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range agents {
			members[i] = p.SMembers(ctx, s.heldKey(a))
		}
		return nil
	}); err != nil {
		return nil, s.wrap("held", err)
	}
	type claim struct {
		agent string
		id    string
		cmd   *redis.StringCmd
	}
	var claims []claim
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range agents {
			for _, id := range members[i].Val() {
				claims = append(claims, claim{a, id, p.Get(ctx, s.convKeys(bot.ConversationID(id))[2])})
			}
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.wrap("held", err)
	}
	out := map[string][]bot.ConversationID{}
	for _, c := range claims {
		if c.cmd.Val() == c.agent {
			out[c.agent] = append(out[c.agent], bot.ConversationID(c.id))
		} else if err := s.rdb.SRem(ctx, s.heldKey(c.agent), c.id).Err(); err != nil {
			s.log.Warn("redisstore: trimming held index", "err", err)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}

// PutAgent creates or updates an agent (Active is ignored).
func (s *Store) PutAgent(ctx context.Context, a handoff.Agent) error {
	a.Active = 0
	b, err := jsonenc.Marshal(&a)
	if err != nil {
		return fmt.Errorf("redisstore: put agent %q: %w", a.ID, err)
	}
	return s.wrap("put agent", s.rdb.HSet(ctx, s.agentsKey(), a.ID, b).Err())
}

// Agents lists agents sorted by ID, with Active counted from their claims.
func (s *Store) Agents(ctx context.Context) ([]handoff.Agent, error) {
	m, err := s.rdb.HGetAll(ctx, s.agentsKey()).Result()
	if err != nil {
		return nil, s.wrap("agents", err)
	}
	out := make([]handoff.Agent, 0, len(m))
	ids := make([]string, 0, len(m))
	for _, v := range m {
		var a handoff.Agent
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return nil, fmt.Errorf("redisstore: agents: %w", err)
		}
		out = append(out, a)
		ids = append(ids, a.ID)
	}
	held, err := s.held(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Active = len(held[out[i].ID])
	}
	slices.SortFunc(out, func(a, b handoff.Agent) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// MemoryUsage sums MEMORY USAGE (all samples) of the keys of conversation id:
// the record, the transcript and the claim.
func (s *Store) MemoryUsage(ctx context.Context, id bot.ConversationID) (int64, error) {
	var total int64
	for _, k := range s.convKeys(id) {
		n, err := s.rdb.MemoryUsage(ctx, k, 0).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return 0, s.wrap("memory usage", err)
		}
		total += n
	}
	return total, nil
}
