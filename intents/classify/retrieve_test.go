package classify

import "testing"

// TestRetrieverCharacters: the character ranker finds an answer by a
// compound or an inflection the stemmer leaves apart, and a document
// that shares nothing with the query scores 0.
func TestRetrieverCharacters(t *testing.T) {
	docs := []Document{
		{ID: "home", Answer: "Familjehemmet får ersättning enligt rekommendationer från kommunen.", Lang: "sv"},
		{ID: "vacc", Answer: "Intyget visar vilka doser du har fått.", Lang: "sv"},
		{ID: "park", Answer: "Parkeringen ligger vid entrén.", Lang: "sv"},
	}
	r := NewRetriever(docs, RetrieverOptions{})
	for q, want := range map[string]string{
		"vad får ett familjehem":           "home",
		"var hittar jag vaccinationsintyg": "vacc",
	} {
		if hits := r.Search(q, 1); len(hits) != 1 || hits[0].ID != want {
			t.Errorf("Search(%q) = %v, want %s first", q, hits, want)
		}
	}
	hits := r.Search("familjehem", 0)
	if len(hits) != 3 || hits[0].ID != "home" || hits[2].Score != 0 {
		t.Errorf("Search(familjehem) = %v, want home first and a zero score last", hits)
	}
	if hits := r.Search("", 0); len(hits) != 3 || hits[0].Score != 0 {
		t.Errorf("empty query: %v", hits)
	}
}
