package embedded

import (
	"bytes"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// recCache keeps the records of recently committed conversations decoded,
// so that the next turn's Conversation does not decode the JSON again. An
// entry is used only while the stored record is byte for byte the one it
// was made from, so whatever else writes the record (or deletes the
// conversation) makes it unused; it is what json.Unmarshal of that record
// gives, and every reader gets its own copy.
type recCache struct {
	mu sync.Mutex
	m  map[bot.ConversationID]cachedRec
}

type cachedRec struct {
	rec []byte
	c   *bot.Conversation // never changed; readers get clones
}

// recCacheSize bounds the entries: about 1.5 KB each.
const recCacheSize = 4096

// get returns a copy of the cached record of id if it was made from rec.
func (r *recCache) get(id bot.ConversationID, rec []byte) *bot.Conversation {
	r.mu.Lock()
	e, ok := r.m[id]
	r.mu.Unlock()
	if !ok || !bytes.Equal(e.rec, rec) {
		return nil
	}
	return e.c.Clone()
}

// put caches c, which was just stored as rec (c is not used afterwards by
// the caller: put keeps it).
func (r *recCache) put(id bot.ConversationID, rec []byte, c *bot.Conversation) {
	if bytes.Contains(rec, []byte(`\ufffd`)) {
		// Encoding may have replaced invalid UTF-8: decode it instead.
		r.drop(id)
		return
	}
	asDecoded(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[bot.ConversationID]cachedRec{}
	}
	if _, ok := r.m[id]; !ok && len(r.m) >= recCacheSize {
		for k := range r.m { // an arbitrary entry
			delete(r.m, k)
			break
		}
	}
	r.m[id] = cachedRec{rec: rec, c: c}
}

// drop forgets id.
func (r *recCache) drop(id bot.ConversationID) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// asDecoded makes c what decoding its JSON gives: empty (omitempty)
// slices and maps nil, times without a monotonic reading and in the
// location time.Parse gives them.
func asDecoded(c *bot.Conversation) {
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
