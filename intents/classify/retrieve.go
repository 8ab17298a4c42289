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
	K1, B         float64 // BM25 parameters of the word ranker; defaults 1.2 and 0.5
	QuestionBoost float64 // weight of question terms over answer terms; default 3
	TitleBoost    float64 // weight of title terms; default 1
	CharWeight    float64 // weight of the character n-gram ranker against the word ranker; default 1
}

// The character ranker uses the usual BM25 parameters.
const charK1, charB = 1.2, 0.75

// Retriever ranks FAQ documents for a query with two BM25 rankers: one
// over stemmed words, with example questions and the title weighted
// above the answer text, and one over character 3-5-grams inside words,
// which catches compounds, inflections the stemmer misses and spelling
// variants ("vaccinationsintyg" vs "intyg", "familjehemmet" vs
// "familjehem"). Each ranker's scores are divided by its best score for
// the query and the two are added (CharWeight weighs the second).
// It is immutable and safe for concurrent use.
type Retriever struct {
	opts  RetrieverOptions
	docs  []Document
	lang  string
	words bm25[string]
	chars bm25[uint64]
}

// posting is one document's weighted frequency of a term.
type posting struct {
	doc int32
	tf  float32
}

// bm25 is an inverted index scored by Okapi BM25.
type bm25[T comparable] struct {
	k1   float64
	idf  map[T]float64
	post map[T][]posting
	norm []float64 // per document: k1 · (1 − b + b · length / average length)
}

// add indexes the next document from its term frequencies.
func (x *bm25[T]) add(tf map[T]float64) {
	if x.post == nil {
		x.post, x.idf = map[T][]posting{}, map[T]float64{}
	}
	d := int32(len(x.norm))
	var n float64
	for t, f := range tf {
		x.post[t] = append(x.post[t], posting{d, float32(f)})
		n += f
	}
	x.norm = append(x.norm, n) // the length until finish
}

// finish computes the idf and length norms once every document is added.
func (x *bm25[T]) finish(k1, b float64) {
	x.k1 = k1
	n := float64(len(x.norm))
	var avg float64
	for _, l := range x.norm {
		avg += l / n
	}
	for i, l := range x.norm {
		x.norm[i] = k1 * (1 - b + b*l/avg)
	}
	for t, p := range x.post {
		d := float64(len(p))
		x.idf[t] = math.Log(1 + (n-d+0.5)/(d+0.5))
	}
}

// score adds the BM25 score of every document for the query terms (in
// a fixed order, with their counts) to out and returns the best score.
func (x *bm25[T]) score(terms []T, counts map[T]float64, out []float64) float64 {
	for _, t := range terms {
		w := counts[t] * x.idf[t] * (x.k1 + 1)
		for _, p := range x.post[t] {
			f := float64(p.tf)
			out[p.doc] += w * f / (f + x.norm[p.doc])
		}
	}
	var top float64
	for _, s := range out {
		top = math.Max(top, s)
	}
	return top
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
		opts.CharWeight = 1
	}
	r := &Retriever{opts: opts, docs: docs}
	langs := map[string]int{}
	var rf rawFeatures
	var toks []string
	for _, d := range docs {
		langs[nlp.CanonicalLang(d.Lang)]++
		tf := map[string]float64{}
		ctf := map[uint64]float64{}
		add := func(text string, w float64) {
			for _, t := range nlp.MatchTokens(d.Lang, text) {
				tf[t] += w
			}
			toks = extract(text, &rf, toks)
			for _, h := range rf[blockChar] {
				ctf[h] += w
			}
		}
		add(d.Answer, 1)
		add(d.Title, opts.TitleBoost)
		for _, q := range d.Questions {
			add(q, opts.QuestionBoost)
		}
		r.words.add(tf)
		r.chars.add(ctf)
	}
	r.words.finish(opts.K1, opts.B)
	r.chars.finish(charK1, charB)
	best := 0
	for l, n := range langs {
		if n > best || n == best && l < r.lang {
			r.lang, best = l, n
		}
	}
	return r
}

// Search returns the k best documents for query, best first (all of them
// if k <= 0). Scores are comparable within one query only; a document
// that shares nothing with the query scores 0.
func (r *Retriever) Search(query string, k int) []Hit {
	if len(r.docs) == 0 {
		return nil
	}
	var words []string
	wc := map[string]float64{}
	for _, t := range nlp.MatchTokens(r.lang, query) {
		if wc[t] == 0 {
			words = append(words, t)
		}
		wc[t]++
	}
	var rf rawFeatures
	extract(query, &rf, nil)
	var grams []uint64
	cc := map[uint64]float64{}
	for _, h := range rf[blockChar] {
		if cc[h] == 0 {
			grams = append(grams, h)
		}
		cc[h]++
	}
	// Each ranker is rescaled to [0, 1] per query before they are
	// added, so the weight means the same for every query.
	ws := make([]float64, len(r.docs))
	cs := make([]float64, len(r.docs))
	wTop := r.words.score(words, wc, ws)
	cTop := r.chars.score(grams, cc, cs)
	hits := make([]Hit, len(r.docs))
	for i := range hits {
		var s float64
		if wTop > 0 {
			s = ws[i] / wTop
		}
		if cTop > 0 {
			s += r.opts.CharWeight * cs[i] / cTop
		}
		hits[i] = Hit{r.docs[i].ID, s}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].Score > hits[b].Score })
	if k > 0 && k < len(hits) {
		hits = hits[:k]
	}
	return hits
}
