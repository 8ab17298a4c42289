package classify

import (
	"context"
	"slices"
	"testing"
)

// clincEdit is the first n CLINC150 intents (train split, out-of-scope
// rows included), and the same after an admin's edit: one intent deleted,
// ten examples of another deleted, ten val examples added to a third, and
// a new intent (the next one, with its val examples). It also returns the
// test messages of the edited knowledge base's intents.
func clincEdit(tb testing.TB, n int) (before, after, test []Example, gone, added string) {
	rows := loadRows(tb, "clinc150.jsonl")
	var intents []string
	for _, e := range examplesOf(rows, "train") {
		if e.Label != OOS && !slices.Contains(intents, e.Label) {
			intents = append(intents, e.Label)
		}
	}
	keep, gone, trimmed, grown, added := intents[:n], intents[0], intents[1], intents[2], intents[n]
	in := func(e Example, labels []string) bool { return e.Label == OOS || slices.Contains(labels, e.Label) }
	dropped := 0
	for _, e := range examplesOf(rows, "train") {
		if !in(e, keep) {
			continue
		}
		before = append(before, e)
		if e.Label == trimmed && dropped < 10 {
			dropped++
			continue
		}
		if e.Label != gone {
			after = append(after, e)
		}
	}
	grownN := 0
	for _, e := range examplesOf(rows, "val") {
		if e.Label == grown && grownN < 10 {
			after = append(after, e)
			grownN++
		}
		if e.Label == added {
			after = append(after, e)
		}
	}
	for _, e := range examplesOf(rows, "test") {
		if e.Label != gone && in(e, append(keep, added)) {
			test = append(test, e)
		}
	}
	return before, after, test, gone, added
}

// mustTrain is Train that fails the test on an error.
func mustTrain(tb testing.TB, ex []Example, opts Options) *Model {
	tb.Helper()
	m, err := Train(context.Background(), ex, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestWarmStartAfterEdit: after a knowledge-base edit, the interim model
// trained from the one before (Options.Warm) knows the new intent, no
// longer knows the deleted one, and decides as the model trained from
// scratch on nearly every message.
func TestWarmStartAfterEdit(t *testing.T) {
	before, after, test, gone, added := clincEdit(t, 30)
	prev := mustTrain(t, before, Options{})
	if !prev.Warmable() {
		t.Fatal("a trained model is not Warmable")
	}
	fresh := mustTrain(t, after, Options{})
	warm := mustTrain(t, after, Options{Warm: prev})
	if !warm.Interim() || fresh.Interim() {
		t.Errorf("Interim: %v from the model before, %v from scratch", warm.Interim(), fresh.Interim())
	}
	if l := warm.Labels(); slices.Contains(l, gone) || !slices.Contains(l, added) {
		t.Fatalf("labels after the edit: %v (deleted %s, added %s)", l, gone, added)
	}
	if warm.Threshold() != prev.Threshold() {
		t.Errorf("interim threshold %v, want the previous model's %v", warm.Threshold(), prev.Threshold())
	}
	agree, right, rightFresh, newRight, newFresh, newN := 0, 0, 0, 0, 0, 0
	for _, e := range test {
		w, f := warm.Decide(e.Text), fresh.Decide(e.Text)
		if w.Label == f.Label {
			agree++
		}
		if w.Label == e.Label || e.Label == OOS && w.OOS {
			right++
		}
		if f.Label == e.Label || e.Label == OOS && f.OOS {
			rightFresh++
		}
		if e.Label == added {
			newN++
			if w.Label == added {
				newRight++
			}
			if f.Label == added {
				newFresh++
			}
		}
	}
	t.Logf("%d test messages: the interim model agrees with a fresh one on %d, right on %d (fresh %d); the new intent's %d: %d (fresh %d)",
		len(test), agree, right, rightFresh, newN, newRight, newFresh)
	if float64(agree) < 0.97*float64(len(test)) {
		t.Errorf("the interim model agrees with a fresh one on %d of %d messages", agree, len(test))
	}
	if right < rightFresh-len(test)/100 {
		t.Errorf("the interim model is right on %d messages, a fresh one on %d", right, rightFresh)
	}
	if newRight == 0 || newRight < newFresh-2 {
		t.Errorf("the new intent's messages: %d of %d recognised, by a fresh model %d", newRight, newN, newFresh)
	}
}

// TestWarmIgnoredWithoutEnoughOverlap: a knowledge base replaced rather
// than edited (under half of its examples the same as the warm model's) is
// trained from scratch, with calibration folds of its own.
func TestWarmIgnoredWithoutEnoughOverlap(t *testing.T) {
	_, after, _, _, _ := clincEdit(t, 30)
	other, _, _, _, _ := clincEdit(t, 12) // 12 of the 30 intents, and the oos rows
	m := mustTrain(t, after, Options{Warm: mustTrain(t, other, Options{})})
	fresh := mustTrain(t, after, Options{})
	if m.Interim() || m.Threshold() != fresh.Threshold() {
		t.Errorf("interim %v, threshold %v; want a model trained from scratch (threshold %v)", m.Interim(), m.Threshold(), fresh.Threshold())
	}
}

// BenchmarkTrainWarmCLINC150 trains the interim model after an edit of
// CLINC150 (as TestWarmStartAfterEdit, all 150 intents but one).
func BenchmarkTrainWarmCLINC150(b *testing.B) {
	before, after, _, _, _ := clincEdit(b, 149)
	prev := mustTrain(b, before, Options{})
	cpu := processCPU()
	for b.Loop() {
		if _, err := Train(context.Background(), after, Options{Warm: prev}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}
