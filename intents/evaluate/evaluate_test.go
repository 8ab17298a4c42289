package evaluate

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/intents/classify"
)

var results = flag.Bool("results", false, "print the figures of docs/router-results.md (slow)")

var dataDir = filepath.Join("..", "..", "..", "shared", "data")

func loadData(t testing.TB, name string) []Row {
	t.Helper()
	rows, err := LoadRowsFile(filepath.Join(dataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("evaluation data %s not present (see /work/shared/data/README.md)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// heavy skips data-set tests that would take minutes under -race or are
// not wanted with -short.
func heavy(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("full data-set evaluation skipped with -short and -race")
	}
}

func TestLoadRows(t *testing.T) {
	in := `{"text":"hi there","intent":"greet","split":"train","lang":"en","extra":1}

{"text":"bye","intent":"bye","split":"test","lang":"en"}
`
	rows, err := LoadRows(strings.NewReader(in), "x.jsonl")
	if err != nil || len(rows) != 2 || rows[1] != (Row{"bye", "bye", "test", "en"}) {
		t.Fatalf("rows %v, err %v", rows, err)
	}
	for _, bad := range []string{`{"text":"a","intent":"b"}` + "\n{oops}\n", `{"text":"a","intent":"b"}` + "\n" + `{"text":"no intent"}`} {
		_, err := LoadRows(strings.NewReader(bad), "bad.jsonl")
		if !errors.Is(err, ErrBadRow) || !strings.Contains(err.Error(), "bad.jsonl:2:") {
			t.Errorf("error %v, want ErrBadRow at bad.jsonl:2", err)
		}
	}
	docs, err := LoadDocuments(strings.NewReader(`{"answer_id":"a1","text":"Svar.","category":"Kat","lang":"sv"}`), "d")
	if err != nil || len(docs) != 1 || docs[0].ID != "a1" || docs[0].Title != "Kat" {
		t.Errorf("docs %v, err %v", docs, err)
	}
}

func synthetic() []Row {
	var rows []Row
	add := func(intent, split string, texts ...string) {
		for _, t := range texts {
			rows = append(rows, Row{t, intent, split, "en"})
		}
	}
	add("order", "train", "where is my order", "track my parcel", "my package is late", "order not arrived")
	add("password", "train", "forgot my password", "reset password", "cannot log in", "change my password")
	add("refund", "train", "i want a refund", "money back please", "return an item", "refund my order")
	add("oos", "train", "tell me a joke", "what is the weather", "who is the president")
	add("order", "test", "where is my parcel")
	add("password", "test", "i forgot the password")
	add("refund", "test", "can i get my money back")
	add("oos", "test", "sing me a song")
	return rows
}

func TestRunAndReport(t *testing.T) {
	rep, err := Run(context.Background(), synthetic(), Options{TrainSplit: "train", TestSplit: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != 4 || rep.InScopeAccuracy != 1 || rep.Top3 < 0.75 || len(rep.Reliability) != 10 {
		t.Errorf("report %+v", rep)
	}
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accuracy", "in_scope_accuracy", "oos_recall", "oos_precision", "macro_f1", "top3",
		"train_seconds", "p50_us", "p99_us", "n", "ece", "confused", "reliability"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if !strings.Contains(rep.Text(), "in-scope accuracy  100.00 %") {
		t.Errorf("Text():\n%s", rep.Text())
	}
	// Cross-validation over one split; no oos rows gives null OOS figures.
	var in []Row
	for _, r := range synthetic() {
		if r.Intent != classify.OOS {
			in = append(in, r)
		}
	}
	rep, err = Run(context.Background(), in, Options{Folds: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != len(in) || !math.IsNaN(rep.OOSRecall) {
		t.Errorf("CV report %+v", rep)
	}
	if b, _ := rep.JSON(); !strings.Contains(string(b), `"oos_recall": null`) {
		t.Errorf("JSON %s", b)
	}
	if _, err := Run(context.Background(), in, Options{TrainSplit: "train", TestSplit: "nope"}); !errors.Is(err, ErrNoRows) {
		t.Errorf("empty split: %v", err)
	}
}

func TestReliability(t *testing.T) {
	conf := []float64{0.95, 0.95, 0.55, 0.55, 1.0}
	ok := []bool{true, false, true, true, true}
	bins, ece := Reliability(conf, ok, 10)
	if bins[9].Count != 3 || bins[5].Count != 2 || bins[5].Accuracy != 1 {
		t.Errorf("bins %+v", bins)
	}
	// bin 9: conf (0.95+0.95+1)/3, acc 2/3; bin 5: conf 0.55, acc 1.
	want := (3*math.Abs(2.0/3-2.9/3) + 2*0.45) / 5
	if math.Abs(ece-want) > 1e-9 {
		t.Errorf("ECE %v, want %v", ece, want)
	}
}

// The floors below sit slightly under the measured figures
// (docs/router-results.md) so that they catch regressions.

func TestCLINC150(t *testing.T) {
	rows := loadData(t, "clinc150.jsonl")
	if testing.Short() || raceEnabled {
		// A slice of CLINC150 (the first 30 intents plus all oos rows),
		// cheap enough for -race.
		keep := map[string]bool{classify.OOS: true}
		var sub []Row
		for _, r := range rows {
			if len(keep) <= 30 && r.Split == "train" {
				keep[r.Intent] = true
			}
			if keep[r.Intent] {
				sub = append(sub, r)
			}
		}
		rep, err := Run(context.Background(), sub, Options{TrainSplit: "train", TestSplit: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("CLINC150 subset: in-scope %.3f, oos recall %.3f, precision %.3f", rep.InScopeAccuracy, rep.OOSRecall, rep.OOSPrecision)
		if rep.InScopeAccuracy < 0.95 || rep.OOSRecall < 0.70 || rep.OOSPrecision < 0.90 {
			t.Errorf("CLINC150 subset below floor: %+v", rep)
		}
		return
	}
	rep, err := Run(context.Background(), rows, Options{TrainSplit: "train", TestSplit: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CLINC150: in-scope %.4f, oos recall %.4f, precision %.4f, train %.1fs, p99 %.0fµs",
		rep.InScopeAccuracy, rep.OOSRecall, rep.OOSPrecision, rep.TrainSeconds, rep.P99us)
	if rep.InScopeAccuracy < 0.91 || rep.OOSRecall < 0.72 || rep.OOSPrecision < 0.80 {
		t.Errorf("CLINC150 below floor: in-scope %.4f (≥ 0.91), oos recall %.4f (≥ 0.72), precision %.4f (≥ 0.80)",
			rep.InScopeAccuracy, rep.OOSRecall, rep.OOSPrecision)
	}
}

func TestXSIDCrossValidation(t *testing.T) {
	floors := map[string]float64{"sr": 0.93, "nb": 0.90, "en": 0.92}
	for _, lang := range []string{"sr", "nb", "en"} {
		rows := loadData(t, "xsid-"+lang+"-val.jsonl")
		rep, err := Run(context.Background(), rows, Options{Folds: 5})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("xSID %s 5-fold: accuracy %.4f", lang, rep.Accuracy)
		if rep.Accuracy < floors[lang] {
			t.Errorf("xSID %s accuracy %.4f < %.2f", lang, rep.Accuracy, floors[lang])
		}
	}
}

func TestBanking77CrossValidation(t *testing.T) {
	heavy(t)
	rows := loadData(t, "banking77-train.jsonl")
	rep, err := Run(context.Background(), rows, Options{Folds: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BANKING77 5-fold: accuracy %.4f", rep.Accuracy)
	if rep.Accuracy < 0.90 {
		t.Errorf("BANKING77 accuracy %.4f < 0.90", rep.Accuracy)
	}
}

func TestSweFAQRetrieval(t *testing.T) {
	qs := loadData(t, "swefaq-sv-val.jsonl")
	docs, err := LoadDocumentsFile(filepath.Join(dataDir, "swefaq-answers-val.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("swefaq-answers-val.jsonl not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Retrieval(context.Background(), docs, qs, classify.RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SweFAQ: top1 %.3f top3 %.3f mrr %.3f", rep.Top1, rep.Top3, rep.MRR)
	if rep.Top1 < 0.60 || rep.Top3 < 0.75 {
		t.Errorf("SweFAQ below floor: %+v", rep)
	}
}

// TestResultsTable prints the figures of docs/router-results.md; run by
// scripts/router-results with -results.
func TestResultsTable(t *testing.T) {
	if !*results {
		t.Skip("run with -results to print the results table")
	}
	ctx := context.Background()
	fmt.Println("| dataset | protocol | metric | figure |")
	fmt.Println("|---|---|---|---|")
	row := func(set, proto, metric string, v float64, unit string) {
		fmt.Printf("| %s | %s | %s | %.*f%s |\n", set, proto, metric, map[bool]int{true: 1, false: 3}[unit != ""], v, unit)
	}
	clinc := loadData(t, "clinc150.jsonl")
	rep, err := Run(ctx, clinc, Options{TrainSplit: "train", TestSplit: "test"})
	if err != nil {
		t.Fatal(err)
	}
	p := "train → test"
	row("CLINC150", p, "in-scope accuracy", 100*rep.InScopeAccuracy, " %")
	row("CLINC150", p, "OOS recall", 100*rep.OOSRecall, " %")
	row("CLINC150", p, "OOS precision", 100*rep.OOSPrecision, " %")
	row("CLINC150", p, "accuracy (151 labels)", 100*rep.Accuracy, " %")
	row("CLINC150", p, "top-3", 100*rep.Top3, " %")
	row("CLINC150", p, "macro F1", 100*rep.MacroF1, " %")
	row("CLINC150", p, "ECE", rep.ECE, "")
	row("CLINC150", p, "OOS threshold (chosen on train folds)", rep.Threshold, "")
	row("CLINC150", p, "train time (15,100 examples)", rep.TrainSeconds, " s")
	row("CLINC150", p, "Decide p50", rep.P50us, " µs")
	row("CLINC150", p, "Decide p99", rep.P99us, " µs")
	noThr, err := Run(ctx, clinc, Options{TrainSplit: "train", TestSplit: "test", Classifier: classify.Options{OOSThreshold: -1}})
	if err != nil {
		t.Fatal(err)
	}
	row("CLINC150", p+", no threshold", "in-scope accuracy", 100*noThr.InScopeAccuracy, " %")
	row("CLINC150", p+", no threshold", "OOS recall", 100*noThr.OOSRecall, " %")
	bank, err := Run(ctx, loadData(t, "banking77-train.jsonl"), Options{Folds: 5})
	if err != nil {
		t.Fatal(err)
	}
	row("BANKING77", "5-fold CV on train", "accuracy", 100*bank.Accuracy, " %")
	row("BANKING77", "5-fold CV on train", "ECE", bank.ECE, "")
	row("BANKING77", "5-fold CV on train", "train time per fold (8,000 examples)", bank.TrainSeconds, " s")
	for _, lang := range []string{"sr", "nb", "en"} {
		x, err := Run(ctx, loadData(t, "xsid-"+lang+"-val.jsonl"), Options{Folds: 5})
		if err != nil {
			t.Fatal(err)
		}
		row("xSID "+lang, "5-fold CV on val", "accuracy", 100*x.Accuracy, " %")
	}
	docs, err := LoadDocumentsFile(filepath.Join(dataDir, "swefaq-answers-val.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := Retrieval(ctx, docs, loadData(t, "swefaq-sv-val.jsonl"), classify.RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row("SweFAQ", "rank all 110 answers", "top-1", 100*fr.Top1, " %")
	row("SweFAQ", "rank all 110 answers", "top-3", 100*fr.Top3, " %")
	row("SweFAQ", "rank all 110 answers", "MRR", fr.MRR, "")
}
