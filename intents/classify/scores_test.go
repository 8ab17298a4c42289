package classify

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/intents/nlp"
)

// vectorizeRef is vectorize as first written, sorting by index at the end:
// the reference of the merge.
func (f *featurizer) vectorizeRef(rf *rawFeatures) vector {
	var dst vector
	var norm2 float64
	for b := range rf {
		start := len(dst)
		var bn float64
		countSorted(slices.Clone(rf[b]), func(h uint64, n int) {
			idx, _, ok := f.vocab.get(h)
			if !ok {
				return
			}
			v := (1 + float32(math.Log(float64(n)))) * f.idf[idx]
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
	slices.SortFunc(dst, func(a, b feature) int { return int(a.idx - b.idx) })
	return dst
}

// scoresRef is rawScores as first written, one feature row at a time.
func (m *Model) scoresRef(text string) []float64 {
	var rf rawFeatures
	extract(text, &rf, nil)
	nc := len(m.labels)
	acc := slices.Clone(m.bias)
	for _, f := range m.feat.vectorizeRef(&rf) {
		row := m.w[int(f.idx)*nc : int(f.idx)*nc+nc]
		for c := range acc {
			acc[c] += f.val * row[c]
		}
	}
	out := make([]float64, nc)
	for c, v := range acc {
		out[c] = float64(v)
	}
	return out
}

// predictRef is Predict as first written on the scores sc.
func (m *Model) predictRef(sc []float64) []Scored {
	sc = slices.Clone(sc)
	m.probs(sc)
	var out []Scored
	for c, p := range sc {
		if c != m.oos {
			out = append(out, Scored{m.labels[c], p})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Prob > out[j].Prob })
	return out[:min(m.topK, len(out))]
}

// hostileTexts exercise normalisation, long input and repeated n-grams.
var hostileTexts = []string{
	"", " ", "!!!", "a", "refund refund refund refund", "Како да вратим производ?", "I WANT MY MONEY BACK!!!",
	"don't can't won't", "straße ǅ İstanbul", "emoji 😀😀 ok", "\xff\xfe bad utf8", "日本語", "e\u0301",
	strings.Repeat("where is my order ", 200), strings.Repeat("x", 5000),
}

// checkScores compares rawScores, Decide and DecideTokens with the
// reference on texts.
func checkScores(t testing.TB, m *Model, texts []string) {
	t.Helper()
	s := m.getScratch()
	defer m.pool.Put(s)
	for _, text := range texts {
		var rf rawFeatures
		extract(text, &rf, nil)
		if got, want := m.feat.vectorize(&rf, nil), m.feat.vectorizeRef(&rf); !slices.Equal(got, want) {
			t.Fatalf("vectorize(%q) = %v, reference %v", text, got, want)
		}
		s.toks = extract(text, &s.rf, s.toks)
		m.rawScores(s)
		want := m.scoresRef(text)
		for c := range want {
			if math.Float64bits(s.scores[c]) != math.Float64bits(want[c]) {
				t.Fatalf("score %d of %q = %v, reference %v", c, text, s.scores[c], want[c])
			}
		}
		if a, b := m.Decide(text), m.DecideTokens(nlp.Tokens(text)); a != b {
			t.Fatalf("Decide(%q) = %+v, DecideTokens %+v", text, a, b)
		}
		if got, want := m.Predict(text), m.predictRef(want); !slices.Equal(got, want) {
			t.Fatalf("Predict(%q) = %v, reference %v", text, got, want)
		}
	}
}

func TestScoresMatchReference(t *testing.T) {
	m, err := Train(context.Background(), smallKB, Options{})
	if err != nil {
		t.Fatal(err)
	}
	texts := slices.Clone(hostileTexts)
	for _, e := range smallKB {
		texts = append(texts, e.Text, strings.ToUpper(e.Text)+"?")
	}
	checkScores(t, m, texts)
}

// TestScoresMatchReferenceXSID checks a model of 48 labels in three
// languages (xSID) on its own examples.
func TestScoresMatchReferenceXSID(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 900 examples")
	}
	var ex []Example
	for _, lang := range []string{"en", "nb", "sr"} {
		for _, e := range examplesOf(loadRows(t, "xsid-"+lang+"-val.jsonl"), "") {
			e.Label = lang + ":" + e.Label
			ex = append(ex, e)
		}
	}
	m, err := Train(context.Background(), ex, Options{CalibrationFolds: 1})
	if err != nil {
		t.Fatal(err)
	}
	texts := slices.Clone(hostileTexts)
	for _, e := range ex {
		texts = append(texts, e.Text)
	}
	checkScores(t, m, texts)
}

// FuzzScores: the merged vectors and blocked dot product agree with the
// reference on any text.
func FuzzScores(f *testing.F) {
	for _, s := range hostileTexts {
		f.Add(s)
	}
	m, err := Train(context.Background(), smallKB, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) { checkScores(t, m, []string{text}) })
}

// TestVocabIndex: every key finds its feature index and idf, other hashes
// find nothing, keys() gives the keys back in feature order, and a
// repeated key is refused.
func TestVocabIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, 5000)
	idf := make([]float32, len(keys))
	seen := map[uint64]bool{}
	for i := range keys {
		for keys[i] = r.Uint64(); seen[keys[i]]; keys[i] = r.Uint64() {
		}
		seen[keys[i]] = true
		idf[i] = float32(i) / 7
	}
	keys[0] = 0 // hash 0 is a key like any other
	v, ok := newVocabIndex(keys, idf)
	if !ok {
		t.Fatal("distinct keys refused")
	}
	for i, h := range keys {
		if idx, w, ok := v.get(h); !ok || int(idx) != i || w != idf[i] {
			t.Fatalf("get(%x) = %d, %v, %v; want %d, %v, true", h, idx, w, ok, i, idf[i])
		}
	}
	for range 10000 {
		if h := r.Uint64(); !seen[h] && v.has(h) {
			t.Fatalf("has(%x) for a hash not in the vocabulary", h)
		}
	}
	if !slices.Equal(v.keys(), keys) {
		t.Error("keys() does not give the keys back in feature order")
	}
	if _, ok := newVocabIndex([]uint64{1, 2, 1}, []float32{1, 1, 1}); ok {
		t.Error("a repeated key was accepted")
	}
	if v, _ := newVocabIndex(nil, nil); v.has(0) || v.has(1) {
		t.Error("an empty vocabulary has a key")
	}
}
