package main

import (
	"path/filepath"
	"reflect"
	"testing"
)

// The Redis rows' process hands its rows over in a file: the table must
// show them as that process measured them.
func TestReportSurvivesTheHandOver(t *testing.T) {
	want := &report{
		rows: []row{
			{"reference: redis-benchmark", "`redis-benchmark -q`", "SET 51,000 round trips/s", "", "1.20"},
			{"engine e2e, Redis, paced 2,000 msg/s", "open loop | 100 conversations", "p99 4.10 ms", "p99 ≤ 5 ms: met", "1.35"},
		},
		notes: []string{"Redis commands per message: get 5.00."},
	}
	file := filepath.Join(t.TempDir(), "rows.json")
	if err := want.write(file); err != nil {
		t.Fatal(err)
	}
	got, err := readReport(file)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v, wrote %+v", got, want)
	}
}
