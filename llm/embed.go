package llm

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/kb"
)

// EmbeddingsDoc is the store document that caches the knowledge base's
// vectors, keyed by entry and language, content hash and model.
const EmbeddingsDoc = "llm.embeddings"

// ErrNotReady is returned by Similar while the vectors of the knowledge
// base are being computed (the router then ranks offline).
var ErrNotReady = fmt.Errorf("%w: embeddings not ready", ErrFallback)

// Semantic is embedding retrieval over the knowledge base; it implements
// intents.Ranker. The first call for a new knowledge-base version starts
// computing the vectors of edited entries in the background (the cache in
// the store keeps the others) and ranks with the previous version's
// vectors meanwhile.
type Semantic struct{ c *Client }

var _ intents.Ranker = (*Semantic)(nil)

// Semantic returns the ranker of c (nil without an embedding model).
func (c *Client) Semantic() *Semantic {
	if c.cfg.EmbeddingModel == "" {
		return nil
	}
	return &Semantic{c: c}
}

type semIndex struct {
	version int64
	ids     []string // entry ID of each vector ("faq:ID" or intent name)
	vecs    [][]float32
}

type buildState struct {
	mu      sync.Mutex
	version int64 // being built, or 0
}

// Similar implements intents.Ranker: the cosine similarity of text to each
// entry (the best of its languages).
func (s *Semantic) Similar(ctx context.Context, snap *intents.Snapshot, text string) (map[string]float64, error) {
	idx := s.c.sem.Load()
	if idx == nil || idx.version != snap.Version {
		s.c.buildLater(snap.Base, snap.Version)
		if idx == nil {
			return nil, ErrNotReady
		}
	}
	q, err := s.c.Embed(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return idx.similar(normalize(q[0])), nil
}

func (ix *semIndex) similar(q []float32) map[string]float64 {
	out := map[string]float64{}
	for i, v := range ix.vecs {
		sim := dot(q, v)
		if cur, ok := out[ix.ids[i]]; !ok || sim > cur {
			out[ix.ids[i]] = sim
		}
	}
	return out
}

// buildLater computes the vectors of base in the background, once per version.
func (c *Client) buildLater(base *kb.Base, version int64) {
	c.bld.mu.Lock()
	if c.bld.version == version {
		c.bld.mu.Unlock()
		return
	}
	c.bld.version = version
	c.bld.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := c.Prepare(ctx, base, version); err != nil {
			c.log.Warn("embed the knowledge base; ranking offline only", "version", version, "err", err)
			c.bld.mu.Lock()
			c.bld.version = 0 // try again on the next question
			c.bld.mu.Unlock()
		}
	}()
}

// EntryTexts returns the text embedded for each entry and language of
// base, keyed "ID|lang" (ID as in Decision.Intent): the FAQ entry's tags,
// questions and answer, or the answering intent's examples and answer.
func EntryTexts(base *kb.Base) map[string]string {
	out := map[string]string{}
	for _, f := range base.FAQs {
		langs := map[string]bool{}
		for l := range f.Answers {
			langs[l] = true
		}
		for l := range f.Questions {
			langs[l] = true
		}
		for l := range langs {
			parts := append([]string{strings.Join(f.Tags, " ")}, f.Questions[l]...)
			parts = append(parts, f.Answers[l].Text)
			out["faq:"+f.ID+"|"+l] = strings.TrimSpace(strings.Join(parts, "\n"))
		}
	}
	for _, in := range base.Intents {
		if in.Action != kb.ActionAnswer || len(in.Answers) == 0 {
			continue
		}
		for l, xs := range in.Examples {
			out[in.Name+"|"+l] = strings.TrimSpace(in.Description + "\n" + strings.Join(xs, "\n") + "\n" + in.Answers[l].Text)
		}
	}
	return out
}

type embCache struct {
	Model   string              `json:"model"`
	Entries map[string]embEntry `json:"entries"` // "ID|lang"
}

type embEntry struct {
	Hash string `json:"hash"` // of the model and the text
	Vec  string `json:"vec"`  // base64 little-endian float32
}

