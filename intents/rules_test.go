package intents

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// matchRef is phraseSet.match as first written, every phrase tried at
// every position in list order: the reference of the index.
func (ps *phraseSet) matchRef(tokens []string) (string, bool) {
	for _, p := range ps.phrases {
		if len(p) == 0 || len(p) > len(tokens) {
			continue
		}
		for i := 0; i+len(p) <= len(tokens); i++ {
			ok := true
			for j := range p {
				if tokens[i+j] != p[j] {
					ok = false
					break
				}
			}
			if ok {
				return strings.Join(p, " "), true
			}
		}
	}
	return "", false
}

// TestPhraseIndexMatchesReference draws token sequences from the phrases'
// own words (so that overlapping and nested phrases meet) plus fillers.
func TestPhraseIndexMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ps := range []*phraseSet{humanRules, notHelpedRules} {
		words := []string{"please", "the", "my", "order", "i"}
		for _, p := range ps.phrases {
			words = append(words, p...)
		}
		for n := range 20000 {
			toks := make([]string, rng.IntN(12))
			for i := range toks {
				toks[i] = words[rng.IntN(len(words))]
			}
			if n%10 == 0 { // a whole phrase inside
				p := ps.phrases[rng.IntN(len(ps.phrases))]
				at := rng.IntN(len(toks) + 1)
				toks = append(toks[:at], append(append([]string{}, p...), toks[at:]...)...)
			}
			gp, gok := ps.match(toks)
			wp, wok := ps.matchRef(toks)
			if gp != wp || gok != wok {
				t.Fatalf("match(%q) = %q, %v; reference %q, %v", toks, gp, gok, wp, wok)
			}
		}
	}
}
