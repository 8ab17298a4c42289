package intents

import (
	"slices"
	"strings"

	"github.com/supportbot/supportbot/intents/nlp"
)

// humanPhrases hand off at once (reason "requested"), in every language.
// They are matched on normalised text (case, diacritics and script folded:
// "čovek", "човек" and "covek" are the same), as whole words.
var humanPhrases = []string{
	// en
	"human", "a human", "real person", "a person", "live agent", "agent", "operator", "representative",
	"talk to someone", "speak to someone", "talk to a person", "speak to a person", "customer service rep",
	"real human", "somebody real", "staff member",
	// nb / da
	"menneske", "et menneske", "ekte person", "ekte menneske", "snakke med en person", "snakke med noen",
	"kundebehandler", "saksbehandler", "kundeservice medarbeider", "rigtig person", "tale med en person",
	"medarbejder",
	// sv
	"manniska", "en manniska", "riktig person", "prata med en person", "prata med nagon", "handlaggare",
	"kundtjanstmedarbetare",
	// sr (Latin; Cyrillic folds to it), also ijekavian
	"covek", "coveka", "covjek", "covjeka", "ziva osoba", "zivu osobu", "operater", "operatera",
	"agenta", "razgovarati sa nekim", "pricati sa nekim", "zaposleni", "stvarna osoba",
	// de / fr / es
	"mensch", "mitarbeiter", "echte person", "humain", "conseiller", "vraie personne", "une personne",
	"humano", "persona real", "agente", "una persona",
}

// notHelpedPhrases mark that the last answer did not help.
var notHelpedPhrases = []string{
	"didnt help", "did not help", "not helpful", "not what i asked", "that is wrong", "thats wrong", "wrong answer",
	"hjalp ikke", "hjelper ikke", "ikke det jeg spurte", "hjalpte inte", "inte vad jag fragade",
	"nije pomoglo", "ne pomaze", "nisam to pitao", "nisam to pitala",
}

// phraseSet is a list of phrases as tokens, indexed by first token.
type phraseSet struct {
	phrases [][]string
	byFirst map[string][]int // first token → indices of the phrases, ascending
}

func compile(ps []string) *phraseSet {
	set := &phraseSet{byFirst: map[string][]int{}}
	for i, p := range ps {
		toks := nlp.Tokens(p)
		set.phrases = append(set.phrases, toks)
		if len(toks) > 0 {
			set.byFirst[toks[0]] = append(set.byFirst[toks[0]], i)
		}
	}
	return set
}

var (
	humanRules     = compile(humanPhrases)
	notHelpedRules = compile(notHelpedPhrases)
)

// match reports the first phrase of the list found in tokens as whole words.
func (ps *phraseSet) match(tokens []string) (string, bool) {
	first := -1
	for i, t := range tokens {
		for _, k := range ps.byFirst[t] {
			if first >= 0 && k >= first {
				break
			}
			if p := ps.phrases[k]; len(p) <= len(tokens)-i && slices.Equal(p, tokens[i:i+len(p)]) {
				first = k
				break
			}
		}
	}
	if first < 0 {
		return "", false
	}
	return strings.Join(ps.phrases[first], " "), true
}

// wantsHuman reports whether a message asks for a person. Long messages
// mentioning "agent" in passing ("my agent code doesn't work…") do not
// count: a request is short, or names the person explicitly.
func wantsHuman(tokens []string) (string, bool) {
	p, ok := humanRules.match(tokens)
	if !ok {
		return "", false
	}
	if len(tokens) <= 8 || strings.Contains(p, " ") {
		return p, true
	}
	return "", false
}
