package sentiment

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Labels of Result.Label.
const (
	Negative = "negative"
	Neutral  = "neutral"
	Positive = "positive"
)

// Thresholds on Result.Score for the labels.
const (
	negativeAt = -0.3
	positiveAt = 0.3
)

// Result is the sentiment of one message.
type Result struct {
	Score      float64  // -1 (very negative) .. 1 (very positive)
	Label      string   // Negative, Neutral or Positive
	Frustrated bool     // impatience or anger: "still", "3rd time", CAPS, "!!!", profanity
	Complaint  bool     // a grievance to route to a human: "klage", "manager", "scam"
	Cues       []string // what matched, for explanations ("worst", "ikke dårlig", "CAPS")
}

// maxInput bounds the work spent on one message: longer input is cut (on a
// rune boundary) before analysis. Chat messages are far shorter.
const maxInput = 4 << 10

// Analyze scores one customer message. It is safe for concurrent use,
// never panics, and costs a few microseconds for a chat-sized message.
func Analyze(text string) Result {
	if len(text) > maxInput {
		text = strings.ToValidUTF8(text[:maxInput], "")
	}
	var a acc
	raw := scanRaw(text)
	// Chat messages fit these, which stay on the stack; longer ones grow
	// onto the heap.
	var tokBuf [32]token
	var qBuf [4]bool
	toks, questions := tokenize(fold(text), tokBuf[:0], qBuf[:0])
	for i := 0; i < len(toks); {
		n := a.match(toks, i, questions, raw.caps)
		if n == 0 {
			n = a.count(toks, i)
		}
		if n == 0 {
			n = 1
		}
		i += n
	}
	a.surface(raw)
	return a.result()
}

// acc accumulates the weights of the cues of one message.
type acc struct {
	val, frus, comp float64
	cues            []string
}

func (a *acc) add(val, frus, comp float64, cue string) {
	a.val += val
	a.frus += frus
	a.comp += comp
	a.cues = append(a.cues, cue)
}

// match applies the longest cue starting at token i and returns the number
// of tokens it spans (0 if none matches).
func (a *acc) match(toks []token, i int, questions []bool, caps []string) int {
	var best *cue
	bestEnd := 0
	// The cues of the word itself, then those of prefixes it starts with.
	for _, cs := range [2][]*cue{toks[i].info.cues, prefixCues(toks[i].w)} {
		for _, c := range cs {
			// The longest match wins; on a tie, the longer phrase
			// ("schlechteste*" over "schlecht*").
			end := c.matchAt(toks, i)
			if end > bestEnd || end == bestEnd && end > 0 && len(c.name) > len(best.name) {
				best, bestEnd = c, end
			}
		}
	}
	if best == nil {
		return 0
	}
	g := best.g
	val, frus, comp := g.val, g.frus, g.comp
	name := best.name
	if i > 0 && toks[i-1].clause == toks[i].clause && toks[i-1].info.intensifier {
		val *= 1.5
	}
	for _, t := range toks[i:bestEnd] {
		if contains(caps, t.w) { // "I STILL haven't": emphasis
			val *= 1.5
			frus += 0.5
			name = strings.ToUpper(name)
			break
		}
	}
	// Complaint and frustration cues are only negated from close by
	// ("not complaining", "no complaints"), so "if this isn't fixed I'm
	// cancelling" stays a threat.
	window := 3
	if g.comp > 0 || g.frus > 0 {
		window = 2
	}
	if neg := negatedBy(toks, i, window); neg != "" && !g.noNeg {
		if val < 0 {
			val *= -0.5 // "not bad" is mildly good
		} else {
			val *= -0.9 // "not happy" is about as bad as "unhappy"
		}
		frus, comp = 0, 0
		name = neg + " " + name
	}
	// An evaluation or request asked about ("is it bad to ...?", "how do
	// I close my account?") is mostly a question, not a feeling; explicit
	// complaints, frustration and strong words keep their weight.
	if questions[toks[i].sent] && g.frus == 0 && g.comp < 1 && g.val > -1 {
		val *= 0.5
	}
	a.add(val, frus, comp, name)
	return bestEnd - i
}

// negatedBy returns the negator among the window tokens before i in the
// same clause, or "".
func negatedBy(toks []token, i, window int) string {
	for j := i - 1; j >= 0 && j >= i-window && toks[j].clause == toks[i].clause; j-- {
		if toks[j].info.negator {
			return toks[j].w
		}
	}
	return ""
}

// count recognises "third time", "4 times", "tredje gang", "treći put".
func (a *acc) count(toks []token, i int) int {
	if i+1 >= len(toks) || toks[i+1].clause != toks[i].clause || !toks[i+1].info.times {
		return 0
	}
	w := toks[i].w
	if !toks[i].info.count && !numberAtLeast3(w) {
		return 0
	}
	a.add(-0.6, 1, 0, w+" "+toks[i+1].w)
	return 2
}

func numberAtLeast3(w string) bool {
	if len(w) == 0 || len(w) > 3 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return len(w) > 1 || w[0] >= '3'
}

// surface adds what the words do not say: shouting, "!!!", emoticons.
func (a *acc) surface(r rawInfo) {
	if r.shout {
		a.add(-0.6, 1, 0, "CAPS")
	}
	if r.bangs {
		if a.val > 0 {
			a.val *= 1.2
			a.cues = append(a.cues, "!!")
		} else {
			a.add(-0.4, 0.6, 0, "!!")
		}
	}
	if r.neg > 0 {
		a.add(-0.8, 0.3*float64(r.neg), 0, "negative emoji")
	}
	if r.pos > 0 {
		a.add(0.8, 0, 0, "positive emoji")
	}
}

