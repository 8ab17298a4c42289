package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/supportbot/supportbot/intents/evaluate"
	"github.com/supportbot/supportbot/intents/kb"
)

// errNoData says the CLINC150 file is absent; rows that need it are skipped.
var errNoData = errors.New("CLINC150 data absent")

// clinc is the CLINC150 knowledge base and the messages the benchmarks send.
type clinc struct {
	base  *kb.Base
	train int      // training examples in base
	test  []string // test-split texts, in-scope and out-of-scope
}

// loadCLINC builds a knowledge base of CLINC150's 150 intents with the
// train split's examples (100 each) and a one-line answer per intent.
func loadCLINC(dir string) (*clinc, error) {
	path := filepath.Join(dir, "clinc150.jsonl")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errNoData, path, err)
	}
	rows, err := evaluate.LoadRowsFile(path)
	if err != nil {
		return nil, err
	}
	ex := map[string][]string{}
	c := &clinc{base: &kb.Base{Languages: []string{"en"}}}
	for _, r := range rows {
		switch {
		case r.Split == "train" && r.Intent != "oos":
			ex[r.Intent] = append(ex[r.Intent], r.Text)
			c.train++
		case r.Split == "test":
			c.test = append(c.test, r.Text)
		}
	}
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c.base.Intents = append(c.base.Intents, kb.Intent{
			Name: n, Action: kb.ActionAnswer, Examples: map[string][]string{"en": ex[n]},
			Answers: map[string]kb.Answer{"en": {Text: "Here is what I know about " + strings.ReplaceAll(n, "_", " ") + "."}},
			File:    "clinc150.yaml",
		})
	}
	if err := c.base.Validate(); err != nil {
		return nil, fmt.Errorf("CLINC150 knowledge base: %w", err)
	}
	return c, nil
}
