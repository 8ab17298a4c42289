// Package classify is the offline intent classifier of the router: tf-idf
// word and character n-grams, a multi-class linear SVM (Crammer–Singer,
// or optionally one-vs-rest) trained in process,
// softmax calibration fitted on held-out folds, and an out-of-scope
// threshold. It also holds Retriever, the BM25 ranking of FAQ entries.
//
// Everything is pure Go and deterministic: the same examples and options
// give the same model.
package classify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas/gonum"
)

// OOS is the label of out-of-scope examples and predictions: messages the
// knowledge base has no answer for.
const OOS = "oos"

// Errors returned by Train, wrapped with detail.
var (
	ErrNoExamples = errors.New("classify: no training examples")
	ErrOneLabel   = errors.New("classify: need at least two labels (or one label plus oos examples)")
)

// Example is one labelled training utterance. Label OOS marks an
// out-of-scope example. Lang is informational (the features are
// language-independent).
type Example struct {
	Text, Label, Lang string
}

// Scored is a label with its calibrated probability.
type Scored struct {
	Label string
	Prob  float64
}

// Options tune training; the zero value is a good default.
type Options struct {
	// C is the SVM cost (inverse regularisation); default 1.5, or 1
	// with OneVsRest.
	C float64
	// OneVsRest trains one SVM per class against the rest instead of one
	// multi-class SVM (Crammer and Singer), the default, which was more
	// accurate on every data set measured (docs/router-results.md).
	OneVsRest bool
	// MinDF drops n-grams seen in fewer training texts; default 2 when
	// there are at least 2000 examples, else 1.
	MinDF int
	// OOSThreshold: a message whose in-scope score (Decision.InScope) is
	// below it is out of scope. 0 chooses it on held-out folds of the
	// training data; negative disables the threshold (only the oos class
	// says OOS).
	OOSThreshold float64
	// OOSPrior is the share of out-of-scope messages expected in real
	// traffic, at which the in-scope score is calibrated and the
	// precision of handoffs is judged; default 0.1.
	OOSPrior float64
	// OOSPrecision is the floor on the share of out-of-scope decisions
	// that are right (at OOSPrior) when the threshold is chosen: it
	// rejects as many out-of-scope messages as the floor allows; default
	// 0.8.
	OOSPrecision float64
	// CalibrationFolds is the number of folds for fitting calibration and
	// the threshold; default 5 below 3000 examples, else 2. 1 skips
	// calibration (fixed softmax scale, no automatic threshold).
	CalibrationFolds int
	// TopK is how many labels Predict returns; default 5.
	TopK int
	// Workers trains classes in parallel; default GOMAXPROCS.
	Workers int
	// Warm, a model trained on similar examples (the knowledge base
	// before an edit), makes an interim model quickly:
	// training starts where Warm's ended (see Model.Warmable), an example
	// with the same text and label with its dual variables, solves to the
	// calibration folds' looser tolerance, skips the folds and keeps
	// Warm's calibration (docs/router.md, "Live edits"). Ignored with
	// OneVsRest.
	Warm *Model
}

func (o Options) withDefaults(n int) Options {
	if o.C <= 0 {
		o.C = 1.5
		if o.OneVsRest {
			o.C = 1
		}
	}
	if o.MinDF <= 0 {
		o.MinDF = 1
		if n >= 2000 {
			o.MinDF = 2
		}
	}
	if o.CalibrationFolds <= 0 {
		o.CalibrationFolds = 5
		if n >= 3000 {
			o.CalibrationFolds = 2
		}
	}
	if o.OOSPrior <= 0 || o.OOSPrior >= 1 {
		o.OOSPrior = 0.1
	}
	if o.OOSPrecision <= 0 || o.OOSPrecision >= 1 {
		o.OOSPrecision = 0.8
	}
	if o.TopK <= 0 {
		o.TopK = 5
	}
	return o
}

// Model is a trained classifier. It is immutable and safe for concurrent
// use.
type Model struct {
	feat      *featurizer
	labels    []string  // class index → label; may include OOS
	oos       int       // index of the OOS class, or -1
	w         []float32 // [feature*len(labels)+class]
	bias      []float32
	scale     float64    // softmax scale applied to SVM scores
	threshold float64    // OOS threshold on the in-scope score; 0 = none
	platt     [3]float64 // in-scope score σ(a·gap + b + c·unknown words), see inScope
	topK      int
	// For Options.Warm: the examples' keys (label, text) and the full
	// fit's dual variables.
	keys    []string
	duals   duals
	interim bool      // trained from Options.Warm
	pool    sync.Pool // *scratch
}

