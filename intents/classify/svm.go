package classify

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// dataset holds training vectors in compressed sparse rows: example i has
// the features idx[ptr[i]:ptr[i+1]] with values val[...]. sq is ‖x_i‖² + 1
// (the 1 is the bias feature).
type dataset struct {
	ptr []int32
	idx []int32
	val []float32
	sq  []float32
}

func newDataset(xs []vector) *dataset {
	d := &dataset{ptr: make([]int32, 1, len(xs)+1), sq: make([]float32, len(xs))}
	nnz := 0
	for _, x := range xs {
		nnz += len(x)
	}
	d.idx, d.val = make([]int32, 0, nnz), make([]float32, 0, nnz)
	for i, x := range xs {
		var s float32 = 1
		for _, f := range x {
			d.idx = append(d.idx, f.idx)
			d.val = append(d.val, f.val)
			s += f.val * f.val
		}
		d.sq[i] = s
		d.ptr = append(d.ptr, int32(len(d.idx)))
	}
	return d
}

func (d *dataset) len() int { return len(d.sq) }

// dot is x_i · w over the features of example i.
func (d *dataset) dot(i int, w []float32) float32 {
	idx := d.idx[d.ptr[i]:d.ptr[i+1]]
	val := d.val[d.ptr[i]:d.ptr[i+1]]
	val = val[:len(idx)]
	var s0, s1 float32
	k := 0
	for ; k+1 < len(idx); k += 2 {
		s0 += val[k] * w[idx[k]]
		s1 += val[k+1] * w[idx[k+1]]
	}
	if k < len(idx) {
		s0 += val[k] * w[idx[k]]
	}
	return s0 + s1
}

// axpy adds a·x_i to w.
func (d *dataset) axpy(i int, a float32, w []float32) {
	idx := d.idx[d.ptr[i]:d.ptr[i+1]]
	val := d.val[d.ptr[i]:d.ptr[i+1]]
	val = val[:len(idx)]
	for k, f := range idx {
		w[f] += a * val[k]
	}
}

// linear is a trained linear model (one-vs-rest or Crammer–Singer).
type linear struct {
	w    []float32 // rows per feature: [f*nClasses+c]
	bias []float32
	// held holds held-out decision values, [c*n+i]: the score of example
	// i for class c by the model trained without i's fold.
	held []float32
	// alpha is the full fit's dual variables, [i*nClasses+c]
	// (Crammer–Singer only).
	alpha []float32
}

// trainOVR trains one linear SVM per class (one-vs-rest, squared hinge
// loss, L2 regularisation) by dual coordinate descent with shrinking: the
// LIBLINEAR algorithm (Hsieh et al. 2008, solver L2R_L2LOSS_SVC_DUAL).
// Classes train in parallel; results do not depend on the number of
// workers.
//
// With fold (a fold number per example, numbered 0..k-1) it also
// cross-validates: for each fold, the class's problem is solved again
// without that fold's examples, which are then scored. (Warm starts from
// the full solution were tried: they saved no work.)
// onHeld is as for trainCS, called here once every class is trained.
func trainOVR(ctx context.Context, d *dataset, ys []int32, nClasses, nFeat int, c float64, workers int, fold []int, onHeld func([]float32), _ *start) (linear, error) {
	n := d.len()
	m := linear{w: make([]float32, nFeat*nClasses), bias: make([]float32, nClasses)}
	var inFold, outFold [][]int32 // per fold: its examples, the others
	if fold != nil {
		m.held = make([]float32, nClasses*n)
		k := slices.Max(fold) + 1
		inFold, outFold = make([][]int32, k), make([][]int32, k)
		for i, f := range fold {
			for g := range k {
				if g == f {
					inFold[g] = append(inFold[g], int32(i))
				} else {
					outFold[g] = append(outFold[g], int32(i))
				}
			}
		}
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for k := 0; k < min(workers, nClasses); k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &dcdSolver{w: make([]float32, nFeat), alpha: make([]float32, n),
				index: make([]int32, n), y: make([]float32, n), c: float32(c)}
			for cls := range next {
				for i, yi := range ys {
					s.y[i] = -1
					if int(yi) == cls {
						s.y[i] = 1
					}
				}
				clear(s.w)
				clear(s.alpha)
				b := s.solve(d, all, 0, uint64(cls))
				mu.Lock()
				for f, v := range s.w {
					if v != 0 {
						m.w[f*nClasses+cls] = v
					}
				}
				m.bias[cls] = b
				mu.Unlock()
				if fold == nil {
					continue
				}
				out := m.held[cls*n : cls*n+n]
				for f := range inFold {
					clear(s.w)
					clear(s.alpha)
					b := s.solve(d, outFold[f], 0, uint64(cls)<<8|uint64(f+1))
					for _, i := range inFold[f] {
						out[i] = d.dot(int(i), s.w) + b
					}
				}
			}
		}()
	}
	var err error
	for cls := 0; cls < nClasses; cls++ {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- cls
	}
	close(next)
	wg.Wait()
	if err == nil && fold != nil && onHeld != nil {
		onHeld(m.held)
	}
	return m, err
}

type dcdSolver struct {
	w     []float32
	alpha []float32
	index []int32
	y     []float32
	c     float32
}

const (
	dcdMaxIter = 300
	dcdEps     = 0.1 // stopping tolerance on the projected gradient (LIBLINEAR's default)
)

// solve runs dual coordinate descent for one binary problem over the
// examples in members (labels in s.y), starting from s.alpha, s.w and
// bias b, which must agree (w = Σ α_i y_i x_i, b = Σ α_i y_i). It leaves
// the weights in s.w and the dual variables in s.alpha, and returns the
// bias.
func (s *dcdSolver) solve(d *dataset, members []int32, b float32, seed uint64) float32 {
	n := len(members)
	index := s.index[:n]
	copy(index, members)
	diag := 0.5 / s.c
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	active := n
	const inf = float32(1e30)
	pgMaxOld := inf
	for iter := 0; iter < dcdMaxIter; iter++ {
		pgMax, pgMin := -inf, inf
		whole := active == n // this pass checks every example
		for i := 0; i < active; i++ {
			j := i + rng.IntN(active-i)
			index[i], index[j] = index[j], index[i]
		}
		for k := 0; k < active; k++ {
			i := int(index[k])
			yi, ai := s.y[i], s.alpha[i]
			g := yi*(d.dot(i, s.w)+b) - 1 + ai*diag
			pg := g
			if ai == 0 {
				if g > pgMaxOld { // shrink: this example stays at α = 0
					active--
					index[k], index[active] = index[active], index[k]
					k--
					continue
				}
				if g > 0 {
					pg = 0
				}
			}
			if pg > pgMax {
				pgMax = pg
			}
			if pg < pgMin {
				pgMin = pg
			}
			if pg > 1e-12 || pg < -1e-12 {
				na := ai - g/(d.sq[i]+diag)
				if na < 0 {
					na = 0
				}
				s.alpha[i] = na
				delta := (na - ai) * yi
				d.axpy(i, delta, s.w)
				b += delta
			}
		}
		if pgMax-pgMin <= dcdEps {
			if whole {
				break
			}
			active = n
			pgMaxOld = inf
			continue
		}
		pgMaxOld = pgMax
		if pgMaxOld <= 0 {
			pgMaxOld = inf
		}
	}
	return b
}
