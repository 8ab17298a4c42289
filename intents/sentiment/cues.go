package sentiment

import (
	"strings"

	"github.com/supportbot/supportbot/intents/nlp"
)

// group is a set of phrases sharing weights; see lexicon.
type group struct {
	val, frus, comp float64
	noNeg           bool // never negated (gratitude)
	phrases         string
}

// cue is one compiled phrase of a group.
type cue struct {
	g     *group
	name  string // as written in the lexicon, for Result.Cues
	elems []elem
}

// elem is one word of a phrase.
type elem struct {
	w      string // normalised word, or prefix when prefix is set
	prefix bool   // the word ended in "*"
	gap    bool   // up to maxGap words may come before it ("~")
}

const maxGap = 3

// The index of the lexicon: cues by their first word, and cues whose first
// word is a prefix by the first three bytes of that prefix.
var (
	byWord   = map[string][]*cue{}
	byPrefix = map[string][]*cue{}
)

func init() {
	for gi := range lexicon {
		g := &lexicon[gi]
		for _, line := range strings.Split(g.phrases, "\n") {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, ": "); i > 0 && i <= 3 {
				line = line[i+2:] // language label
			}
			for _, p := range strings.Split(line, ",") {
				if p = strings.TrimSpace(p); p != "" {
					compile(g, p)
				}
			}
		}
	}
}

// compile adds phrase p of group g to the index. It panics on a malformed
// phrase, which is a bug in the lexicon caught by any test.
func compile(g *group, p string) {
	c := &cue{g: g, name: p}
	for i, part := range strings.Split(p, "~") {
		toks, _ := tokenize(nlp.Normalize(strings.ReplaceAll(part, "*", "")), nil, nil)
		if len(toks) == 0 {
			panic("sentiment: empty word in phrase " + p)
		}
		for j, t := range toks {
			c.elems = append(c.elems, elem{w: t.w, gap: i > 0 && j == 0})
		}
		if strings.HasSuffix(strings.TrimSpace(part), "*") {
			c.elems[len(c.elems)-1].prefix = true
		}
	}
	first := c.elems[0]
	if !first.prefix {
		byWord[first.w] = append(byWord[first.w], c)
		return
	}
	if len(first.w) < 3 {
		panic("sentiment: prefix shorter than three bytes in phrase " + p)
	}
	byPrefix[first.w[:3]] = append(byPrefix[first.w[:3]], c)
}

// candidates returns the cues that may start with word w.
func candidates(w string) []*cue {
	exact := byWord[w]
	if len(w) < 3 {
		return exact
	}
	pre := byPrefix[w[:3]]
	if len(pre) == 0 {
		return exact
	}
	if len(exact) == 0 {
		return pre
	}
	return append(append(make([]*cue, 0, len(exact)+len(pre)), exact...), pre...)
}

// matchAt returns the end (exclusive) of the tokens that c matches from
// toks[i], or 0. A phrase stays within one sentence.
func (c *cue) matchAt(toks []token, i int) int {
	sent := toks[i].sent
	j := i
	for _, e := range c.elems {
		limit := j
		if e.gap {
			limit = j + maxGap
		}
		found := false
		for ; j <= limit && j < len(toks) && toks[j].sent == sent; j++ {
			if e.matches(toks[j].w) {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
		j++
	}
	return j
}

func (e elem) matches(w string) bool {
	if e.prefix {
		return strings.HasPrefix(w, e.w)
	}
	return w == e.w
}

// words returns the set of the normalised white-space separated words of s.
func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(nlp.Normalize(s)) {
		m[f] = true
	}
	return m
}