func contentHash(model, text string) string {
	h := sha256.Sum256([]byte(model + "\x00" + text))
	return hex.EncodeToString(h[:12])
}

// Prepare computes the vectors of base (version), reusing those cached in
// the store whose entry text and model did not change, saves the cache and
// makes the index current. It embeds in batches of 64.
func (c *Client) Prepare(ctx context.Context, base *kb.Base, version int64) error {
	texts := EntryTexts(base)
	model := c.cfg.EmbeddingModel
	var cache embCache
	var ver int64
	if c.st != nil {
		d, err := c.st.Doc(ctx, EmbeddingsDoc)
		switch {
		case err == nil:
			ver = d.Version
			if err := json.Unmarshal(d.Data, &cache); err != nil {
				c.log.Warn("embedding cache unreadable; recomputing", "err", err)
				cache = embCache{}
			}
		case !errors.Is(err, bot.ErrNotFound):
			return err
		}
	}
	next := embCache{Model: model, Entries: map[string]embEntry{}}
	var todo []string
	for key, text := range texts {
		h := contentHash(model, text)
		if e, ok := cache.Entries[key]; ok && e.Hash == h && cache.Model == model {
			next.Entries[key] = e
			continue
		}
		todo = append(todo, key)
	}
	sort.Strings(todo)
	for i := 0; i < len(todo); i += 64 {
		batch := todo[i:min(i+64, len(todo))]
		in := make([]string, len(batch))
		for j, k := range batch {
			in[j] = texts[k]
		}
		vecs, err := c.Embed(ctx, in)
		if err != nil {
			return err
		}
		for j, k := range batch {
			next.Entries[k] = embEntry{Hash: contentHash(model, texts[k]), Vec: encodeVec(vecs[j])}
		}
	}
	changed := len(todo) > 0 || len(next.Entries) != len(cache.Entries) || cache.Model != model
	if c.st != nil && changed {
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = c.st.PutDoc(ctx, bot.Doc{Name: EmbeddingsDoc, Data: data, Author: "llm",
			Note: fmt.Sprintf("vectors for knowledge base v%d (%d recomputed)", version, len(todo))}, ver)
		if err != nil && !errors.Is(err, bot.ErrConflict) { // on conflict another replica saved the same work
			return err
		}
	}
	idx := &semIndex{version: version}
	keys := make([]string, 0, len(next.Entries))
	for k := range next.Entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := decodeVec(next.Entries[k].Vec)
		if err != nil {
			return err
		}
		id, _, _ := strings.Cut(k, "|")
		idx.ids = append(idx.ids, id)
		idx.vecs = append(idx.vecs, normalize(v))
	}
	c.sem.Store(idx)
	c.log.Info("knowledge base embedded", "version", version, "vectors", len(keys), "recomputed", len(todo))
	return nil
}

func encodeVec(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeVec(s string) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		return nil, fmt.Errorf("bad cached vector: %v", err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

func normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Blend ranks documents by (1-w)·offline + w·semantic, where offline
// scores are scaled so the best is 1 and sims are cosine similarities
// (IDs missing from sims count 0). It is how `supportbot eval --llm`
// measures the gain of embeddings.
func Blend(offline []classify.Hit, sims map[string]float64, w float64) []classify.Hit {
	var top float64
	for _, h := range offline {
		top = max(top, h.Score)
	}
	out := make([]classify.Hit, len(offline))
	for i, h := range offline {
		s := 0.0
		if top > 0 {
			s = h.Score / top
		}
		out[i] = classify.Hit{ID: h.ID, Score: (1-w)*s + w*max(sims[h.ID], 0)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// EmbedAll embeds texts in batches of 64 (for evaluation).
func (c *Client) EmbedAll(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for i := 0; i < len(texts); i += 64 {
		vs, err := c.Embed(ctx, texts[i:min(i+64, len(texts))])
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			out = append(out, normalize(v))
		}
	}
	return out, nil
}

// Cosine is the dot product of two normalized vectors (EmbedAll's).
func Cosine(a, b []float32) float64 { return dot(a, b) }
