// Package reccache keeps the records of recently committed conversations
// decoded, for the stores that keep them as JSON.
package reccache

import (
	"bytes"
	"hash/maphash"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Cache keeps the records of recently committed conversations decoded, so
// that the next turn's read does not decode the JSON again. An entry is
// used only while the stored record is byte for byte the one it was made
// from, so whatever else writes the record (another process, or a delete)
// makes it unused; it is what json.Unmarshal of that record gives, and
// every reader gets its own copy. The zero Cache is ready to use.
type Cache struct {
	shards [shards]shard
}

// A Cache is split in shards, each with its own lock, so that the
// conversations' workers do not queue on one mutex: with one, they waited
// about 19 µs a message in all at 100 conversations (mutex profile of
// BenchmarkEngineEmbedded).
const shards = 32

type shard struct {
	mu sync.Mutex
	m  map[bot.ConversationID]entry
}

var seed = maphash.MakeSeed()

func (r *Cache) shard(id bot.ConversationID) *shard {
	return &r.shards[maphash.String(seed, string(id))%shards]
}

type entry struct {
	rec string
	c   *bot.Conversation // never changed; readers get clones
}

// size bounds the entries: about 1.5 KB each, so 24 MB when full. With
// 4,096, a bot with 10,000 conversations under way decoded about 60 % of
// its records again (about 8 µs a turn).
const size = 16384

// Get returns a copy of the cached record of id if it was made from rec.
func (r *Cache) Get(id bot.ConversationID, rec []byte) *bot.Conversation {
	return r.get(id, func(s string) bool { return s == string(rec) })
}

// GetString is Get for a record held as a string.
func (r *Cache) GetString(id bot.ConversationID, rec string) *bot.Conversation {
	return r.get(id, func(s string) bool { return s == rec })
}

// get returns a copy of the cached record of id if same says its record
// is the stored one.
func (r *Cache) get(id bot.ConversationID, same func(rec string) bool) *bot.Conversation {
	sh := r.shard(id)
	sh.mu.Lock()
	e, ok := sh.m[id]
	sh.mu.Unlock()
	if !ok || !same(e.rec) {
		return nil
	}
	return e.c.Clone()
}

// Put caches c, which was just stored as rec and decodes from it as
// decode would, made AsDecoded (Put keeps c: the caller must not use it
// afterwards).
func (r *Cache) Put(id bot.ConversationID, rec []byte, c *bot.Conversation) {
	if bytes.Contains(rec, []byte(`\ufffd`)) {
		// Encoding may have replaced invalid UTF-8: decode it instead.
		r.Drop(id)
		return
	}
	AsDecoded(c)
	e := entry{rec: string(rec), c: c} // the copy outside the lock
	sh := r.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = map[bot.ConversationID]entry{}
	}
	if _, ok := sh.m[id]; !ok && len(sh.m) >= size/shards {
		for k := range sh.m { // an arbitrary entry
			delete(sh.m, k)
			break
		}
	}
	sh.m[id] = e
}

// Drop forgets id.
func (r *Cache) Drop(id bot.ConversationID) {
	sh := r.shard(id)
	sh.mu.Lock()
	delete(sh.m, id)
	sh.mu.Unlock()
}

// AsDecoded makes c what decoding its JSON gives: empty (omitempty)
// slices and maps nil, times without a monotonic reading and in the
// location time.Parse gives them.
func AsDecoded(c *bot.Conversation) {
	if len(c.Tried) == 0 {
		c.Tried = nil
	}
	if len(c.History) == 0 {
		c.History = nil
	}
	if len(c.Data) == 0 {
		c.Data = nil
	}
	for _, t := range []*time.Time{&c.Created, &c.Updated, &c.Queued, &c.Claimed, &c.FirstReply, &c.Resolved} {
		*t = jsonTime(*t)
	}
	for i := range c.History {
		c.History[i].At = jsonTime(c.History[i].At)
	}
	if c.CSAT != nil {
		c.CSAT.At = jsonTime(c.CSAT.At)
	}
}

// jsonTime is t after a JSON round trip (RFC 3339, then time.Parse).
func jsonTime(t time.Time) time.Time {
	t = t.Round(0)
	_, off := t.Zone()
	if off == 0 {
		return t.UTC()
	}
	if _, local := t.In(time.Local).Zone(); local == off {
		return t.In(time.Local)
	}
	return t.In(time.FixedZone("", off))
}
