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

// The index of the lexicon: what it knows of each word (the cues it
// starts, and whether it is a but-word, negator, intensifier, times word
// or count), and cues whose first word is a prefix by the first three
// bytes of that prefix. prefixStarts has bit w[0]<<8|w[1] set for the
// first two bytes of every key of byPrefix, so that most words need no
// lookup there.
var (
	known        = map[string]*wordInfo{}
	byPrefix     = map[string][]*cue{}
	prefixStarts [1 << 16 / 64]uint64
)

// wordInfo is what the lexicon knows about one normalised word. Analyze
// looks a word up once, when tokenize makes it a token.
type wordInfo struct {
	cues                                    []*cue // the cues whose first word it is, in lexicon order
	but, negator, intensifier, times, count bool
}

// info returns the entry of w in known, adding an empty one if needed.
func info(w string) *wordInfo {
	wi := known[w]
	if wi == nil {
		wi = &wordInfo{}
		known[w] = wi
	}
	return wi
}

func init() {
	for w := range butWords {
		info(w).but = true
	}
	for w := range negators {
		info(w).negator = true
	}
	for w := range intensifiers {
		info(w).intensifier = true
	}
	for w := range timesWords {
		info(w).times = true
	}
	for w := range counts {
		info(w).count = true
	}
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
		wi := info(first.w)
		wi.cues = append(wi.cues, c)
		return
	}
	if len(first.w) < 3 {
		panic("sentiment: prefix shorter than three bytes in phrase " + p)
	}
	byPrefix[first.w[:3]] = append(byPrefix[first.w[:3]], c)
	k := uint(first.w[0])<<8 | uint(first.w[1])
	prefixStarts[k/64] |= 1 << (k % 64)
}

// prefixCues returns the cues whose first word is a prefix that w may
// start with.
func prefixCues(w string) []*cue {
	if len(w) < 3 {
		return nil
	}
	if k := uint(w[0])<<8 | uint(w[1]); prefixStarts[k/64]&(1<<(k%64)) == 0 {
		return nil
	}
	return byPrefix[w[:3]]
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