type scratch struct {
	rf     rawFeatures
	toks   []string
	vec    vector
	scores []float64
	acc    []float32
	// unknown is the number of words that are not in the vocabulary.
	unknown float64
}

// blasImpl adds rows of weights with gonum's assembly axpy (SSE, a
// multiply then an add per weight: the rounding of the plain loop, so the
// decisions are the same). On CLINC150 Decide took 15 % less time and
// training 15–20 % less CPU (docs/router-results.md).
var blasImpl gonum.Implementation

// defaultScale is the softmax scale when calibration is skipped.
const defaultScale = 5

// Train fits a model on examples. It fails with ErrNoExamples or
// ErrOneLabel, or ctx's error if ctx ends first.
func Train(ctx context.Context, examples []Example, opts Options) (*Model, error) {
	if len(examples) == 0 {
		return nil, ErrNoExamples
	}
	opts = opts.withDefaults(len(examples))
	m, err := fit(ctx, examples, opts)
	if err != nil {
		return nil, err
	}
	if opts.OOSThreshold > 0 {
		m.threshold = opts.OOSThreshold
	} else if opts.OOSThreshold < 0 {
		m.threshold = 0
	}
	return m, nil
}

// fit trains the featurizer and SVMs on examples and, with calibration
// folds, calibrates on their held-out scores while the full fit runs.
func fit(ctx context.Context, examples []Example, opts Options) (*Model, error) {
	m := &Model{oos: -1, topK: opts.TopK, scale: defaultScale, platt: [3]float64{defaultScale, 0, 0}}
	index := map[string]int32{}
	ys := make([]int32, len(examples))
	for i, e := range examples {
		id, ok := index[e.Label]
		if !ok {
			id = int32(len(m.labels))
			index[e.Label] = id
			m.labels = append(m.labels, e.Label)
		}
		ys[i] = id
	}
	if len(m.labels) < 2 {
		return nil, fmt.Errorf("%w: got %q", ErrOneLabel, m.labels)
	}
	if id, ok := index[OOS]; ok {
		m.oos = int(id)
	}
	raws := make([]rawFeatures, len(examples))
	var toks []string
	for i, e := range examples {
		toks = extract(e.Text, &raws[i], toks)
	}
	// The square root of the idf: rare n-grams (names, typos) weigh less
	// than with the full idf. It was better on every data set (CLINC150
	// val, BANKING77, xSID), by 0.1 to 0.7 points.
	var warm *start
	if opts.Warm != nil && !opts.OneVsRest {
		warm = opts.Warm.warmStart(examples, m.labels, ys, float32(opts.C))
	}
	if warm != nil {
		m.interim = true
		if (opts.Warm.oos >= 0) == (m.oos >= 0) {
			m.scale, m.platt, m.threshold = opts.Warm.scale, opts.Warm.platt, opts.Warm.threshold
		}
	}
	var fold []int
	var unk []float64
	if opts.CalibrationFolds > 1 && warm == nil {
		fold = folds(ys, opts.CalibrationFolds)
		unk = heldOutUnknown(raws, fold, opts.MinDF) // before newFeaturizer sorts raws
	}
	m.feat = newFeaturizer(raws, opts.MinDF, [numBlocks]float32{1, 1}, 0.5)
	xs := make([]vector, len(examples))
	for i := range raws {
		xs[i] = m.feat.vectorize(&raws[i], nil)
	}
	train := trainCS
	if opts.OneVsRest {
		train = trainOVR
	}
	var onHeld func([]float32)
	if fold != nil {
		onHeld = func(held []float32) {
			h := transpose(held, ys)
			h.unknown = unk
			m.calibrate(h, opts) // sets only the calibration fields of m
		}
	}
	o, err := train(ctx, newDataset(xs), ys, len(m.labels), len(m.feat.idf), opts.C, opts.Workers, fold, onHeld, warm)
	if err != nil {
		return nil, err
	}
	m.w, m.bias = o.w, o.bias
	if o.alpha != nil {
		m.duals = sparseDuals(o.alpha, len(m.labels))
		m.keys = make([]string, len(examples))
		for i, e := range examples {
			m.keys[i] = exampleKey(e)
		}
	}
	return m, nil
}

// duals are dual variables, sparse by example: example i's non-zero ones
// are those of the classes cls[ptr[i]:ptr[i+1]], with values val[...].
type duals struct {
	ptr, cls []int32
	val      []float32
}

