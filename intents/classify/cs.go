package classify

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// trainCS trains a Crammer–Singer multi-class linear SVM (Crammer and
// Singer 2001): one weight vector per class, fitted jointly so that the
// right class outscores every other by a margin of 1, with hinge loss on
// the largest violation. It is solved by the sequential dual method of
// Keerthi et al. (2008), LIBLINEAR's MCSVM_CS solver, with shrinking of
// examples and of classes per example.
//
// With fold (a fold number per example, 0..k-1) it also cross-validates:
// the problem is solved again without each fold, whose examples are
// then scored, and onHeld (if not nil) is called with the held-out
// scores as soon as the last fold is scored, on a worker, while the
// full fit may still run. The full fit and the fold fits run in parallel
// on workers goroutines; results do not depend on their number.
//
// warm, if not nil, is where the full fit starts.
func trainCS(ctx context.Context, d *dataset, ys []int32, nc, nFeat int, c float64, workers int, fold []int, onHeld func([]float32), warm *start) (linear, error) {
	n := d.len()
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	jobs := [][]int32{all} // examples to train on: all, then without each fold
	var inFold [][]int32
	if fold != nil {
		k := slices.Max(fold) + 1
		inFold = make([][]int32, k)
		for f := range k {
			var out []int32
			for i, g := range fold {
				if g == f {
					inFold[f] = append(inFold[f], int32(i))
				} else {
					out = append(out, int32(i))
				}
			}
			jobs = append(jobs, out)
		}
	}
	var m linear
	if fold != nil {
		m.held = make([]float32, nc*n)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	foldsLeft := len(jobs) - 1
	errs := make([]error, len(jobs))
	for range min(workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				eps := float32(csEps)
				if j > 0 || warm != nil { // a fold, or an interim model
					eps = csFoldEps
				}
				var from *start
				if j == 0 {
					from = warm
				}
				w, b, alpha, err := solveCS(ctx, d, ys, nc, nFeat, float32(c), jobs[j], uint64(j), eps, from)
				if errs[j] = err; err != nil {
					continue
				}
				if j == 0 {
					m.w, m.bias, m.alpha = w, b, alpha
					continue
				}
				sc := make([]float32, nc)
				for _, i := range inFold[j-1] {
					d.scores(int(i), w, b, sc)
					for cls, v := range sc {
						m.held[cls*n+int(i)] = v
					}
				}
				mu.Lock()
				foldsLeft--
				last := foldsLeft == 0
				mu.Unlock()
				if last && onHeld != nil {
					onHeld(m.held)
				}
			}
		}()
	}
	for j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return linear{}, err
		}
	}
	return m, nil
}

// scores sets sc to the scores x_i · w_c + b_c of every class, for
// weights laid out [feature*nc+class] (nc = len(sc)).
func (d *dataset) scores(i int, w, bias, sc []float32) {
	nc := len(sc)
	copy(sc, bias)
	idx := d.idx[d.ptr[i]:d.ptr[i+1]]
	val := d.val[d.ptr[i]:d.ptr[i+1]]
	val = val[:len(idx)]
	for p, f := range idx {
		blasImpl.Saxpy(nc, val[p], w[int(f)*nc:][:nc], 1, sc, 1)
	}
}

// start is where a fit starts: the dual variables of each member
// ([k*nc+class]) as a fit of similar examples left them, and whether the
// member was in that fit. Any such variables are feasible.
type start struct {
	alpha []float32
	known []bool
}

const (
	csMaxIter = 1000
	csEps     = 0.1 // stopping tolerance (LIBLINEAR's default for this solver)
	// csFoldEps is the looser tolerance of the calibration folds, whose
	// scores only fit the calibration and threshold: a quarter less
	// work on CLINC150, and its val figures were as good (92.30 % in-scope
	// at 81 % OOS recall against 92.07 / 81 with csEps).
	csFoldEps = 1
)

