package evaluate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/supportbot/supportbot/intents/classify"
)

// ErrNoRows is wrapped when a split selects no rows.
var ErrNoRows = errors.New("no rows")

// Options choose what Run trains on and scores.
type Options struct {
	// TrainSplit and TestSplit name the splits ("train", "test"). With
	// Folds > 1, the rows of TrainSplit (all rows if empty) are
	// cross-validated instead and TestSplit is ignored.
	TrainSplit, TestSplit string
	Folds                 int
	// Classifier options passed to classify.Train.
	Classifier classify.Options
	// Bins is the number of reliability bins; default 10.
	Bins int
}

// Report holds the figures of one evaluation. Rates are in [0, 1].
// Accuracy counts an out-of-scope decision as the label "oos". Top3 is
// the share of in-scope rows whose intent is among the three best labels
// (out-of-scope rows count when flagged out of scope). OOS figures are
// NaN when the data has no out-of-scope rows (null in JSON).
type Report struct {
	N               int
	Accuracy        float64
	InScopeAccuracy float64
	OOSRecall       float64
	OOSPrecision    float64
	MacroF1         float64
	Top3            float64
	TrainSeconds    float64 // per training run (mean over folds)
	P50us, P99us    float64 // Decide latency, one goroutine
	ECE             float64 // expected calibration error of the top in-scope probability
	Threshold       float64 // OOS threshold of the (last) model
	Confused        []Confusion
	Reliability     []Bin
}

