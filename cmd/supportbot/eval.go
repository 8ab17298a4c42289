package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/evaluate"
	"github.com/supportbot/supportbot/intents/kb"
	"github.com/supportbot/supportbot/store"
)

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("eval", "Measure the router on labelled JSON Lines ({\"text\",\"intent\",\"split\",\"lang\"}; intent \"oos\" is out of scope).\n\n"+
		"  supportbot eval --data FILE.jsonl [--train-split train] [--test-split test] [--folds K] [--json]\n"+
		"  supportbot eval --faq ANSWERS.jsonl --data QUESTIONS.jsonl [--split S] [--llm] [--json]\n"+
		"  supportbot eval [--folds K]      cross-validate the live knowledge base's own examples", stderr)
	data := fs.String("data", "", "labelled `FILE` (JSON Lines)")
	faq := fs.String("faq", "", "FAQ answers `FILE`: score retrieval of answers for the --data questions")
	train := fs.String("train-split", "train", "`split` to train on")
	test := fs.String("test-split", "test", "`split` to score")
	split := fs.String("split", "", "with --faq: the `split` of questions to score (default: all)")
	folds := fs.Int("folds", 0, "cross-validate with `K` folds on the train split (default 5 for the live knowledge base)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	withLLM := fs.Bool("llm", false, "with --faq: also rank with [llm] embedding_model blended with the offline ranking, and report the gain")
	cf := withConfig(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	print := func(v interface {
		Text() string
	}, j func() ([]byte, error)) error {
		if !*asJSON {
			fmt.Fprint(stdout, v.Text())
			return nil
		}
		b, err := j()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	if *faq != "" {
		if *data == "" {
			return fmt.Errorf("%w: --faq needs --data QUESTIONS.jsonl", errUsage)
		}
		docs, err := evaluate.LoadDocumentsFile(*faq)
		if err != nil {
			return err
		}
		rows, err := evaluate.LoadRowsFile(*data)
		if err != nil {
			return err
		}
		if *split != "" {
			var keep []evaluate.Row
			for _, r := range rows {
				if r.Split == *split {
					keep = append(keep, r)
				}
			}
			rows = keep
		}
		if *withLLM {
			return evalWithEmbeddings(ctx, *cf.path, isSet(fs, "config"), docs, rows, *asJSON, stdout, stderr)
		}
		rep, err := evaluate.Retrieval(ctx, docs, rows, intentsRetrieverOptions())
		if err != nil {
			return err
		}
		return print(rep, func() ([]byte, error) { return json.Marshal(rep) })
	}
	var rows []evaluate.Row
	opts := evaluate.Options{TrainSplit: *train, TestSplit: *test, Folds: *folds}
	if *folds > 1 && !isSet(fs, "train-split") {
		opts.TrainSplit = "" // cross-validate every row unless a split is named
	}
	if *data != "" {
		var err error
		if rows, err = evaluate.LoadRowsFile(*data); err != nil {
			return err
		}
	} else {
		var err error
		if rows, err = liveRows(ctx, cf); err != nil {
			return err
		}
		opts.TrainSplit = ""
		if opts.Folds < 2 {
			opts.Folds = 5
		}
	}
	rep, err := evaluate.Run(ctx, rows, opts)
	if err != nil {
		return err
	}
	return print(rep, rep.JSON)
}

// liveRows turns the live knowledge base's examples into labelled rows.
func liveRows(ctx context.Context, cf configFlags) ([]evaluate.Row, error) {
	cfg, err := cf.load()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Store, newLogger("warn", "text", io.Discard))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	d, err := st.Doc(ctx, intents.KBDoc)
	var base *kb.Base
	switch {
	case err == nil:
		base, err = kb.ParseJSON(d.Data)
	default:
		return nil, fmt.Errorf("no live knowledge base (%w); start the bot once or run `supportbot kb import`", err)
	}
	if err != nil {
		return nil, err
	}
	var rows []evaluate.Row
	for _, in := range base.Intents {
		for lang, xs := range in.Examples {
			for _, x := range xs {
				rows = append(rows, evaluate.Row{Text: x, Intent: in.Name, Lang: lang})
			}
		}
	}
	for _, f := range base.FAQs {
		for lang, xs := range f.Questions {
			for _, x := range xs {
				rows = append(rows, evaluate.Row{Text: x, Intent: "faq:" + f.ID, Lang: lang})
			}
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("the live knowledge base has no examples to cross-validate")
	}
	return rows, nil
}

func intentsRetrieverOptions() classify.RetrieverOptions { return classify.RetrieverOptions{} }