// sparseDuals is alpha ([i*nc+class]) as duals.
func sparseDuals(alpha []float32, nc int) duals {
	d := duals{ptr: make([]int32, 1, len(alpha)/nc+1)}
	for i := 0; i < len(alpha); i += nc {
		for c, a := range alpha[i : i+nc] {
			if a != 0 {
				d.cls = append(d.cls, int32(c))
				d.val = append(d.val, a)
			}
		}
		d.ptr = append(d.ptr, int32(len(d.cls)))
	}
	return d
}

func exampleKey(e Example) string { return e.Label + "\x00" + e.Text }

// Interim reports whether m was trained from Options.Warm (which is
// ignored when fewer than half of the examples are Warm's).
func (m *Model) Interim() bool { return m.interim }

// Warmable reports whether m can be Options.Warm: it was trained by the
// Crammer–Singer solver (or decoded from such a model).
func (m *Model) Warmable() bool { return m.keys != nil }

// warmStart returns where a fit of examples (labelled ys, among labels)
// starts when they are an edit of m's: an example with the same text and
// label as one of m's starts with its dual variables (those of labels m
// did not have at zero, of labels gone dropped, its own label's set so
// that they still sum to zero and at most c), the others at zero. Nil if
// m has none, or if fewer than half of the examples are the same.
func (m *Model) warmStart(examples []Example, labels []string, ys []int32, c float32) *start {
	if m.keys == nil {
		return nil
	}
	nc := len(labels)
	now := make(map[string]int32, nc)
	for k, l := range labels {
		now[l] = int32(k)
	}
	to := make([]int32, len(m.labels)) // m's label → label, or -1
	for p, l := range m.labels {
		to[p] = -1
		if k, ok := now[l]; ok {
			to[p] = k
		}
	}
	at := make(map[string][]int32, len(m.keys))
	for i, k := range m.keys {
		at[k] = append(at[k], int32(i))
	}
	out := make([]float32, len(examples)*nc)
	known := make([]bool, len(examples))
	same := 0
	for i, e := range examples {
		k := exampleKey(e)
		q := at[k]
		if len(q) == 0 {
			continue
		}
		at[k], known[i] = q[1:], true
		same++
		row, d, j := out[i*nc:][:nc], m.duals, q[0]
		var sum float32
		for p := d.ptr[j]; p < d.ptr[j+1]; p++ {
			if k := to[d.cls[p]]; k >= 0 && k != ys[i] {
				row[k] = d.val[p]
				sum += d.val[p]
			}
		}
		if -sum > c { // C was lower: scale into the box
			for k := range row {
				row[k] *= c / -sum
			}
			sum = -c
		}
		row[ys[i]] = -sum
	}
	if 2*same < len(examples) { // not an edit: Warm's calibration would not fit
		return nil
	}
	return &start{out, known}
}

// Labels returns the labels the model knows, OOS included if trained.
func (m *Model) Labels() []string { return slices.Clone(m.labels) }

// Threshold is the OOS threshold on the in-scope score (0: none).
func (m *Model) Threshold() float64 { return m.threshold }

// inScope is the in-scope score of raw decision values sc whose best
// in-scope class is best. With an oos class it is the probability that
// the message is in scope given the gap between the best in-scope score
// and the oos class score, σ(a·gap + b), fitted on held-out folds with
// out-of-scope traffic weighted to OOSPrior (Platt scaling). Measured on
// CLINC150's val split, that gap separates out-of-scope messages better
// than the top probability (at 70 % OOS recall, 93.6 % precision instead
// of 85.4 %). The fit also weighs unknown, the number of the message's
// words that the model has not learnt: a message about something the
// knowledge base never mentions has words it does not know (on CLINC150
// val, 85 % of the out-of-scope messages have one, 26 % of the in-scope
// ones). Without an oos class it is the softmax probability of the best
// label.
func (m *Model) inScope(sc []float64, best int, unknown float64) float64 {
	if m.oos >= 0 {
		return 1 / (1 + math.Exp(-(m.platt[0]*(sc[best]-sc[m.oos]) + m.platt[1] + m.platt[2]*unknown)))
	}
	var z float64
	for _, v := range sc {
		z += math.Exp(m.scale * (v - sc[best]))
	}
	return 1 / z
}

func (m *Model) getScratch() *scratch {
	if s, ok := m.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{scores: make([]float64, len(m.labels)), acc: make([]float32, len(m.labels))}
}

