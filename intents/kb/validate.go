package kb

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits the chat platforms impose on what the bot sends.
const (
	MaxAnswerRunes  = 2000 // Discord's message limit
	MaxChoices      = 10
	MaxChoiceLabel  = 75   // Slack's button text limit
	MaxChoiceValue  = 2000 // Slack's button value limit
	MaxNameLen      = 64
	maxExampleRunes = 500
)

var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// Validate reports every problem of b, joined with errors.Join. Each is an
// *Error matching ErrInvalid. A Base is valid when:
//
//   - names (intents and FAQ entries share one namespace) are present,
//     unique, and made of lower case letters, digits and "._-";
//   - language codes are canonical ISO 639-1 codes (see Lang) and, when
//     Languages is set, listed there;
//   - every intent has an example and a known action; answer intents have
//     an answer in at least one language; handoff options go only with
//     handoff and escalate;
//   - every FAQ entry has an answer; questions are optional;
//   - examples and questions are non-empty single lines, and no two entries
//     share one in the same language;
//   - answers have text, within the platforms' limits; links and choices
//     have labels, and URLs are absolute;
//   - files are relative, slash-separated .yaml or .yml paths.
func (b *Base) Validate() error {
	if b == nil {
		b = &Base{}
	}
	c := checker{b: b}
	c.run()
	return c.errs.err()
}

// positions says where a parsed Base was written, for error messages.
type positions struct {
	langs   entryPos
	intents []entryPos
	faqs    []entryPos
}

// entryPos maps the keys of one entry to lines; "" is the entry itself.
type entryPos struct {
	file  string
	lines map[string]int
}

// find returns the line of sub, or of its nearest enclosing key.
func (p entryPos) find(sub string) int {
	for {
		if l, ok := p.lines[sub]; ok {
			return l
		}
		if sub == "" {
			return 0
		}
		sub = sub[:max(strings.LastIndexAny(sub, ".["), 0)]
	}
}

type checker struct {
	b    *Base
	pos  *positions // nil when b did not come from files
	errs errList
	said map[string]textPos // foldText → first place
}

// utterance is a place of an example or question.
type utterance struct {
	kind string
	i    int
	sub  string
}

func (c *checker) entry(kind string, i int) (name string, p entryPos) {
	switch kind {
	case "intents":
		name = c.b.Intents[i].Name
		if c.pos != nil {
			p = c.pos.intents[i]
		}
	case "faq":
		name = c.b.FAQs[i].ID
		if c.pos != nil {
			p = c.pos.faqs[i]
		}
	default:
		if c.pos != nil {
			p = c.pos.langs
		}
		return "", p
	}
	if len(name) > MaxNameLen || !nameRE.MatchString(name) {
		name = strconv.Itoa(i)
	}
	return name, p
}

// key formats the path of sub in entry i of kind: "intents[order.track].action".
func (c *checker) key(kind string, i int, sub string) string {
	name, _ := c.entry(kind, i)
	k := kind
	if i >= 0 {
		k += "[" + name + "]"
	}
	if sub != "" && sub[0] != '[' {
		k += "."
	}
	return k + sub
}

// place describes sub of entry i for "also in" messages: its key, and
// where it was written if known.
func (c *checker) place(kind string, i int, sub string) string {
	if _, p := c.entry(kind, i); p.file != "" {
		return fmt.Sprintf("%s (%s:%d)", c.key(kind, i, sub), p.file, max(p.find(sub), 1))
	}
	return c.key(kind, i, sub)
}

func (c *checker) fail(kind string, i int, sub, format string, args ...any) {
	_, p := c.entry(kind, i)
	c.errs.add(p.file, p.find(sub), c.key(kind, i, sub), format, args...)
}

func (c *checker) run() {
	n := 0
	for _, in := range c.b.Intents {
		for _, xs := range in.Examples {
			n += len(xs)
		}
	}
	for _, f := range c.b.FAQs {
		for _, xs := range f.Questions {
			n += len(xs)
		}
	}
	c.said = make(map[string]textPos, n)
	declared := map[string]int{}
	for j, l := range c.b.Languages {
		sub := "[" + strconv.Itoa(j) + "]"
		if canon, problem := canonLang(l); problem != "" {
			c.fail("languages", -1, sub, "%s", problem)
		} else if canon != l {
			c.fail("languages", -1, sub, "write %q as %q", l, canon)
		} else if prev, dup := declared[l]; dup {
			c.fail("languages", -1, sub, "%s listed twice (also languages[%d])", l, prev)
		} else {
			declared[l] = j
		}
	}
	names := map[string]utterance{}
	for i := range c.b.Intents {
		c.name("intents", i, c.b.Intents[i].Name, names)
		c.intent(i, declared)
	}
	for i := range c.b.FAQs {
		c.name("faq", i, c.b.FAQs[i].ID, names)
		c.faq(i, declared)
	}
}

