package classify

import (
	"context"
	"testing"
)

// clincModel trains on CLINC150's train split (15,100 examples, 150
// intents plus oos).
func clincModel(b *testing.B) (*Model, []Example) {
	rows := loadRows(b, "clinc150.jsonl")
	m, err := Train(context.Background(), examplesOf(rows, "train"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m, examplesOf(rows, "test")
}

func BenchmarkTrainCLINC150(b *testing.B) {
	train := examplesOf(loadRows(b, "clinc150.jsonl"), "train")
	cpu := processCPU()
	for b.Loop() {
		if _, err := Train(context.Background(), train, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkDecideCLINC150(b *testing.B) {
	m, test := clincModel(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Decide(test[i%len(test)].Text)
		i++
	}
}

func BenchmarkPredictCLINC150(b *testing.B) {
	m, test := clincModel(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Predict(test[i%len(test)].Text)
		i++
	}
}

// BenchmarkTrainSmallKB trains a 900-example knowledge base (the first 30
// CLINC150 intents, 30 examples each) with the default 5-fold
// calibration: the retraining after an admin edit.
func BenchmarkTrainSmallKB(b *testing.B) {
	var kb []Example
	count := map[string]int{}
	for _, e := range examplesOf(loadRows(b, "clinc150.jsonl"), "train") {
		if _, ok := count[e.Label]; !ok && len(count) == 30 {
			continue
		}
		if count[e.Label] < 30 {
			count[e.Label]++
			kb = append(kb, e)
		}
	}
	cpu := processCPU()
	for b.Loop() {
		if _, err := Train(context.Background(), kb, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}
