package classify

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

var dev = flag.Bool("dev", false, "print the development figures of docs/router-results.md (CLINC150 val, BANKING77 and xSID 5-fold)")

// devReport is what devRun measures on a test set.
type devReport struct {
	// noThreshold is the in-scope accuracy when the best label wins,
	// the oos class included; inScope, recall and precision are the
	// in-scope accuracy and the OOS recall and precision of Decide, at
	// the model's threshold.
	noThreshold, inScope, recall, precision float64
	// swept is the in-scope accuracy at 70, 80 and 90 % OOS recall, the
	// threshold set on the test set itself (to compare in-scope scores,
	// never to choose one).
	swept     [3]float64
	threshold float64
}

// devRun trains on train with the default options and scores test.
func devRun(t *testing.T, train, test []Example) devReport {
	t.Helper()
	m, err := Train(context.Background(), train, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		p             float64 // Decision.InScope
		won, oos, top bool    // the oos class won; the message is out of scope; its best in-scope label is right
	}
	var pts []point
	var r devReport
	var nIn, nOOS, flagged float64
	s := m.getScratch()
	defer m.pool.Put(s)
	for _, e := range test {
		s.toks = extract(e.Text, &s.rf, s.toks)
		m.rawScores(s)
		best := 0
		for c, v := range s.scores {
			if v > s.scores[best] {
				best = c
			}
		}
		d := m.Decide(e.Text)
		pts = append(pts, point{d.InScope, best == m.oos, e.Label == OOS, d.Top[0].Label == e.Label})
		if d.OOS {
			flagged++
		}
		if e.Label == OOS {
			nOOS++
			if d.OOS {
				r.recall++
			}
			continue
		}
		nIn++
		if m.labels[best] == e.Label {
			r.noThreshold++
		}
		if !d.OOS && d.Label == e.Label {
			r.inScope++
		}
	}
	r.noThreshold /= nIn
	r.inScope /= nIn
	r.threshold = m.threshold
	if nOOS == 0 {
		return r
	}
	r.precision = r.recall / max(flagged, 1)
	r.recall /= nOOS
	var free []float64 // in-scope scores of the out-of-scope messages the oos class did not catch
	for _, q := range pts {
		if q.oos && !q.won {
			free = append(free, q.p)
		}
	}
	slices.Sort(free)
	for k, want := range []float64{0.7, 0.8, 0.9} {
		need := int(math.Ceil(want*nOOS)) - (int(nOOS) - len(free))
		th := 0.0
		if need > 0 {
			th = math.Nextafter(free[need-1], 1)
		}
		for _, q := range pts {
			if !q.oos && q.top && !q.won && q.p >= th {
				r.swept[k]++
			}
		}
		r.swept[k] /= nIn
	}
	return r
}

// devCV is the k-fold accuracy on ex (which has no oos examples), with
// the folds of intents/evaluate.
func devCV(t *testing.T, ex []Example, k int) float64 {
	seen := map[string]int{}
	fold := make([]int, len(ex))
	for i, e := range ex {
		fold[i] = seen[e.Label] % k
		seen[e.Label]++
	}
	var right float64
	for f := range k {
		var train, test []Example
		for i, e := range ex {
			if fold[i] == f {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
		}
		right += devRun(t, train, test).inScope * float64(len(test))
	}
	return right / float64(len(ex))
}

// TestDevFigures prints the development figures used to judge a change
// (docs/router-results.md): CLINC150 train → val (test only reported),
// BANKING77 and xSID 5-fold.
func TestDevFigures(t *testing.T) {
	if !*dev {
		t.Skip("run with -dev to print the development figures")
	}
	rows := loadRows(t, "clinc150.jsonl")
	train := examplesOf(rows, "train")
	pct := func(v [3]float64) string {
		return fmt.Sprintf("%.2f / %.2f / %.2f %%", 100*v[0], 100*v[1], 100*v[2])
	}
	for _, split := range []string{"val", "test"} {
		r := devRun(t, train, examplesOf(rows, split))
		fmt.Printf("CLINC150 %s: no threshold %.2f %%; at the chosen threshold (%.3f) in-scope %.2f %%, OOS recall %.1f %%, precision %.1f %%\n",
			split, 100*r.noThreshold, r.threshold, 100*r.inScope, 100*r.recall, 100*r.precision)
		fmt.Printf("CLINC150 %s: in-scope at 70 / 80 / 90 %% OOS recall (threshold swept on %[1]s): %s\n", split, pct(r.swept))
	}
	fmt.Printf("BANKING77 5-fold: %.2f %%\n", 100*devCV(t, examplesOf(loadRows(t, "banking77-train.jsonl"), ""), 5))
	var x []string
	for _, lang := range []string{"sr", "nb", "en"} {
		x = append(x, fmt.Sprintf("%.2f", 100*devCV(t, examplesOf(loadRows(t, "xsid-"+lang+"-val.jsonl"), ""), 5)))
	}
	fmt.Printf("xSID sr / nb / en 5-fold: %s %%\n", strings.Join(x, " / "))
}
