package classify

import (
	"context"
	"math"
	"sort"
)

// heldOut is one held-out prediction: raw decision values (indexed by the
// full model's classes) and the true class.
type heldOut struct {
	scores []float64
	y      int32
}

// folds assigns each example to one of k folds, stratified by label and
// deterministic: the i-th example of a label goes to fold i mod k, with
// the starting fold rotating between labels so small classes spread out.
func folds(ys []int32, k int) []int {
	seen := map[int32]int{}
	out := make([]int, len(ys))
	for i, y := range ys {
		out[i] = (seen[y] + int(y)) % k
		seen[y]++
	}
	return out
}

// crossScores trains on k-1 folds and scores the held-out fold, k times.
func crossScores(ctx context.Context, examples []Example, ys []int32, labels []string, k int, opts Options) ([]heldOut, error) {
	fold := folds(ys, k)
	index := map[string]int{}
	for i, l := range labels {
		index[l] = i
	}
	var out []heldOut
	for f := 0; f < k; f++ {
		var train []Example
		var test []int
		for i, e := range examples {
			if fold[i] == f {
				test = append(test, i)
			} else {
				train = append(train, e)
			}
		}
		sub, _, err := fit(ctx, train, opts)
		if err != nil {
			return nil, err
		}
		s := sub.getScratch()
		for _, i := range test {
			sub.rawScores(examples[i].Text, s)
			full := make([]float64, len(labels))
			for c := range full {
				full[c] = -2 // a class missing from this fold's training scores low
			}
			for c, l := range sub.labels {
				full[index[l]] = s.scores[c]
			}
			out = append(out, heldOut{full, ys[i]})
		}
	}
	return out, nil
}

// calibrate fits the softmax scale on held-out folds (minimum negative
// log-likelihood) and, unless opts fixes it, the OOS threshold.
func (m *Model) calibrate(ctx context.Context, examples []Example, ys []int32, opts Options) error {
	// Every label needs an example outside each fold to be learnable; tiny
	// knowledge bases still calibrate, labels with one example simply
	// score low when held out.
	sub := opts
	sub.CalibrationFolds = 1
	ho, err := crossScores(ctx, examples, ys, m.labels, opts.CalibrationFolds, sub)
	if err != nil {
		return err
	}
	m.scale = fitScale(ho)
	if opts.OOSThreshold == 0 && m.oos >= 0 {
		m.threshold = m.chooseThreshold(ho, opts.OOSPrior)
	}
	return nil
}

// nll is the mean negative log-likelihood of the held-out labels under
// softmax(scale * scores).
func nll(ho []heldOut, scale float64) float64 {
	var sum float64
	for _, h := range ho {
		mx := math.Inf(-1)
		for _, v := range h.scores {
			mx = math.Max(mx, v)
		}
		var z float64
		for _, v := range h.scores {
			z += math.Exp(scale * (v - mx))
		}
		sum += math.Log(z) - scale*(h.scores[h.y]-mx)
	}
	return sum / float64(len(ho))
}

// fitScale minimises nll over the scale by golden-section search on a log
// scale (nll is unimodal in the scale for practical purposes).
func fitScale(ho []heldOut) float64 {
	lo, hi := math.Log(0.5), math.Log(200.0)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(ho, math.Exp(a)), nll(ho, math.Exp(b))
	for i := 0; i < 40; i++ {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(ho, math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(ho, math.Exp(b))
		}
	}
	return math.Exp((lo + hi) / 2)
}

// chooseThreshold picks the OOS threshold on held-out predictions: it
// maximises the expected rate of right outcomes when a share prior of the
// traffic is out of scope, (1-prior)·in-scope accuracy +
// prior·out-of-scope recall. Both are rates, so the choice does not depend
// on how many oos examples the knowledge base has.
func (m *Model) chooseThreshold(ho []heldOut, prior float64) float64 {
	type point struct {
		p            float64
		inScope, ok  bool // true label in scope; prediction right
		oosPredicted bool // the oos class won regardless of threshold
	}
	pts := make([]point, len(ho))
	var nIn, nOOS float64
	for i, h := range ho {
		probs := append([]float64(nil), h.scores...)
		m.probs(probs)
		best, bestIn := 0, -1
		for c, p := range probs {
			if p > probs[best] {
				best = c
			}
			if c != m.oos && (bestIn < 0 || p > probs[bestIn]) {
				bestIn = c
			}
		}
		pt := point{p: probs[bestIn], inScope: int(h.y) != m.oos, oosPredicted: best == m.oos}
		pt.ok = pt.inScope && !pt.oosPredicted && bestIn == int(h.y)
		if pt.inScope {
			nIn++
		} else {
			nOOS++
		}
		pts[i] = pt
	}
	if nOOS == 0 || nIn == 0 {
		return 0
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].p < pts[j].p })
	score := func(okAccepted, oosRejected float64) float64 {
		return (1-prior)*okAccepted/nIn + prior*oosRejected/nOOS
	}
	var okAcc, oosRej float64
	for _, p := range pts {
		if p.ok {
			okAcc++
		} else if !p.inScope && p.oosPredicted {
			oosRej++
		}
	}
	// Sweep the threshold upwards; moving it just above pts[i].p rejects
	// that point too.
	bestT, bestS := 0.0, score(okAcc, oosRej)
	for i, p := range pts {
		if p.ok {
			okAcc--
		} else if !p.inScope && !p.oosPredicted {
			oosRej++
		}
		if i+1 < len(pts) && pts[i+1].p == p.p {
			continue
		}
		if s := score(okAcc, oosRej); s > bestS {
			t := 1.0
			if i+1 < len(pts) {
				t = (p.p + pts[i+1].p) / 2
			}
			bestT, bestS = t, s
		}
	}
	return bestT
}