// Confusion is how often intent Gold was predicted as Predicted.
type Confusion struct {
	Gold      string `json:"gold"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// Bin is one row of a reliability table: predictions whose confidence
// lies in [Lo, Hi), their mean confidence and their accuracy.
type Bin struct {
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Count      int     `json:"count"`
	Confidence float64 `json:"confidence"`
	Accuracy   float64 `json:"accuracy"`
}

// outcome is one scored row.
type outcome struct {
	gold, pred string
	top3       bool
	conf       float64
	topRight   bool // the top in-scope label is the gold label
}

// Run trains and scores as opts says. It returns ErrNoRows (wrapped) when
// a split is empty, and ctx's error if ctx ends first.
func Run(ctx context.Context, rows []Row, opts Options) (Report, error) {
	var outs []outcome
	var lat []time.Duration
	var trainTime time.Duration
	var runs int
	var threshold float64
	score := func(train, test []Row) error {
		ex := make([]classify.Example, len(train))
		for i, r := range train {
			ex[i] = classify.Example{Text: r.Text, Label: r.Intent, Lang: r.Lang}
		}
		t0 := time.Now()
		m, err := classify.Train(ctx, ex, opts.Classifier)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		trainTime += time.Since(t0)
		runs++
		threshold = m.Threshold()
		for _, r := range test {
			t0 := time.Now()
			d := m.Decide(r.Text)
			lat = append(lat, time.Since(t0))
			o := outcome{gold: r.Intent, pred: d.Label, conf: d.Confidence, topRight: d.Top[0].Label == r.Intent}
			if r.Intent == classify.OOS {
				o.top3 = d.OOS
			} else {
				for _, s := range d.Top {
					o.top3 = o.top3 || s.Label == r.Intent
				}
			}
			outs = append(outs, o)
		}
		return ctx.Err()
	}
	if opts.Folds > 1 {
		rows = pick(rows, opts.TrainSplit)
		if len(rows) == 0 {
			return Report{}, fmt.Errorf("split %q: %w", opts.TrainSplit, ErrNoRows)
		}
		fold := folds(rows, opts.Folds)
		for f := 0; f < opts.Folds; f++ {
			var train, test []Row
			for i, r := range rows {
				if fold[i] == f {
					test = append(test, r)
				} else {
					train = append(train, r)
				}
			}
			if err := score(train, test); err != nil {
				return Report{}, err
			}
		}
	} else {
		train, test := pick(rows, opts.TrainSplit), pick(rows, opts.TestSplit)
		if len(train) == 0 || len(test) == 0 {
			return Report{}, fmt.Errorf("splits %q/%q: %w", opts.TrainSplit, opts.TestSplit, ErrNoRows)
		}
		if err := score(train, test); err != nil {
			return Report{}, err
		}
	}
	bins := opts.Bins
	if bins <= 0 {
		bins = 10
	}
	rep := summarize(outs, bins)
	rep.TrainSeconds = trainTime.Seconds() / float64(runs)
	rep.P50us, rep.P99us = percentile(lat, 0.50), percentile(lat, 0.99)
	rep.Threshold = threshold
	return rep, nil
}

func pick(rows []Row, split string) []Row {
	if split == "" {
		return rows
	}
	var out []Row
	for _, r := range rows {
		if r.Split == split {
			out = append(out, r)
		}
	}
	return out
}

// folds assigns rows to k folds, stratified by intent, deterministically.
func folds(rows []Row, k int) []int {
	seen := map[string]int{}
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = seen[r.Intent] % k
		seen[r.Intent]++
	}
	return out
}

func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[max(i, 0)]) / float64(time.Microsecond)
}

// summarize computes the metrics of outs.
func summarize(outs []outcome, bins int) Report {
	r := Report{N: len(outs)}
	var right, inN, inRight, oosN, oosPred, oosHit, top3 float64
	type counts struct{ tp, fp, fn float64 }
	per := map[string]*counts{}
	get := func(l string) *counts {
		if per[l] == nil {
			per[l] = &counts{}
		}
		return per[l]
	}
	confused := map[[2]string]int{}
	for _, o := range outs {
		get(o.gold)
		if o.gold == o.pred {
			right++
			get(o.gold).tp++
		} else {
			get(o.gold).fn++
			get(o.pred).fp++
			confused[[2]string{o.gold, o.pred}]++
		}
		if o.top3 {
			top3++
		}
		if o.pred == classify.OOS {
			oosPred++
		}
		if o.gold == classify.OOS {
			oosN++
			if o.pred == classify.OOS {
				oosHit++
			}
		} else {
			inN++
			if o.pred == o.gold {
				inRight++
			}
		}
	}
	n := float64(len(outs))
	r.Accuracy, r.Top3 = right/n, top3/n
	if inN > 0 {
		r.InScopeAccuracy = inRight / inN
	}
	r.OOSRecall, r.OOSPrecision = math.NaN(), math.NaN()
	if oosN > 0 {
		r.OOSRecall = oosHit / oosN
		r.OOSPrecision = 0
		if oosPred > 0 {
			r.OOSPrecision = oosHit / oosPred
		}
	}
	// Macro F1 over the intents present in the gold labels, summed in
	// label order so that a run prints the same figure every time.
	var f1s float64
	var labels int
	for _, l := range slices.Sorted(maps.Keys(per)) {
		c := per[l]
		if c.tp+c.fn == 0 {
			continue // predicted but never gold
		}
		labels++
		if c.tp > 0 {
			p, rc := c.tp/(c.tp+c.fp), c.tp/(c.tp+c.fn)
			f1s += 2 * p * rc / (p + rc)
		}
	}
	r.MacroF1 = f1s / float64(labels)
	for k, c := range confused {
		r.Confused = append(r.Confused, Confusion{k[0], k[1], c})
	}
	sort.Slice(r.Confused, func(i, j int) bool {
		a, b := r.Confused[i], r.Confused[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Gold+"\x00"+a.Predicted < b.Gold+"\x00"+b.Predicted
	})
	r.Confused = r.Confused[:min(10, len(r.Confused))]
	conf := make([]float64, len(outs))
	ok := make([]bool, len(outs))
	for i, o := range outs {
		conf[i], ok[i] = o.conf, o.topRight
	}
	r.Reliability, r.ECE = Reliability(conf, ok, bins)
	return r
}

// Reliability bins predictions by confidence into bins equal-width bins
// and returns the table and the expected calibration error: the
// count-weighted mean of |accuracy - confidence| over the bins.
func Reliability(conf []float64, correct []bool, bins int) ([]Bin, float64) {
	table := make([]Bin, bins)
	for i := range table {
		table[i].Lo, table[i].Hi = float64(i)/float64(bins), float64(i+1)/float64(bins)
	}
	for i, c := range conf {
		b := min(int(c*float64(bins)), bins-1)
		b = max(b, 0)
		table[b].Count++
		table[b].Confidence += c
		if correct[i] {
			table[b].Accuracy++
		}
	}
	var ece float64
	for i := range table {
		if n := float64(table[i].Count); n > 0 {
			table[i].Confidence /= n
			table[i].Accuracy /= n
			ece += n * math.Abs(table[i].Accuracy-table[i].Confidence)
		}
	}
	if len(conf) > 0 {
		ece /= float64(len(conf))
	}
	return table, ece
}

// JSON encodes the report with snake_case keys; undefined OOS figures are
// null.
func (r Report) JSON() ([]byte, error) {
	nan := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.MarshalIndent(struct {
		Accuracy        float64     `json:"accuracy"`
		InScopeAccuracy float64     `json:"in_scope_accuracy"`
		OOSRecall       *float64    `json:"oos_recall"`
		OOSPrecision    *float64    `json:"oos_precision"`
		MacroF1         float64     `json:"macro_f1"`
		Top3            float64     `json:"top3"`
		TrainSeconds    float64     `json:"train_seconds"`
		P50us           float64     `json:"p50_us"`
		P99us           float64     `json:"p99_us"`
		N               int         `json:"n"`
		ECE             float64     `json:"ece"`
		Threshold       float64     `json:"oos_threshold"`
		Confused        []Confusion `json:"confused"`
		Reliability     []Bin       `json:"reliability"`
	}{r.Accuracy, r.InScopeAccuracy, nan(r.OOSRecall), nan(r.OOSPrecision), r.MacroF1, r.Top3,
		r.TrainSeconds, r.P50us, r.P99us, r.N, r.ECE, r.Threshold, r.Confused, r.Reliability}, "", "  ")
}

// Text renders the report for people.
func (r Report) Text() string {
	var b strings.Builder
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.2f %%", 100*v)
	}
	fmt.Fprintf(&b, "rows scored        %d\n", r.N)
	fmt.Fprintf(&b, "accuracy           %s\n", pct(r.Accuracy))
	fmt.Fprintf(&b, "in-scope accuracy  %s\n", pct(r.InScopeAccuracy))
	fmt.Fprintf(&b, "oos recall         %s\n", pct(r.OOSRecall))
	fmt.Fprintf(&b, "oos precision      %s\n", pct(r.OOSPrecision))
	fmt.Fprintf(&b, "macro F1           %s\n", pct(r.MacroF1))
	fmt.Fprintf(&b, "top-3              %s\n", pct(r.Top3))
	fmt.Fprintf(&b, "ECE                %.3f\n", r.ECE)
	fmt.Fprintf(&b, "oos threshold      %.3f\n", r.Threshold)
	fmt.Fprintf(&b, "train              %.2f s\n", r.TrainSeconds)
	fmt.Fprintf(&b, "latency p50 / p99  %.0f / %.0f µs\n", r.P50us, r.P99us)
	if len(r.Confused) > 0 {
		b.WriteString("\nmost confused (gold -> predicted)\n")
		for _, c := range r.Confused {
			fmt.Fprintf(&b, "  %4d  %s -> %s\n", c.Count, c.Gold, c.Predicted)
		}
	}
	b.WriteString("\nreliability (confidence bin: n, mean confidence, accuracy)\n")
	for _, bin := range r.Reliability {
		if bin.Count > 0 {
			fmt.Fprintf(&b, "  %.1f-%.1f  %5d  %.3f  %.3f\n", bin.Lo, bin.Hi, bin.Count, bin.Confidence, bin.Accuracy)
		}
	}
	return b.String()
}

// RetrievalReport holds FAQ retrieval figures: a question is right at k
// when its answer ranks among the first k of all documents.
type RetrievalReport struct {
	Top1 float64 `json:"top1"`
	Top3 float64 `json:"top3"`
	MRR  float64 `json:"mrr"`
	N    int     `json:"n"`
}

// Retrieval ranks docs for each question row (whose Intent is the ID of
// its answer) and scores the ranking.
func Retrieval(ctx context.Context, docs []classify.Document, questions []Row, opts classify.RetrieverOptions) (RetrievalReport, error) {
	if len(docs) == 0 || len(questions) == 0 {
		return RetrievalReport{}, fmt.Errorf("retrieval: %w", ErrNoRows)
	}
	r := classify.NewRetriever(docs, opts)
	return RetrievalBy(ctx, questions, func(_ context.Context, _ int, q string) ([]classify.Hit, error) {
		return r.Search(q, 0), nil
	})
}

// Text renders the retrieval report for people.
func (r RetrievalReport) Text() string {
	return fmt.Sprintf("questions %d\ntop-1     %.2f %%\ntop-3     %.2f %%\nMRR       %.3f\n",
		r.N, 100*r.Top1, 100*r.Top3, r.MRR)
}
