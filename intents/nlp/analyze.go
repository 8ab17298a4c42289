package nlp

import (
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// scoreIndex is the per-message form of a Detector's language models: one
// lookup per feature instead of one per feature and language. It is an
// open-addressing table (linear probing, at most half full) whose slot is
// a feature's 64-bit hash followed by its log-probability in every
// language (the language's unseen value where it lacks the feature), in
// the order of Detector.langs: a lookup reads one slot, mostly one or two
// cache lines, where a map read a control word, a key header, the key's
// bytes and a row, each a cache miss when the message comes cold. Words
// and n-grams hash with different seeds; should two features' hashes
// collide (with 64 bits, about once in 10^10 builds), the build starts
// again with new seeds.
type scoreIndex struct {
	nl           int
	slots        []uint64 // len = size*(1+nl): hash (0: empty), then nl float64 bits
	size         uint64
	grams, words maphash.Seed
}

// fastState is Analyze's form of a Detector: the index NewDetector builds,
// and scratch space.
type fastState struct {
	ix   *scoreIndex
	pool sync.Pool // *scanner
}

func newScoreIndex(langs []*langModel) *scoreIndex {
	for {
		if ix := buildScoreIndex(langs); ix != nil {
			return ix
		}
	}
}

// buildScoreIndex builds the index with new seeds, or returns nil if two
// features' hashes collide.
func buildScoreIndex(langs []*langModel) *scoreIndex {
	type feature struct {
		word bool
		f    string
	}
	var fs []feature
	seen := map[feature]bool{}
	for _, word := range []bool{false, true} {
		for _, m := range langs {
			for f := range m.table(word) {
				if k := (feature{word, f}); !seen[k] {
					seen[k] = true
					fs = append(fs, k)
				}
			}
		}
	}
	nl := len(langs)
	ix := &scoreIndex{nl: nl, size: uint64(2*len(fs) + 1), grams: maphash.MakeSeed(), words: maphash.MakeSeed()}
	ix.slots = make([]uint64, int(ix.size)*(1+nl))
	for _, k := range fs {
		h := ix.hash(k.word, []byte(k.f))
		i, found := ix.find(h)
		if found {
			return nil // a collision: features are distinct
		}
		ix.slots[i] = h
		for j, l := range langs {
			lp, ok := l.table(k.word)[k.f]
			if !ok {
				lp = l.unseen(k.word)
			}
			ix.slots[i+1+j] = math.Float64bits(lp)
		}
	}
	return ix
}

// table is the model's log-probabilities of words or of n-grams.
func (m *langModel) table(word bool) map[string]float64 {
	if word {
		return m.words
	}
	return m.grams
}

// unseen is the model's log-probability of a word or n-gram it lacks.
func (m *langModel) unseen(word bool) float64 {
	if word {
		return m.wordUnseen
	}
	return m.gramUnseen
}

// hash is feature f's key: never 0, which marks an empty slot.
func (ix *scoreIndex) hash(word bool, f []byte) uint64 {
	seed := ix.grams
	if word {
		seed = ix.words
	}
	return max(maphash.Bytes(seed, f), 1)
}

// touch reads the first and last word of the home slot of every feature
// in fs and returns a value of no meaning. Run ahead of their lookups,
// these independent loads let the cache misses of a cold message overlap
// instead of coming one after another. It is not inlined, so that the
// loads are not dropped.
//
//go:noinline
func (ix *scoreIndex) touch(fs []scanFeature) (sink uint64) {
	stride := 1 + ix.nl
	for _, f := range fs {
		hi, _ := bits.Mul64(f.h, ix.size)
		i := int(hi) * stride
		sink += ix.slots[i] + ix.slots[i+ix.nl]
	}
	return sink
}

// find returns the offset of h's slot in ix.slots, or of the empty slot
// where it would go.
func (ix *scoreIndex) find(h uint64) (int, bool) {
	stride := 1 + ix.nl
	hi, _ := bits.Mul64(h, ix.size)
	for s := hi; ; {
		i := int(s) * stride
		switch ix.slots[i] {
		case h:
			return i, true
		case 0:
			return i, false
		}
		if s++; s == ix.size {
			s = 0
		}
	}
}

// scanner holds the words of one message as forEachFeature sees them,
// without allocating for ASCII words: buf holds each word lower-cased and
// padded with spaces, " word ".
type scanner struct {
	buf    []byte
	words  []scanWord
	bounds []int // rune starts of one padded word, and its length
	scores []float64
	feats  []scanFeature
}

// scanFeature is a feature of the message as Analyze scores it: its key
// in the scoreIndex and its weight.
type scanFeature struct {
	h      uint64
	weight float64
}

type scanWord struct {
	start, end int // the word is buf[start:end], padded buf[start-1:end+1]
	name       bool
}

func (s *scanner) word(w scanWord) []byte { return s.buf[w.start:w.end] }

// scan splits text into words exactly as forEachFeature does.
func (s *scanner) scan(text string) {
	s.buf, s.words = s.buf[:0], s.words[:0]
	text = norm.NFC.String(strings.ToValidUTF8(text, " "))
	first := true
	field := func(w string) {
		w = strings.TrimLeft(w, ".?!")
		r, _ := utf8.DecodeRuneInString(w)
		name := unicode.IsUpper(r) && !first
		i := strings.IndexAny(w, ".?!")
		first = i >= 0
		if i >= 0 {
			w = w[:i]
		}
		if w == "" {
			return
		}
		s.buf = append(s.buf, ' ')
		start := len(s.buf)
		if isASCII(w) {
			for i := 0; i < len(w); i++ {
				c := w[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				s.buf = append(s.buf, c)
			}
		} else {
			s.buf = append(s.buf, strings.ToLower(TransliterateSerbian(w))...)
		}
		s.words = append(s.words, scanWord{start, len(s.buf), name})
		s.buf = append(s.buf, ' ')
	}
	start := -1 // of the current field
	for i := 0; i < len(text); {
		c := text[i]
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		in := r == '.' || r == '?' || r == '!'
		if !in {
			if r < utf8.RuneSelf {
				in = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			} else {
				in = unicode.IsLetter(r)
			}
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			field(text[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		field(text[start:])
	}
	// One or two short lower-case words between two names belong to the
	// name (see forEachFeature).
	short := func(j int) bool {
		return j < len(s.words) && utf8.RuneCount(s.word(s.words[j])) <= 3
	}
	for i := 1; i+1 < len(s.words); i++ {
		if !s.words[i-1].name || s.words[i].name || !short(i) {
			continue
		}
		if s.words[i+1].name {
			s.words[i].name = true
		} else if short(i+1) && i+2 < len(s.words) && s.words[i+2].name {
			s.words[i].name, s.words[i+1].name = true, true
		}
	}
}

// each calls fn with the features of the scanned words in forEachFeature's
// order. A feature is only valid during the call.
func (s *scanner) each(fn func(feature []byte, word bool, weight float64)) {
	for _, w := range s.words {
		weight := 1.0
		if w.name {
			weight = nameWeight
		}
		fn(s.word(w), true, weight)
		p := s.buf[w.start-1 : w.end+1]
		if asciiBytes(p) { // a rune is a byte
			for n := 1; n <= 3; n++ {
				for i := 0; i+n <= len(p); i++ {
					if n > 1 || p[i] != ' ' {
						fn(p[i:i+n], false, weight)
					}
				}
			}
			continue
		}
		b := s.bounds[:0]
		for i, c := range p {
			if utf8.RuneStart(c) {
				b = append(b, i)
			}
		}
		b = append(b, len(p))
		s.bounds = b
		for n := 1; n <= 3; n++ {
			for i := 0; i+n < len(b); i++ {
				if n > 1 || p[b[i]] != ' ' {
					fn(p[b[i]:b[i+n]], false, weight)
				}
			}
		}
	}
}

// Analyze is Detect with the script of the text.
func (d *Detector) Analyze(text string) Detection {
	res := Detection{Script: script(text)}
	if len(d.langs) == 0 || res.Script == "" {
		return res
	}
	ix := d.fast.ix
	s, _ := d.fast.pool.Get().(*scanner)
	if s == nil {
		s = &scanner{}
	}
	defer d.fast.pool.Put(s)
	nl := len(d.langs)
	if cap(s.scores) < nl {
		s.scores = make([]float64, nl)
	}
	scores := s.scores[:nl]
	clear(scores)
	var letters float64
	s.scan(text)
	s.feats = s.feats[:0]
	s.each(func(g []byte, word bool, weight float64) {
		if word {
			letters += weight * float64(utf8.RuneCount(g))
			weight *= wordWeight
		}
		s.feats = append(s.feats, scanFeature{ix.hash(word, g), weight})
	})
	ix.touch(s.feats)
	for _, f := range s.feats {
		// Evidence no language has seen (names, numbers) says nothing;
		// the index holds the features some language has seen.
		i, ok := ix.find(f.h)
		if !ok {
			continue
		}
		for j, lp := range ix.slots[i+1 : i+1+nl] {
			scores[j] += f.weight * math.Float64frombits(lp)
		}
	}
	return d.decideLang(res, scores, letters)
}

// decideLang turns the language scores into the detection.
func (d *Detector) decideLang(res Detection, scores []float64, letters float64) Detection {
	// Cyrillic text is Serbian unless examples showed another language in
	// Cyrillic; Latin text is not one only ever seen in Cyrillic.
	for i, m := range d.langs {
		if res.Script == "Cyrl" && m.code != "sr" && !d.hasCyr[m.code] {
			scores[i] -= 1e6
		}
	}
	best, sum := 0, 0.0
	for i := range scores {
		if scores[i] > scores[best] {
			best = i
		}
	}
	for i := range scores {
		sum += math.Exp(confScale * (scores[i] - scores[best]))
	}
	res.Lang = d.langs[best].code
	res.Confidence = 1 / sum * math.Min(1, letters/fullConfLetters)
	return res
}

func asciiBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
