package classify

import (
	"math"
	"sort"

	"github.com/supportbot/supportbot/intents/nlp"
)

// Document is one FAQ entry the Retriever ranks: its answer, and the
// example questions and title (category) when the knowledge base has them.
type Document struct {
	ID        string
	Title     string
	Questions []string
	Answer    string
	Lang      string // language of the text, for stemming; "" for none
}

// Hit is a ranked document.
type Hit struct {
	ID    string
	Score float64
}

// RetrieverOptions tune ranking; the zero value is a good default.
type RetrieverOptions struct {
	K1, B         float64 // BM25 parameters; defaults 1.2 and 0.5
	QuestionBoost float64 // weight of question terms over answer terms; default 3
	TitleBoost    float64 // weight of title terms; default 1
	CharWeight    float64 // weight of the character n-gram cosine; default 0.6
}

// Retriever ranks FAQ documents for a query: BM25 over stemmed words,
// with example questions and the title weighted above the answer text,
// blended with a tf-idf cosine over character 3-5-grams that catches
// compounds and spelling variants ("vaccinationsintyg" vs "intyg").
// It is immutable and safe for concurrent use.
type Retriever struct {
	opts   RetrieverOptions
	docs   []Document
	tf     []map[string]float64 // per document: weighted term frequency
	length []float64
	avgLen float64
	idf    map[string]float64
	lang   string
	chars  *featurizer
	cvecs  []vector
}

// NewRetriever indexes docs. Documents are stemmed in their own Lang; a
// query is stemmed in the language most documents have.
func NewRetriever(docs []Document, opts RetrieverOptions) *Retriever {
	if opts.K1 <= 0 {
		opts.K1 = 1.2
	}
	if opts.B <= 0 {
		opts.B = 0.5
	}
	if opts.QuestionBoost <= 0 {
		opts.QuestionBoost = 3
	}
	if opts.TitleBoost <= 0 {
		opts.TitleBoost = 1
	}
	if opts.CharWeight == 0 {
		opts.CharWeight = 0.6
	}
	r := &Retriever{opts: opts, docs: docs, idf: map[string]float64{}}
	langs := map[string]int{}
	df := map[string]float64{}
	raws := make([]rawFeatures, len(docs))
	var toks []string
	for i, d := range docs {
		langs[nlp.CanonicalLang(d.Lang)]++
		tf := map[string]float64{}
		add := func(text string, w float64) {
			for _, t := range nlp.MatchTokens(d.Lang, text) {
				tf[t] += w
			}
		}
		add(d.Answer, 1)
		add(d.Title, opts.TitleBoost)
		for _, q := range d.Questions {
			add(q, opts.QuestionBoost)
		}
		var n float64
		for t, c := range tf {
			df[t]++
			n += c
		}
		r.tf = append(r.tf, tf)
		r.length = append(r.length, n)
		r.avgLen += n
		text := d.Title + " " + d.Answer
		for _, q := range d.Questions {
			text += " " + q
		}
		toks = extract(text, &raws[i], toks)
		raws[i][blockWord] = raws[i][blockWord][:0] // words are BM25's job
	}
	if len(docs) > 0 {
		r.avgLen /= float64(len(docs))
	}
	best := 0
	for l, n := range langs {
		if n > best || n == best && l < r.lang {
			r.lang, best = l, n
		}
	}
	n := float64(len(docs))
	for t, d := range df {
		r.idf[t] = math.Log(1 + (n-d+0.5)/(d+0.5))
	}
	r.chars = newFeaturizer(raws, 1, [numBlocks]float32{0, 1}, 1)
	for i := range raws {
		r.cvecs = append(r.cvecs, r.chars.vectorize(&raws[i], nil))
	}
	return r
}

// Search returns the k best documents for query, best first (all of them
// if k <= 0). Scores are comparable within one query only.
func (r *Retriever) Search(query string, k int) []Hit {
	qt := map[string]float64{}
	for _, t := range nlp.MatchTokens(r.lang, query) {
		qt[t]++
	}
	var rf rawFeatures
	extract(query, &rf, nil)
	rf[blockWord] = rf[blockWord][:0]
	qv := r.chars.vectorize(&rf, nil)
	hits := make([]Hit, len(r.docs))
	var maxBM float64
	for i, tf := range r.tf {
		var s float64
		norm := r.opts.K1 * (1 - r.opts.B + r.opts.B*r.length[i]/r.avgLen)
		for t, qn := range qt {
			if f := tf[t]; f > 0 {
				s += qn * r.idf[t] * f * (r.opts.K1 + 1) / (f + norm)
			}
		}
		hits[i] = Hit{r.docs[i].ID, s}
		maxBM = math.Max(maxBM, s)
	}
	// BM25 scores are rescaled to [0, 1] per query before the cosine is
	// added, so the blend weight means the same for every query.
	for i := range hits {
		if maxBM > 0 {
			hits[i].Score /= maxBM
		}
		hits[i].Score += r.opts.CharWeight * sparseDot(qv, r.cvecs[i])
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].Score > hits[b].Score })
	if k > 0 && k < len(hits) {
		hits = hits[:k]
	}
	return hits
}

// sparseDot is the dot product of two vectors sorted by index.
func sparseDot(a, b vector) float64 {
	var s float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].idx < b[j].idx:
			i++
		case a[i].idx > b[j].idx:
			j++
		default:
			s += float64(a[i].val) * float64(b[j].val)
			i++
			j++
		}
	}
	return s
}
