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
	for b.Loop() {
		if _, err := Train(context.Background(), train, Options{}); err != nil {
			b.Fatal(err)
		}
	}
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