func (c *checker) name(kind string, i int, name string, seen map[string]utterance) {
	sub := "name"
	if kind == "faq" {
		sub = "id"
	}
	switch {
	case name == "":
		c.fail(kind, i, sub, "missing")
	case len(name) > MaxNameLen || !nameRE.MatchString(name):
		c.fail(kind, i, sub, "%q: use lower case letters, digits and . _ - (at most %d), like order.track", name, MaxNameLen)
	default:
		if prev, dup := seen[name]; dup {
			what := map[string]string{"intents": "an intent", "faq": "an FAQ entry"}[prev.kind]
			if _, p := c.entry(prev.kind, prev.i); p.file != "" {
				what += fmt.Sprintf(" at %s:%d", p.file, max(p.find(prev.sub), 1))
			}
			c.fail(kind, i, sub, "%q is already the name of %s", name, what)
			return
		}
		seen[name] = utterance{kind, i, sub}
	}
}

func (c *checker) intent(i int, declared map[string]int) {
	in := &c.b.Intents[i]
	const kind = "intents"
	switch in.Action {
	case ActionAnswer:
		if len(in.Answers) == 0 {
			c.fail(kind, i, "answers", "an intent with action answer needs an answer in at least one language")
		}
		if in.Handoff != nil {
			c.fail(kind, i, "handoff", "handoff options need action handoff or escalate")
		}
	case ActionHandoff, ActionEscalate:
	case "":
		c.fail(kind, i, "action", "missing; use answer, handoff or escalate")
	default:
		c.fail(kind, i, "action", "unknown action %q; use answer, handoff or escalate", in.Action)
	}
	if h := in.Handoff; h != nil {
		if h.Priority < 0 || h.Priority > MaxPriority {
			c.fail(kind, i, "handoff.priority", "%d is out of range 0..%d", h.Priority, MaxPriority)
		}
		c.line(kind, i, "handoff.skill", h.Skill, false)
		c.line(kind, i, "handoff.topic", h.Topic, false)
	}
	if len(in.Examples) == 0 {
		c.fail(kind, i, "examples", "needs at least one example")
	}
	c.texts(kind, i, "examples", in.Examples, declared)
	c.answers(kind, i, in.Answers, declared)
	c.file(kind, i, in.File)
}

func (c *checker) faq(i int, declared map[string]int) {
	f := &c.b.FAQs[i]
	const kind = "faq"
	if len(f.Answers) == 0 {
		c.fail(kind, i, "answers", "an FAQ entry needs an answer in at least one language")
	}
	c.texts(kind, i, "questions", f.Questions, declared)
	c.answers(kind, i, f.Answers, declared)
	seen := map[string]bool{}
	for j, t := range f.Tags {
		sub := "tags[" + strconv.Itoa(j) + "]"
		if c.line(kind, i, sub, t, true) {
			if seen[t] {
				c.fail(kind, i, sub, "tag %q given twice", t)
			}
			seen[t] = true
		}
	}
	if f.Link != "" {
		c.url(kind, i, "link", f.Link)
	}
	c.file(kind, i, f.File)
}

// lang checks a language key.
func (c *checker) lang(kind string, i int, sub, l string, declared map[string]int) {
	if canon, problem := canonLang(l); problem != "" {
		c.fail(kind, i, sub, "%s", problem)
	} else if canon != l {
		c.fail(kind, i, sub, "write %q as %q", l, canon)
	} else if _, ok := declared[l]; !ok && len(declared) > 0 {
		c.fail(kind, i, sub, "language %s is not in languages %v", l, c.b.Languages)
	}
}

// texts checks examples or questions.
func (c *checker) texts(kind string, i int, field string, m map[string][]string, declared map[string]int) {
	for _, l := range sortedKeys(m) {
		list := field + "." + l
		c.lang(kind, i, list, l, declared)
		if len(m[l]) == 0 {
			c.fail(kind, i, list, "empty list; add texts or remove the language")
		}
		for j, t := range m[l] {
			at := textPos{kind, i, list, j}
			if !oneLine(t) && !c.line(kind, i, at.sub(), t, true) {
				continue
			}
			if len(t) > maxExampleRunes && utf8.RuneCountInString(t) > maxExampleRunes {
				c.fail(kind, i, at.sub(), "longer than %d characters", maxExampleRunes)
			}
			k := foldText(l, t)
			prev, dup := c.said[k]
			switch {
			case !dup:
				c.said[k] = at
			case prev.kind == kind && prev.i == i:
				c.fail(kind, i, at.sub(), "%q is already at %s", t, prev.sub())
			default:
				c.fail(kind, i, at.sub(), "%q is also in %s", t, c.place(prev.kind, prev.i, prev.sub()))
			}
		}
	}
}

// textPos is where an example or question is: list[j] of entry i of kind.
type textPos struct {
	kind string
	i    int
	list string // "examples.en"
	j    int
}

func (p textPos) sub() string { return p.list + "[" + strconv.Itoa(p.j) + "]" }

