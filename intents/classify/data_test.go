package classify

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// dataDir is where the shared evaluation data lives.
var dataDir = filepath.Join("..", "..", "..", "shared", "data")

type row struct {
	Text, Intent, Split, Lang string
}

// loadRows reads a JSONL data file, skipping the test when it is absent.
func loadRows(tb testing.TB, name string) []row {
	tb.Helper()
	f, err := os.Open(filepath.Join(dataDir, name))
	if os.IsNotExist(err) {
		tb.Skipf("evaluation data %s not present (see /work/shared/data/README.md)", name)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

func examplesOf(rows []row, split string) []Example {
	var out []Example
	for _, r := range rows {
		if split == "" || r.Split == split {
			out = append(out, Example{Text: r.Text, Label: r.Intent, Lang: r.Lang})
		}
	}
	return out
}
