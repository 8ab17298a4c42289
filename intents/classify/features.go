package classify

import (
	"math"
	"math/bits"
	"slices"

	"github.com/supportbot/supportbot/intents/nlp"
)

// A feature is one active dimension of a sparse vector.
type feature struct {
	idx int32
	val float32
}

// vector is a sparse vector sorted by idx; vectors made by the featurizer
// have unit L2 norm.
type vector []feature

func (v vector) dot32(w []float32) float32 {
	var s float32
	for _, f := range v {
		s += f.val * w[f.idx]
	}
	return s
}

// blocks of features; each is weighted and L2-normalised on its own.
const (
	blockWord = iota // word 1-2-grams
	blockChar        // character 3-5-grams inside word boundaries
	numBlocks
)

// featurizer turns text into tf-idf vectors over a vocabulary of hashed
// n-grams learnt from the training texts.
type featurizer struct {
	vocab       vocabIndex // n-gram hash → feature index and idf
	idf         []float32
	blockWeight [numBlocks]float32
}

// vocabIndex maps n-gram hashes to their feature index and idf weight. It
// is an open-addressing table (linear probing, at most half full) of
// 16-byte slots, four to a cache line: a lookup reads one line, where a
// map read its control word, its slot and then the idf, each a cache miss
// when a message comes cold (most messages of a bot that is not saturated).
type vocabIndex struct {
	slots []vocabSlot
	n     int
}

type vocabSlot struct {
	h   uint64
	idx int32 // feature index + 1; 0 marks an empty slot
	idf float32
}

// newVocabIndex indexes keys[i] as feature i with weight idf[i]; it
// reports false if a key repeats.
func newVocabIndex(keys []uint64, idf []float32) (vocabIndex, bool) {
	v := vocabIndex{slots: make([]vocabSlot, 2*len(keys)+1), n: len(keys)}
	for i, h := range keys {
		s := v.find(h)
		if v.slots[s].idx != 0 {
			return vocabIndex{}, false
		}
		v.slots[s] = vocabSlot{h, int32(i) + 1, idf[i]}
	}
	return v, true
}

// home is the slot where the probe for h starts.
func (v *vocabIndex) home(h uint64) int {
	hi, _ := bits.Mul64(h*0x9e3779b97f4a7c15, uint64(len(v.slots)))
	return int(hi)
}

// touch reads the home slot of every hash in hs and returns a value of no
// meaning. Run ahead of their lookups, these independent loads let the
// cache misses of a cold message overlap (with each other and with the
// sorting in vectorize) instead of coming one after another. It is not
// inlined, so that the loads are not dropped.
//
//go:noinline
func (v *vocabIndex) touch(hs []uint64) (sink int32) {
	for _, h := range hs {
		sink += v.slots[v.home(h)].idx
	}
	return sink
}

// find returns the slot of h, or the empty slot where it would go.
func (v *vocabIndex) find(h uint64) int {
	for s := v.home(h); ; {
		if x := &v.slots[s]; x.idx == 0 || x.h == h {
			return s
		}
		if s++; s == len(v.slots) {
			s = 0
		}
	}
}

// get returns h's feature index and idf weight.
func (v *vocabIndex) get(h uint64) (idx int32, idf float32, ok bool) {
	x := v.slots[v.find(h)]
	return x.idx - 1, x.idf, x.idx != 0
}

// has reports whether h is in the vocabulary.
func (v *vocabIndex) has(h uint64) bool {
	_, _, ok := v.get(h)
	return ok
}

// keys returns the hashes by feature index.
func (v *vocabIndex) keys() []uint64 {
	out := make([]uint64, v.n)
	for _, x := range v.slots {
		if x.idx != 0 {
			out[x.idx-1] = x.h
		}
	}
	return out
}

// rawFeatures collects the n-gram hashes of one text, block by block,
// with duplicates (their counts are the term frequencies).
type rawFeatures [numBlocks][]uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(seed uint64, s string) uint64 {
	h := seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix combines two hashes into one (for word bigrams).
func mix(a, b uint64) uint64 {
	h := a*0x9E3779B97F4A7C15 ^ b
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

const (
	seedWord = fnvOffset
	seedChar = fnvOffset ^ 0x5bd1e995
	hashBOS  = 0x1d8e4e27c47d124f // sentence start, for "<s> first"
	hashEOS  = 0x2c1b3c6d5f4e3a29 // sentence end
)

// extract appends the n-gram hashes of text to rf (after resetting it).
// tokBuf is scratch space for tokens.
func extract(text string, rf *rawFeatures, tokBuf []string) []string {
	toks := nlp.AppendTokens(tokBuf[:0], nlp.Normalize(text))
	extractTokens(toks, rf)
	return toks
}

// extractTokens is extract for the tokens of a text, nlp.Tokens(text).
func extractTokens(toks []string, rf *rawFeatures) {
	chars := 0 // 3L-3 n-grams of a token of L ≥ 2 bytes, at most 3L
	for _, t := range toks {
		chars += 3 * len(t)
	}
	rf[blockWord] = slices.Grow(rf[blockWord][:0], 2*len(toks)+1)
	rf[blockChar] = slices.Grow(rf[blockChar][:0], chars)
	prev := uint64(hashBOS)
	for _, t := range toks {
		h := hashBytes(seedWord, t)
		rf[blockWord] = append(rf[blockWord], h, mix(prev, h))
		prev = h
		// Character n-grams of " token ", n = 3..5, on bytes: after
		// Normalize nearly all text is ASCII. (2-grams cost a third more
		// training time for no measurable gain.)
		padded := len(t) + 2
		for n := 3; n <= 5; n++ {
			for i := 0; i+n <= padded; i++ {
				h := uint64(seedChar) ^ uint64(n)
				for j := i; j < i+n; j++ {
					c := byte(' ')
					if j > 0 && j <= len(t) {
						c = t[j-1]
					}
					h ^= uint64(c)
					h *= fnvPrime
				}
				rf[blockChar] = append(rf[blockChar], h)
			}
		}
	}
	if len(toks) > 0 {
		rf[blockWord] = append(rf[blockWord], mix(prev, hashEOS))
	}
}

// countSorted sorts hs and calls fn once per distinct hash with its count.
func countSorted(hs []uint64, fn func(h uint64, n int)) {
	slices.Sort(hs)
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j] == hs[i] {
			j++
		}
		fn(hs[i], j-i)
		i = j
	}
}