// solveCS fits the Crammer–Singer SVM on the examples in members. The
// dual has a variable α_i^m per example and class, with Σ_m α_i^m = 0,
// α_i^m ≤ 0 for the wrong classes and α_i^y ≤ C for the right one; the
// weights are w_m = Σ_i α_i^m x_i (x_i with a bias feature of value 1,
// regularised like the others). Each step solves the sub-problem of one
// example's variables exactly, until the largest violation of the
// optimality conditions is below eps. It returns the weights, laid out
// [feature*nc+class], the biases and the dual variables ([k*nc+class] for
// members[k]). It starts from warm if not nil.
func solveCS(ctx context.Context, d *dataset, ys []int32, nc, nFeat int, c float32, members []int32, seed uint64, eps float32, warm *start) ([]float32, []float32, []float32, error) {
	w := make([]float32, nFeat*nc)
	bias := make([]float32, nc)
	n := len(members)
	alpha := make([]float32, n*nc)
	// Per example: its active classes (a permutation of 0..nc-1 whose
	// first activeN[k] entries are active).
	act := make([]int32, n*nc)
	activeN := make([]int32, n)
	index := make([]int32, n)
	for k := range index {
		index[k] = int32(k)
		activeN[k] = int32(nc)
		for m := 0; m < nc; m++ {
			act[k*nc+m] = int32(m)
		}
	}
	g := make([]float32, nc)
	sc := make([]float32, nc)
	bb := make([]float32, nc)
	dd := make([]float32, nc)
	an := make([]float32, nc)
	dl := make([]float32, nc)
	chg := make([]int32, nc)
	rng := rand.New(rand.NewPCG(seed, 0xc5))
	activeSize := n
	epsShrink := max(10*eps, 1)
	startFromAll := true
	if warm != nil {
		// Near the optimum: w and the biases follow from the variables, an
		// example known before starts with only the classes it uses, and
		// every class is checked once the rest has converged.
		epsShrink, startFromAll = eps, false
		copy(alpha, warm.alpha)
		var cls []int32
		for k, i := range members {
			ai, ac := alpha[k*nc:][:nc], act[k*nc:][:nc]
			cls = cls[:0]
			for m, a := range ai {
				if a != 0 {
					bias[m] += a
					cls = append(cls, int32(m))
				}
			}
			for p, f := range d.idx[d.ptr[i]:d.ptr[i+1]] {
				v, row := d.val[d.ptr[i]+int32(p)], w[int(f)*nc:][:nc]
				for _, m := range cls {
					row[m] += ai[m] * v
				}
			}
			if !warm.known[k] {
				continue // a new example: all classes
			}
			use := func(m int) bool { return ai[m] != 0 || int32(m) == ys[i] }
			na := 0
			for m := range nc {
				if use(m) {
					ac[na] = int32(m)
					na++
				}
			}
			for m, j := 0, na; m < nc; m++ {
				if !use(m) {
					ac[j] = int32(m)
					j++
				}
			}
			activeN[k] = int32(na)
		}
	}
	const inf = float32(1e30)
	for iter := 0; iter < csMaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		stopping := -inf
		for k := 0; k < activeSize; k++ {
			j := k + rng.IntN(activeSize-k)
			index[k], index[j] = index[j], index[k]
		}
		for s := 0; s < activeSize; s++ {
			k := int(index[s])
			i := int(members[k])
			yi := ys[i]
			ai := alpha[k*nc : k*nc+nc]
			ac := act[k*nc : k*nc+nc]
			na := int(activeN[k])
			// The scores of x_i for the active classes: all of them
			// row by row (four rows at a time), or class by class when
			// few are left.
			idx, val := d.idx[d.ptr[i]:d.ptr[i+1]], d.val[d.ptr[i]:d.ptr[i+1]]
			val = val[:len(idx)]
			if 3*na >= nc {
				d.scores(i, w, bias, sc)
			} else {
				for _, m := range ac[:na] {
					sc[m] = bias[m]
				}
				for p, f := range idx {
					v := val[p]
					row := w[int(f)*nc:][:nc]
					for _, m := range ac[:na] {
						sc[m] += v * row[m]
					}
				}
			}
			A := d.sq[i]
			yPos := -1 // position of yi among the active classes
			for q := 0; q < na; q++ {
				m := ac[q]
				g[q] = sc[m] + 1
				if m == yi {
					g[q] = sc[m]
					yPos = q
				}
			}
			minG, maxG := inf, -inf
			for q := 0; q < na; q++ {
				m := ac[q]
				if ai[m] < 0 && g[q] < minG {
					minG = g[q]
				}
				if g[q] > maxG {
					maxG = g[q]
				}
			}
			if yPos >= 0 && ai[yi] < c && g[yPos] < minG {
				minG = g[yPos]
			}
			for q := 0; q < na; q++ {
				m := ac[q]
				bound := float32(0)
				if m == yi {
					bound = c
				}
				if ai[m] == bound && g[q] < minG {
					na--
					for na > q {
						m2 := ac[na]
						b2 := float32(0)
						if m2 == yi {
							b2 = c
						}
						if !(ai[m2] == b2 && g[na] < minG) {
							break
						}
						na--
					}
					ac[q], ac[na] = ac[na], ac[q]
					g[q], g[na] = g[na], g[q]
					if yPos == na {
						yPos = q
					} else if yPos == q {
						yPos = na
					}
				}
			}
			activeN[k] = int32(na)
			if yPos >= na {
				yPos = -1
			}
			if na <= 1 {
				activeSize--
				index[s], index[activeSize] = index[activeSize], index[s]
				s--
				continue
			}
			if maxG-minG <= 1e-12 {
				continue
			}
			stopping = max(stopping, maxG-minG)
			for q := 0; q < na; q++ {
				bb[q] = g[q] - A*ai[ac[q]]
			}
			// Sub-problem: the new alphas of the active classes.
			copy(dd, bb[:na])
			if yPos >= 0 {
				dd[yPos] += A * c
			}
			// dd largest first: from a heap, as the loop takes few.
			h := dd[:na]
			heapify(h)
			top, h := popMax(h)
			beta := top - A*c
			r := 1
			for ; r < na && beta < float32(r)*h[0]; r++ {
				top, h = popMax(h)
				beta += top
			}
			beta /= float32(r)
			for q := 0; q < na; q++ {
				v := (beta - bb[q]) / A
				if q == yPos {
					an[q] = min(c, v)
				} else {
					an[q] = min(0, v)
				}
			}
			nd := 0
			for q := 0; q < na; q++ {
				m := ac[q]
				delta := an[q] - ai[m]
				if delta > 1e-12 || delta < -1e-12 {
					ai[m] = an[q]
					bias[m] += delta
					chg[nd], dl[nd] = m, delta
					nd++
				}
			}
			for p, f := range idx {
				v := val[p]
				row := w[int(f)*nc:][:nc]
				for j, m := range chg[:nd] {
					row[m] += dl[j] * v
				}
			}
		}
		if stopping < epsShrink {
			if stopping < eps && startFromAll {
				break
			}
			activeSize = n
			for k := range activeN {
				activeN[k] = int32(nc)
			}
			epsShrink = max(epsShrink/2, eps)
			startFromAll = true
		} else {
			startFromAll = false
		}
	}
	return w, bias, alpha, nil
}

// heapify makes h a max-heap.
func heapify(h []float32) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
}

// siftDown moves h[i] down to its place in the max-heap h.
func siftDown(h []float32, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && h[r] > h[l] {
			l = r
		}
		if h[i] >= h[l] {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

// popMax removes the largest value of the max-heap h and returns it with
// the heap left.
func popMax(h []float32) (float32, []float32) {
	top, n := h[0], len(h)-1
	h[0] = h[n]
	h = h[:n]
	siftDown(h, 0)
	return top, h
}