func (a *acc) result() Result {
	s := a.val / (1 + abs(a.val))
	r := Result{Score: s, Label: Neutral, Cues: a.cues,
		Frustrated: a.frus >= 1,
		Complaint:  a.comp >= 1 || a.comp >= 0.5 && s <= -0.5,
	}
	switch {
	case s <= negativeAt:
		r.Label = Negative
	case s >= positiveAt:
		r.Label = Positive
	}
	return r
}

// rawInfo is what Analyze reads from the text before normalisation, which
// folds case and keeps no emoji semantics.
type rawInfo struct {
	shout    bool     // mostly capitals, or three words in capitals
	bangs    bool     // "!!", "?!" or "!?"
	neg, pos int      // emoji and emoticons
	caps     []string // normalised words of three or more letters written in capitals
}

func scanRaw(s string) rawInfo {
	var r rawInfo
	letters, upper, capsWords := 0, 0, 0
	wordStart, wordLetters, wordUpper := -1, 0, 0
	endWord := func(end int) {
		if wordStart >= 0 && wordLetters >= 2 && wordUpper == wordLetters {
			capsWords++
			if wordLetters >= 3 && len(r.caps) < 8 {
				r.caps = append(r.caps, fold(s[wordStart:end]))
			}
		}
		wordStart, wordLetters, wordUpper = -1, 0, 0
	}
	var prev rune
	for i, c := range s {
		switch {
		case unicode.IsLetter(c):
			if wordStart < 0 {
				wordStart = i
			}
			letters++
			wordLetters++
			if unicode.IsUpper(c) {
				upper++
				wordUpper++
			}
		default:
			endWord(i)
			switch {
			case (c == '!' || c == '¡') && (prev == '!' || prev == '?' || prev == '¡'),
				c == '?' && prev == '!':
				r.bangs = true
			case c == ':' || c == ';':
				if strings.HasPrefix(s[i+1:], "(") || strings.HasPrefix(s[i+1:], "-(") || strings.HasPrefix(s[i+1:], "'(") {
					r.neg++
				} else if strings.HasPrefix(s[i+1:], ")") || strings.HasPrefix(s[i+1:], "-)") || strings.HasPrefix(s[i+1:], "D") {
					r.pos++
				}
			case strings.ContainsRune(negEmoji, c):
				r.neg++
			case strings.ContainsRune(posEmoji, c):
				r.pos++
			}
		}
		prev = c
	}
	endWord(len(s))
	r.shout = capsWords >= 3 || letters >= 8 && upper*10 >= letters*6
	return r
}

const (
	negEmoji = "😡😠🤬😤👎💩🙄😒😞😢😭☹😩😫🤦"
	posEmoji = "🙂😊😀😃😄😁👍❤💙💚🙏🎉😍🥰💯👌🤩"
)

// token is a normalised word with what the lexicon knows of it (never
// nil: noInfo for a word it does not know) and the clause and sentence it
// belongs to.
type token struct {
	w            string
	info         *wordInfo
	clause, sent int
}

// noInfo is the wordInfo of the words the lexicon does not know.
var noInfo = &wordInfo{}

// butWords end a clause: negation does not reach past "but".
var butWords = words(`but however men ali mais pero aber dock`)

// elided are the French words written with an apostrophe before a vowel.
var elided = map[string]bool{"l": true, "d": true, "j": true, "m": true, "n": true,
	"s": true, "t": true, "c": true, "qu": true}

// tokenize splits normalised text into words (letters and digits;
// apostrophes inside a word are dropped: "don't" is "dont"). Punctuation
// ends a clause, and ".", "!" and "?" end a sentence; questions[i] reports
// whether sentence i ends with "?" (and not "?!"). The tokens and
// questions are appended to toks[:0] and questions[:0], whose capacity is
// used if it suffices.
func tokenize(s string, toks []token, questions []bool) ([]token, []bool) {
	clause, sent := 0, 0
	toks = slices.Grow(toks[:0], len(s)/5+1)
	questions = append(questions[:0], false)
	start := -1    // start of the current word in s
	var buf []byte // the current word, once an apostrophe was dropped from it
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := s[start:end]
		if buf != nil {
			w = string(buf)
			buf = nil
		}
		start = -1
		wi := known[w]
		if wi == nil {
			wi = noInfo
		} else if wi.but {
			clause++
			return
		}
		toks = append(toks, token{w, wi, clause, sent})
	}
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c < utf8.RuneSelf && ('a' <= c && c <= 'z' || '0' <= c && c <= '9'),
			c >= utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			if start < 0 {
				start = i
			} else if buf != nil {
				buf = utf8.AppendRune(buf, c)
			}
		case (c == '\'' || c == '’') && start >= 0:
			// Inside a word: drop it ("don't" is "dont"), except after a
			// French elided article or pronoun ("l'app", "n'ai", "m'aide").
			if w := s[start:i]; buf == nil && elided[w] {
				flush(i)
			} else if buf == nil {
				buf = []byte(w)
			}
		case c == '.' || c == '!' || c == '?' || c == '¿' || c == '¡':
			flush(i)
			if c == '?' {
				questions[sent] = true
			} else if c == '!' {
				questions[sent] = false
			}
			next := i + size
			if len(toks) > 0 && toks[len(toks)-1].sent == sent &&
				(next >= len(s) || s[next] == ' ' || s[next] == '\n') {
				sent++
				clause++
				questions = append(questions, false)
			}
		case c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '-' || c == '"':
			flush(i)
			clause++
		default:
			flush(i)
		}
		i += size
	}
	flush(len(s))
	return toks, questions
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
