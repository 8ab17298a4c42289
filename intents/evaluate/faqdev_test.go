package evaluate

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/intents/classify"
)

var faqDev = flag.Bool("faqdev", false, "print FAQ retrieval figures on SweFAQ and on the intent sets turned into answer-only FAQs")

// intentFAQ turns an intent data set into an answer-only FAQ, so
// retrieval can be checked on more than SweFAQ: each intent's first per
// rows of docSplit (in file order; "" for any split) joined are its
// "answer"; the other in-scope rows of qSplit are the questions.
func intentFAQ(rows []Row, docSplit, qSplit string, per int) ([]classify.Document, []Row) {
	ex := map[string][]string{}
	var order []string
	var qs []Row
	for _, r := range rows {
		if r.Intent == "oos" {
			continue
		}
		if (docSplit == "" || r.Split == docSplit) && len(ex[r.Intent]) < per {
			if ex[r.Intent] == nil {
				order = append(order, r.Intent)
			}
			ex[r.Intent] = append(ex[r.Intent], r.Text)
			continue
		}
		if qSplit == "" || r.Split == qSplit {
			qs = append(qs, r)
		}
	}
	docs := make([]classify.Document, 0, len(order))
	for _, in := range order {
		docs = append(docs, classify.Document{ID: in, Answer: strings.Join(ex[in], ". "), Lang: rows[0].Lang})
	}
	return docs, qs
}

// TestFAQRetrievalSets prints top-1 / top-3 / MRR of the default
// retriever on SweFAQ and on CLINC150 (10 train examples per intent as
// the answer, val questions), BANKING77 (10 examples, the rest) and
// xSID (5 examples, the rest): `go test ./intents/evaluate -run
// TestFAQRetrievalSets -faqdev -v`.
func TestFAQRetrievalSets(t *testing.T) {
	if !*faqDev {
		t.Skip("run with -faqdev")
	}
	type set struct {
		name string
		docs []classify.Document
		qs   []Row
	}
	docs, err := LoadDocumentsFile(filepath.Join(dataDir, "swefaq-answers-val.jsonl"))
	if err != nil {
		t.Skip(err)
	}
	sets := []set{{"SweFAQ", docs, loadData(t, "swefaq-sv-val.jsonl")}}
	d, q := intentFAQ(loadData(t, "clinc150.jsonl"), "train", "val", 10)
	sets = append(sets, set{"CLINC150", d, q})
	d, q = intentFAQ(loadData(t, "banking77-train.jsonl"), "", "", 10)
	sets = append(sets, set{"BANKING77", d, q})
	for _, l := range []string{"en", "nb", "sr"} {
		d, q = intentFAQ(loadData(t, "xsid-"+l+"-val.jsonl"), "", "", 5)
		sets = append(sets, set{"xSID " + l, d, q})
	}
	for _, s := range sets {
		rep, err := Retrieval(context.Background(), s.docs, s.qs, classify.RetrieverOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-10s %4d docs %5d questions: top-1 %.1f %%, top-3 %.1f %%, MRR %.3f\n",
			s.name, len(s.docs), rep.N, 100*rep.Top1, 100*rep.Top3, rep.MRR)
	}
}