// foldText is the key under which two texts of language l count as the
// same: lower case, white space runs as one space, trimmed.
func foldText(l, t string) string {
	t = strings.ToLower(t)
	var b strings.Builder
	b.Grow(len(l) + 1 + len(t))
	b.WriteString(l)
	b.WriteByte(0)
	sep := false
	for f := range strings.FieldsSeq(t) {
		if sep {
			b.WriteByte(' ')
		}
		b.WriteString(f)
		sep = true
	}
	return b.String()
}

// oneLine is the common case of line(…, required): a non-blank single line
// of valid UTF-8.
func oneLine(s string) bool {
	return strings.TrimSpace(s) != "" && !strings.ContainsAny(s, "\r\n") && utf8.ValidString(s)
}

// line checks a one-line text and reports whether it is fine.
func (c *checker) line(kind string, i int, sub, s string, required bool) bool {
	switch {
	case strings.TrimSpace(s) == "":
		if required || s != "" {
			c.fail(kind, i, sub, "empty")
		}
		return false
	case strings.ContainsAny(s, "\r\n"):
		c.fail(kind, i, sub, "must be one line")
		return false
	case !utf8.ValidString(s):
		c.fail(kind, i, sub, "invalid UTF-8")
		return false
	}
	return true
}

func (c *checker) answers(kind string, i int, m map[string]Answer, declared map[string]int) {
	for _, l := range sortedKeys(m) {
		a, sub := m[l], "answers."+l
		c.lang(kind, i, sub, l, declared)
		switch n := utf8.RuneCountInString(a.Text); {
		case strings.TrimSpace(a.Text) == "":
			c.fail(kind, i, sub+".text", "empty")
		case n > MaxAnswerRunes:
			c.fail(kind, i, sub+".text", "%d characters; at most %d fit in a chat message", n, MaxAnswerRunes)
		case !utf8.ValidString(a.Text):
			c.fail(kind, i, sub+".text", "invalid UTF-8")
		}
		for j, ln := range a.Links {
			s := fmt.Sprintf("%s.links[%d]", sub, j)
			c.line(kind, i, s+".label", ln.Label, true)
			c.url(kind, i, s+".url", ln.URL)
		}
		if len(a.Choices) > MaxChoices {
			c.fail(kind, i, sub+".choices", "%d choices; at most %d", len(a.Choices), MaxChoices)
		}
		for j, ch := range a.Choices {
			s := fmt.Sprintf("%s.choices[%d]", sub, j)
			if c.line(kind, i, s+".label", ch.Label, true) && utf8.RuneCountInString(ch.Label) > MaxChoiceLabel {
				c.fail(kind, i, s+".label", "longer than %d characters", MaxChoiceLabel)
			}
			if c.line(kind, i, s+".value", ch.Value, true) && utf8.RuneCountInString(ch.Value) > MaxChoiceValue {
				c.fail(kind, i, s+".value", "longer than %d characters", MaxChoiceValue)
			}
		}
	}
}

func (c *checker) url(kind string, i int, sub, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		c.fail(kind, i, sub, "empty")
	case err != nil || strings.ContainsAny(s, " \t\r\n"):
		c.fail(kind, i, sub, "%q is not a URL", s)
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			c.fail(kind, i, sub, "%q has no host", s)
		}
	case u.Scheme == "mailto" || u.Scheme == "tel":
		if u.Opaque == "" {
			c.fail(kind, i, sub, "%q has no address", s)
		}
	default:
		c.fail(kind, i, sub, "%q: use an absolute https, http, mailto or tel URL", s)
	}
}

func (c *checker) file(kind string, i int, f string) {
	if f == "" {
		return
	}
	if ext := path.Ext(f); !fs.ValidPath(f) || (ext != ".yaml" && ext != ".yml") || isHidden(f) {
		c.fail(kind, i, "file", "%q: use a relative, slash-separated path ending in .yaml, like shipping.yaml", f)
	}
}

// isHidden reports whether any element of the slash path p starts with a dot.
func isHidden(p string) bool {
	for e := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(e, ".") {
			return true
		}
	}
	return false
}

// Lint reports what is incomplete but not wrong: for each declared
// language, answer intents and FAQ entries without an answer in it, and
// intents with fewer than three examples in it. The KB still loads; the
// admin console and the CLI show these as warnings.
func (b *Base) Lint() []string {
	var out []string
	for _, l := range b.Languages {
		for _, in := range b.Intents {
			if _, ok := in.Answers[l]; !ok && (in.Action == ActionAnswer || len(in.Answers) > 0) {
				out = append(out, fmt.Sprintf("intents[%s].answers: no answer in %s", in.Name, l))
			}
			if n := len(in.Examples[l]); n < 3 {
				out = append(out, fmt.Sprintf("intents[%s].examples: %d examples in %s; the classifier needs a few more", in.Name, n, l))
			}
		}
		for _, f := range b.FAQs {
			if _, ok := f.Answers[l]; !ok {
				out = append(out, fmt.Sprintf("faq[%s].answers: no answer in %s", f.ID, l))
			}
		}
	}
	return out
}
