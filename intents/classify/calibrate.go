package classify

import (
	"math"
	"sort"
)

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

// heldOut is the cross-validated decision values of the training
// examples: scores[i*nc+c] is example i's score for class c by the model
// trained without i's fold.
type heldOut struct {
	scores []float32
	ys     []int32
	nc     int
	// unknown[i] is the number of example i's words unknown to the
	// model trained without its fold (nil: all known).
	unknown []float64
}

// unk is the number of example i's words that are unknown.
func (h heldOut) unk(i int) float64 {
	if h.unknown == nil {
		return 0
	}
	return h.unknown[i]
}

// transpose turns class-major held-out scores [c*n+i] into heldOut.
func transpose(held []float32, ys []int32) heldOut {
	n := len(ys)
	nc := len(held) / n
	h := heldOut{scores: make([]float32, len(held)), ys: ys, nc: nc}
	for c := 0; c < nc; c++ {
		for i, v := range held[c*n : c*n+n] {
			h.scores[i*nc+c] = v
		}
	}
	return h
}

func (h heldOut) row(i int) []float32 { return h.scores[i*h.nc : i*h.nc+h.nc] }

// calibrate fits the softmax scale and, unless opts fixes it, the OOS
// threshold on held-out predictions.
func (m *Model) calibrate(h heldOut, opts Options) {
	m.scale = fitScale(h)
	if m.oos >= 0 {
		m.platt = fitPlatt(h, m.oos, opts.OOSPrior)
	}
	if opts.OOSThreshold == 0 && m.oos >= 0 {
		m.threshold = m.chooseThreshold(h, opts.OOSPrior, opts.OOSPrecision)
	}
}

// fitPlatt fits σ(a·gap + b + c·unknown) as the probability that a
// held-out message is in scope, where gap is its best in-scope score
// minus its oos score and unknown the number of its words unknown to the
// model trained without its fold, by weighted logistic regression (Newton's method, a little
// ridge so that separable data stays finite). Out-of-scope examples
// carry a total weight of prior, in-scope ones 1 - prior.
func fitPlatt(h heldOut, oos int, prior float64) [3]float64 {
	n := len(h.ys)
	xs := make([][3]float64, n) // gap, 1, unknown
	var nOOS float64
	for i, y := range h.ys {
		r := h.row(i)
		best := float32(math.Inf(-1))
		for c, v := range r {
			if c != oos {
				best = max(best, v)
			}
		}
		xs[i] = [3]float64{float64(best - r[oos]), 1, h.unk(i)}
		if int(y) == oos {
			nOOS++
		}
	}
	if nOOS == 0 || nOOS == float64(n) {
		return [3]float64{defaultScale, 0, 0}
	}
	wIn, wOOS := (1-prior)/(float64(n)-nOOS), prior/nOOS
	const ridge = 1e-3
	dot := func(p, x [3]float64) float64 { return p[0]*x[0] + p[1]*x[1] + p[2]*x[2] }
	loss := func(p [3]float64) float64 {
		l := ridge * dot(p, p) / 2
		for i, y := range h.ys {
			z := dot(p, xs[i])
			if int(y) == oos {
				l += wOOS * softplus(z) // -log(1 - σ(z))
			} else {
				l += wIn * softplus(-z) // -log σ(z)
			}
		}
		return l
	}
	p := [3]float64{defaultScale, 0, 0}
	cur := loss(p)
	for iter := 0; iter < 50; iter++ {
		var g [3]float64
		var hs [3][3]float64
		for j := range 3 {
			g[j] = ridge * p[j]
			hs[j][j] = ridge
		}
		for i, y := range h.ys {
			x := xs[i]
			q := 1 / (1 + math.Exp(-dot(p, x)))
			t, w := 1.0, wIn
			if int(y) == oos {
				t, w = 0, wOOS
			}
			r, v := w*(q-t), w*q*(1-q)
			for j := range 3 {
				g[j] += r * x[j]
				for k := range 3 {
					hs[j][k] += v * x[j] * x[k]
				}
			}
		}
		d := solve3(hs, g)
		// Backtrack until the loss decreases (Newton can overshoot where
		// the sigmoid saturates).
		step := 1.0
		for ; step > 1e-4; step /= 2 {
			next := [3]float64{p[0] - step*d[0], p[1] - step*d[1], p[2] - step*d[2]}
			if l := loss(next); l <= cur {
				p, cur = next, l
				break
			}
		}
		if step <= 1e-4 || step*(math.Abs(d[0])+math.Abs(d[1])+math.Abs(d[2])) < 1e-6 {
			break
		}
	}
	return p
}

// solve3 solves the symmetric positive definite system a·x = b by
// Gaussian elimination.
func solve3(a [3][3]float64, b [3]float64) [3]float64 {
	for k := range 3 {
		for i := k + 1; i < 3; i++ {
			f := a[i][k] / a[k][k]
			for j := k; j < 3; j++ {
				a[i][j] -= f * a[k][j]
			}
			b[i] -= f * b[k]
		}
	}
	var x [3]float64
	for i := 2; i >= 0; i-- {
		s := b[i]
		for j := i + 1; j < 3; j++ {
			s -= a[i][j] * x[j]
		}
		x[i] = s / a[i][i]
	}
	return x
}

