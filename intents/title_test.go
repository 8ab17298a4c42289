package intents

import (
	"testing"

	"github.com/supportbot/supportbot/intents/kb"
)

// TestChoiceTitleIsStable: an FAQ entry with no question in the
// customer's language is offered under the same question every time: the
// knowledge base's default language, else the first language in order.
func TestChoiceTitleIsStable(t *testing.T) {
	s := &Snapshot{Base: &kb.Base{Languages: []string{"sv"}, FAQs: []kb.FAQ{
		{ID: "a", Questions: map[string][]string{"de": {"Wo ist mein Paket?"}, "fr": {"Où est mon colis ?"}, "sv": {"Var är mitt paket?"}}},
		{ID: "b", Questions: map[string][]string{"de": {"Wie lange dauert der Versand?"}, "fr": {"Combien de temps dure la livraison ?"}, "es": {"¿Cuánto tarda el envío?"}}},
	}}}
	r := &Router{}
	for range 50 { // map order is random: a wrong pick shows within a few runs
		if got := r.title(s, "faq:a", "nb"); got != "Var är mitt paket?" {
			t.Fatalf("title of a for nb = %q, want the default language's (sv)", got)
		}
		if got := r.title(s, "faq:b", "nb"); got != "Wie lange dauert der Versand?" {
			t.Fatalf("title of b for nb = %q, want the first language in order (de)", got)
		}
		if got := r.title(s, "faq:b", "fr"); got != "Combien de temps dure la livraison ?" {
			t.Fatalf("title of b for fr = %q, want the customer's language", got)
		}
	}
}
