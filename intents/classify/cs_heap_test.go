package classify

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPopMaxOrder: the Crammer–Singer sub-problem takes its values largest
// first from a heap; they must come in the order a sort gives, ties and
// all, or the trained model changes.
func TestPopMaxOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 200; n++ {
		h := make([]float32, n)
		for i := range h {
			h[i] = float32(rng.IntN(20)) - 10 + rng.Float32()*float32(rng.IntN(2))
		}
		want := slices.Clone(h)
		slices.Sort(want)
		slices.Reverse(want)
		heapify(h)
		for i, w := range want {
			var v float32
			v, h = popMax(h)
			if v != w {
				t.Fatalf("n=%d: pop %d = %v, want %v", n, i, v, w)
			}
		}
	}
}