// newFeaturizer builds the vocabulary from the raw features of the
// training texts, keeping n-grams seen in at least minDF texts. The idf
// weights are (log((1+n)/(1+df)) + 1)^idfPower.
func newFeaturizer(raws []rawFeatures, minDF int, blockWeight [numBlocks]float32, idfPower float64) *featurizer {
	df := map[uint64]int32{}
	for i := range raws {
		for b := range raws[i] {
			countSorted(raws[i][b], func(h uint64, _ int) { df[h]++ })
		}
	}
	keys := make([]uint64, 0, len(df))
	for h, n := range df {
		if int(n) >= minDF {
			keys = append(keys, h)
		}
	}
	slices.Sort(keys) // deterministic feature order
	f := &featurizer{idf: make([]float32, len(keys)), blockWeight: blockWeight}
	n := float64(len(raws))
	for i, h := range keys {
		f.idf[i] = float32(math.Pow(math.Log((1+n)/(1+float64(df[h])))+1, idfPower))
	}
	f.vocab, _ = newVocabIndex(keys, f.idf) // keys are distinct
	return f
}

// vectorize turns raw features into a unit tf-idf vector, appending to dst.
func (f *featurizer) vectorize(rf *rawFeatures, dst vector) vector {
	dst = slices.Grow(dst[:0], len(rf[blockWord])+len(rf[blockChar]))
	var norm2 float64
	split := 0 // start of the last block
	for b := range rf {
		start := len(dst)
		split = start
		var bn float64
		countSorted(rf[b], func(h uint64, n int) {
			idx, v, ok := f.vocab.get(h)
			if !ok {
				return
			}
			if n > 1 {
				v *= 1 + float32(math.Log(float64(n)))
			}
			dst = append(dst, feature{idx, v})
			bn += float64(v) * float64(v)
		})
		if bn > 0 {
			scale := f.blockWeight[b] / float32(math.Sqrt(bn))
			for i := start; i < len(dst); i++ {
				dst[i].val *= scale
			}
			norm2 += float64(f.blockWeight[b] * f.blockWeight[b])
		}
	}
	if norm2 > 0 {
		inv := float32(1 / math.Sqrt(norm2))
		for i := range dst {
			dst[i].val *= inv
		}
	}
	sortByIndex(dst, split)
	return dst
}

// sortByIndex sorts v by feature index. The vocabulary numbers hashes in
// order, so the features of a block come sorted (countSorted) and v is
// two sorted runs, v[:split] and v[split:], which are merged.
func sortByIndex(v vector, split int) {
	byIdx := func(a, b feature) int { return int(a.idx - b.idx) }
	if numBlocks != 2 || !slices.IsSortedFunc(v[:split], byIdx) || !slices.IsSortedFunc(v[split:], byIdx) {
		slices.SortFunc(v, byIdx)
		return
	}
	var buf [64]feature
	left := append(buf[:0], v[:split]...) // out of the way of the merge
	i, j, k := 0, split, 0
	for i < len(left) && j < len(v) {
		if v[j].idx < left[i].idx {
			v[k] = v[j]
			j++
		} else {
			v[k] = left[i]
			i++
		}
		k++
	}
	copy(v[k:], left[i:])
}

// unknownWords counts the words of a text that known rejects, from its
// word block in extraction order (before newFeaturizer or vectorize sort
// it): extractTokens appends each word followed by its bigram with the
// word before, then the end bigram.
func unknownWords(block []uint64, known func(uint64) bool) int {
	unk := 0
	for i := 0; i+1 < len(block); i += 2 {
		if !known(block[i]) {
			unk++
		}
	}
	return unk
}

// heldOutUnknown counts, for each example, its words unknown to a
// vocabulary built without its fold (seen in fewer than minDF texts of
// the other folds), from raw features in extraction order (before
// newFeaturizer or vectorize sort them).
func heldOutUnknown(raws []rawFeatures, fold []int, minDF int) []float64 {
	k := slices.Max(fold) + 1
	df := map[uint64][]int32{} // word → texts containing it, per fold
	var ws []uint64
	for i := range raws {
		b := raws[i][blockWord]
		ws = ws[:0]
		for j := 0; j+1 < len(b); j += 2 {
			ws = append(ws, b[j])
		}
		countSorted(ws, func(h uint64, _ int) {
			c := df[h]
			if c == nil {
				c = make([]int32, k+1)
				df[h] = c
			}
			c[fold[i]]++
			c[k]++ // total
		})
	}
	out := make([]float64, len(raws))
	for i := range raws {
		f := fold[i]
		out[i] = float64(unknownWords(raws[i][blockWord], func(h uint64) bool {
			c := df[h]
			return int(c[k]-c[f]) >= minDF
		}))
	}
	return out
}