// softplus is log(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 30 {
		return z
	}
	return math.Log1p(math.Exp(z))
}

// fitScale returns the softmax scale s that minimises the mean negative
// log-likelihood of the held-out labels under softmax(s · scores). The
// objective is convex in s (a log-sum-exp of functions linear in s), so
// a safeguarded Newton iteration on it converges in a few steps.
func fitScale(h heldOut) float64 {
	const lo, hi = 0.5, 200.0
	n := len(h.ys)
	// d[i*nc+c] = score - max score of the row, so that exp never overflows.
	d := make([]float64, len(h.scores))
	for i := 0; i < n; i++ {
		r := h.row(i)
		mx := r[0]
		for _, v := range r {
			mx = max(mx, v)
		}
		for c, v := range r {
			d[i*h.nc+c] = float64(v - mx)
		}
	}
	s := float64(defaultScale)
	for iter := 0; iter < 50; iter++ {
		var g, hess float64 // first and second derivatives of the NLL
		for i := 0; i < n; i++ {
			row := d[i*h.nc : i*h.nc+h.nc]
			var z, m1, m2 float64
			for _, v := range row {
				e := math.Exp(s * v)
				z += e
				m1 += e * v
				m2 += e * v * v
			}
			mean := m1 / z
			g += mean - row[h.ys[i]]
			hess += m2/z - mean*mean
		}
		step := -g / math.Max(hess, 1e-12)
		// Newton on a convex function of one variable: damp to at most
		// doubling or halving s per step.
		next := math.Min(math.Max(s+step, s/2), 2*s)
		next = math.Min(math.Max(next, lo), hi)
		if math.Abs(next-s) < 1e-4*s {
			return next
		}
		s = next
	}
	return s
}

// chooseThreshold picks the OOS threshold on held-out predictions. It
// maximises the expected value of the decisions at the out-of-scope share
// prior of real traffic (a right answer +1, a wrong one -1, a handoff 0)
// subject to a floor on the share of handoffs that are right: out of
// scope, or in scope but would have been answered wrongly. The floor
// keeps the bot from handing off answerable messages to catch a few more
// out-of-scope ones. The share is judged at the prior and pessimistically,
// from one-standard-error Wilson bounds on the out-of-scope recall and on
// the rate of right answers lost, so that few out-of-scope examples give
// a cautious threshold. It returns 0 (no threshold) when no threshold
// meets the floor.
func (m *Model) chooseThreshold(h heldOut, prior, floor float64) float64 {
	type point struct {
		p            float64
		inScope, ok  bool // true label in scope; its best in-scope label is right
		oosPredicted bool // the oos class won regardless of threshold
	}
	pts := make([]point, len(h.ys))
	probs := make([]float64, h.nc)
	// Counts as the threshold rises: in-scope messages answered right
	// and wrong, right answers lost to a handoff, out-of-scope messages
	// handed off.
	var nIn, nOOS, right, wrong, lost, caught float64
	for i, y := range h.ys {
		for c, v := range h.row(i) {
			probs[c] = float64(v)
		}
		best, in := 0, -1
		for c, v := range probs {
			if v > probs[best] {
				best = c
			}
			if c != m.oos && (in < 0 || v > probs[in]) {
				in = c
			}
		}
		pt := point{p: m.inScope(probs, in, h.unk(i)), inScope: int(y) != m.oos, ok: in == int(y), oosPredicted: best == m.oos}
		switch {
		case !pt.inScope:
			nOOS++
			if pt.oosPredicted {
				caught++
			}
		case pt.oosPredicted:
			nIn++
			if pt.ok {
				lost++
			}
		case pt.ok:
			nIn++
			right++
		default:
			nIn++
			wrong++
		}
		pts[i] = pt
	}
	if nOOS == 0 || nIn == 0 {
		return 0
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].p < pts[j].p })
	value := func() float64 {
		return (1-prior)*(right-wrong)/nIn - prior*(nOOS-caught)/nOOS
	}
	feasible := func() bool {
		r, f := wilson(caught, nOOS, -1), wilson(lost, nIn, 1)
		return r > 0 && prior*r >= floor*(prior*r+(1-prior)*f)
	}
	bestT, bestV := 0.0, math.Inf(-1)
	if feasible() {
		bestV = value()
	}
	// Sweep the threshold upwards; moving it just above pts[i].p hands
	// that point off too.
	for i, p := range pts {
		switch {
		case p.oosPredicted:
		case !p.inScope:
			caught++
		case p.ok:
			right, lost = right-1, lost+1
		default:
			wrong--
		}
		if i+1 < len(pts) && pts[i+1].p == p.p {
			continue
		}
		if v := value(); v > bestV && feasible() {
			t := 1.0
			if i+1 < len(pts) {
				t = (p.p + pts[i+1].p) / 2
			}
			bestT, bestV = t, v
		}
	}
	return bestT
}

// wilson is the Wilson score bound on a proportion of k in n, one
// standard error above (z = 1) or below (z = -1) the estimate.
func wilson(k, n, z float64) float64 {
	p := k / n
	return (p + z*z/(2*n) + z*math.Sqrt(p*(1-p)/n+z*z/(4*n*n))) / (1 + z*z/n)
}