// rawScores fills s.scores with the SVM decision values for the raw
// features in s.rf.
func (m *Model) rawScores(s *scratch) {
	for _, b := range s.rf {
		m.feat.vocab.touch(b)
	}
	s.unknown = float64(unknownWords(s.rf[blockWord], m.feat.vocab.has))
	s.vec = m.feat.vectorize(&s.rf, s.vec)
	nc := len(m.labels)
	touchRows(m.w, s.vec, nc)
	// Accumulate in float32 over the rows of the active features (each
	// row nc contiguous weights), in feature order for every class.
	acc := s.acc[:nc]
	copy(acc, m.bias)
	for _, f := range s.vec {
		blasImpl.Saxpy(nc, f.val, m.w[int(f.idx)*nc:][:nc], 1, acc, 1)
	}
	for c, v := range acc {
		s.scores[c] = float64(v)
	}
}

// touchRows reads one weight in every cache line of the rows of w (of nc
// weights each) of the features in vec, and returns a value of no meaning.
// When a message comes cold, these independent loads fetch the rows in
// parallel, which the accumulation, a row at a time, does not: on
// CLINC150 it then takes 11 µs instead of 19. It is not inlined, so that
// the loads are not dropped.
//
//go:noinline
func touchRows(w []float32, vec vector, nc int) (sink float32) {
	if nc == 0 {
		return 0
	}
	for _, f := range vec {
		row := w[int(f.idx)*nc:][:nc]
		for c := 0; c < nc; c += 16 {
			sink += row[c]
		}
		sink += row[nc-1]
	}
	return sink
}

// probs turns decision values into probabilities in place (softmax).
func (m *Model) probs(sc []float64) {
	mx := math.Inf(-1)
	for _, v := range sc {
		mx = math.Max(mx, v)
	}
	var z float64
	for c, v := range sc {
		sc[c] = math.Exp(m.scale * (v - mx))
		z += sc[c]
	}
	for c := range sc {
		sc[c] /= z
	}
}

// Predict returns the most likely in-scope labels with calibrated
// probabilities, best first (at most TopK). The OOS class is left out, so
// the probabilities sum to at most 1; the rest is the out-of-scope mass.
func (m *Model) Predict(text string) []Scored {
	s := m.getScratch()
	defer m.pool.Put(s)
	s.toks = extract(text, &s.rf, s.toks)
	m.rawScores(s)
	m.probs(s.scores)
	out := make([]Scored, 0, len(m.labels))
	for c, p := range s.scores {
		if c != m.oos {
			out = append(out, Scored{m.labels[c], p})
		}
	}
	slices.SortStableFunc(out, func(a, b Scored) int { // as sort.SliceStable with Prob >
		switch {
		case a.Prob > b.Prob:
			return -1
		case a.Prob < b.Prob:
			return 1
		}
		return 0
	})
	return out[:min(m.topK, len(out))]
}

// Decision is the router-facing outcome of classifying one message.
type Decision struct {
	Label      string  // best in-scope label, or OOS
	Confidence float64 // calibrated probability of the best in-scope label
	InScope    float64 // the in-scope score compared with the threshold
	OOS        bool    // out of scope: the oos class won or InScope < Threshold
	Top        [3]Scored
}

// Decide classifies text: the top three in-scope labels and the
// out-of-scope decision. Apart from the pooled scratch space it does not
// allocate beyond what normalisation needs.
func (m *Model) Decide(text string) Decision {
	s := m.getScratch()
	defer m.pool.Put(s)
	s.toks = extract(text, &s.rf, s.toks)
	return m.decide(s)
}

// DecideTokens is Decide for the tokens of a text, nlp.Tokens(text), for
// a caller that has them already.
func (m *Model) DecideTokens(toks []string) Decision {
	s := m.getScratch()
	defer m.pool.Put(s)
	extractTokens(toks, &s.rf)
	return m.decide(s)
}

// decide is Decide for the raw features in s.rf.
func (m *Model) decide(s *scratch) Decision {
	m.rawScores(s)
	var d Decision
	bestIn := -1
	for c, v := range s.scores {
		if c != m.oos && (bestIn < 0 || v > s.scores[bestIn]) {
			bestIn = c
		}
	}
	d.InScope = m.inScope(s.scores, bestIn, s.unknown)
	m.probs(s.scores)
	best, bestP := -1, -1.0
	for c, p := range s.scores {
		if p > bestP {
			best, bestP = c, p
		}
		if c == m.oos {
			continue
		}
		for k := 0; k < 3; k++ {
			if d.Top[k].Label == "" || p > d.Top[k].Prob {
				copy(d.Top[k+1:], d.Top[k:2])
				d.Top[k] = Scored{m.labels[c], p}
				break
			}
		}
	}
	d.Label, d.Confidence = d.Top[0].Label, d.Top[0].Prob
	if best == m.oos || d.InScope < m.threshold {
		d.Label, d.OOS = OOS, true
	}
	return d
}
