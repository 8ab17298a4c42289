package intents

import (
	"math"
	"strings"

	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/kb"
	"github.com/supportbot/supportbot/intents/nlp"
)

// faqIndex finds FAQ entries by their questions and answer text, so an
// entry with an answer and no example questions is still found.
type faqIndex struct {
	retr   *classify.Retriever
	terms  map[string]map[string]bool // doc ID → its match terms
	idf    map[string]float64
	maxIDF float64
	// answerOnly marks entries with no example questions.
	answerOnly map[string]bool
}

func newFAQIndex(base *kb.Base) *faqIndex {
	if len(base.FAQs) == 0 {
		return nil
	}
	ix := &faqIndex{terms: map[string]map[string]bool{}, idf: map[string]float64{}, answerOnly: map[string]bool{}}
	var docs []classify.Document
	for _, f := range base.FAQs {
		id := faqLabel(f.ID)
		ix.answerOnly[id] = len(f.Questions) == 0
		set := map[string]bool{}
		for lang, a := range f.Answers {
			d := classify.Document{ID: id, Title: strings.Join(f.Tags, " "), Questions: f.Questions[lang], Answer: a.Text, Lang: lang}
			docs = append(docs, d)
			for _, s := range append([]string{a.Text, d.Title}, d.Questions...) {
				for _, t := range nlp.MatchTokens(lang, s) {
					set[t] = true
				}
			}
		}
		ix.terms[id] = set
	}
	df := map[string]int{}
	for _, set := range ix.terms {
		for t := range set {
			df[t]++
		}
	}
	n := float64(len(ix.terms))
	ix.maxIDF = math.Log(1 + n)
	for t, k := range df {
		ix.idf[t] = math.Log(1 + n/float64(k))
	}
	ix.retr = classify.NewRetriever(docs, classify.RetrieverOptions{})
	return ix
}

// best returns the best FAQ entry for text and the IDF-weighted share of the
// query's terms it contains (0..1), a confidence comparable across queries.
func (ix *faqIndex) best(lang, text string) (string, float64) {
	if ix == nil {
		return "", 0
	}
	hits := ix.retr.Search(text, 1)
	if len(hits) == 0 || hits[0].Score <= 0 {
		return "", 0
	}
	return hits[0].ID, ix.coverOf(lang, text, hits[0].ID)
}

// coverOf is the IDF-weighted share of text's terms that entry id
// contains (see best).
func (ix *faqIndex) coverOf(lang, text, id string) float64 {
	set := ix.terms[id]
	var have, all float64
	seen := map[string]bool{}
	for _, t := range nlp.MatchTokens(lang, text) {
		if seen[t] || len(t) < 2 {
			continue
		}
		seen[t] = true
		w, ok := ix.idf[t]
		if !ok {
			w = ix.maxIDF
		}
		all += w
		if set[t] {
			have += w
		}
	}
	if all == 0 || len(seen) < 2 {
		return 0
	}
	return have / all
}
