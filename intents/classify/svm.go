package classify

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// trainOVR trains one linear SVM per class (one-vs-rest, squared hinge
// loss, L2 regularisation) by dual coordinate descent with shrinking: the
// LIBLINEAR algorithm (Hsieh et al. 2008, solver L2R_L2LOSS_SVC_DUAL). It
// returns the weights as rows per feature, [f*nClasses+c], and one bias
// per class. Classes train in parallel; results do not depend on the
// number of workers.
func trainOVR(ctx context.Context, xs []vector, ys []int32, nClasses, nFeat int, c float64, workers int) ([]float32, []float32, error) {
	W := make([]float32, nFeat*nClasses)
	bias := make([]float32, nClasses)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	xsq := make([]float64, len(xs))
	for i, x := range xs {
		for _, f := range x {
			xsq[i] += float64(f.val) * float64(f.val)
		}
		xsq[i]++ // the bias feature
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &dcdSolver{w: make([]float32, nFeat), alpha: make([]float64, len(xs)),
				index: make([]int, len(xs)), y: make([]float64, len(xs))}
			for cls := range next {
				for i, yi := range ys {
					s.y[i] = -1
					if int(yi) == cls {
						s.y[i] = 1
					}
				}
				b := s.solve(xs, xsq, c, uint64(cls))
				mu.Lock()
				for f, v := range s.w {
					if v != 0 {
						W[f*nClasses+cls] = v
					}
				}
				bias[cls] = float32(b)
				mu.Unlock()
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
	return W, bias, err
}

type dcdSolver struct {
	w     []float32
	alpha []float64
	index []int
	y     []float64
}

const (
	dcdEps     = 0.1 // stopping tolerance on the projected gradient (LIBLINEAR's default)
	dcdMaxIter = 300
)

// solve runs dual coordinate descent for one binary problem (labels in
// s.y) and leaves the weights in s.w; it returns the bias.
func (s *dcdSolver) solve(xs []vector, xsq []float64, c float64, seed uint64) float64 {
	n := len(xs)
	clear(s.w)
	clear(s.alpha)
	var b float64
	diag := 0.5 / c
	for i := range s.index {
		s.index[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	active := n
	pgMaxOld := math.Inf(1)
	for iter := 0; iter < dcdMaxIter; iter++ {
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for i := 0; i < active; i++ {
			j := i + rng.IntN(active-i)
			s.index[i], s.index[j] = s.index[j], s.index[i]
		}
		for k := 0; k < active; k++ {
			i := s.index[k]
			yi := s.y[i]
			g := yi*(float64(xs[i].dot32(s.w))+b) - 1 + s.alpha[i]*diag
			pg := g
			if s.alpha[i] == 0 {
				if g > pgMaxOld { // shrink: this example stays at α = 0
					active--
					s.index[k], s.index[active] = s.index[active], s.index[k]
					k--
					continue
				}
				pg = math.Min(g, 0)
			}
			pgMax, pgMin = math.Max(pgMax, pg), math.Min(pgMin, pg)
			if math.Abs(pg) > 1e-12 {
				old := s.alpha[i]
				s.alpha[i] = math.Max(old-g/(xsq[i]+diag), 0)
				d := (s.alpha[i] - old) * yi
				d32 := float32(d)
				for _, f := range xs[i] {
					s.w[f.idx] += d32 * f.val
				}
				b += d
			}
		}
		if pgMax-pgMin <= dcdEps {
			if active == n {
				break
			}
			active = n
			pgMaxOld = math.Inf(1)
			continue
		}
		pgMaxOld = pgMax
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
	}
	return b
}
