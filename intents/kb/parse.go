package kb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ParseFile parses one YAML file of a knowledge base and validates it on
// its own. name is the file's slash-separated path, used in errors and,
// if it is a valid KB path (relative, ending in .yaml or .yml), as the File
// of every entry. A file holds up to three top-level keys:
//
//	languages: [en, nb, sv, sr]     # optional, in one file only; default first
//	intents:                        # what customers mean and what the bot does
//	  - name: shipping.time
//	    description: How long delivery takes   # optional
//	    action: answer              # answer (default), handoff or escalate
//	    # handoff: {skill: billing, topic: Refund, priority: 5}  # with handoff, escalate
//	    examples:
//	      en:
//	        - how long does shipping take?
//	        - when will my parcel arrive
//	    answers:
//	      en: Delivery takes 1-3 business days.   # text only, or:
//	      nb:
//	        text: |
//	          Levering tar 1–3 virkedager.
//	        links: [{label: Frakt, url: "https://example.com/frakt"}]
//	        choices: [Spor pakken, {label: Snakk med oss, value: human}]
//	faq:
//	  - id: gift-cards
//	    questions: {en: ["do you sell gift cards?"]}   # optional
//	    answers: {en: "Yes, from 100 to 5000 kr."}
//	    tags: [payment]
//	    link: https://example.com/gift-cards
//
// Unknown keys, keys given twice, anchors and aliases are errors. Errors
// are *Error values reading "file:line: key: what is wrong", joined.
func ParseFile(name string, data []byte) (*Base, error) {
	f := parseFile(name, data)
	if len(f.errs) > 0 {
		return nil, f.errs.err()
	}
	c := checker{b: f.b, pos: &f.pos}
	c.run()
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	return f.b, nil
}

// LoadDir loads every *.yaml and *.yml file of fsys (recursively, in
// lexical order, skipping names that start with a dot) into one Base and
// validates it as a whole: a name used in two files is an error naming
// both places. Loading is all or nothing: on any error LoadDir returns a
// nil Base and every problem found, so a bad edit never replaces a good
// knowledge base.
func LoadDir(fsys fs.FS) (*Base, error) {
	var (
		b        = &Base{}
		pos      positions
		errs     errList
		langFrom string
		files    int
	)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isYAML(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files++
		f := parseFile(p, data)
		errs = append(errs, f.errs...)
		if line, declared := f.pos.langs.lines[""]; declared {
			if langFrom != "" {
				errs.add(p, line, "languages", "already declared at %s; declare languages in one file", langFrom)
			} else {
				b.Languages, pos.langs = f.b.Languages, f.pos.langs
				langFrom = fmt.Sprintf("%s:%d", p, line)
			}
		}
		b.Intents = append(b.Intents, f.b.Intents...)
		b.FAQs = append(b.FAQs, f.b.FAQs...)
		pos.intents = append(pos.intents, f.pos.intents...)
		pos.faqs = append(pos.faqs, f.pos.faqs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kb: load: %w", err)
	}
	if files == 0 {
		return nil, fmt.Errorf("%w: no .yaml files found", ErrInvalid)
	}
	if len(errs) == 0 {
		c := checker{b: b, pos: &pos}
		c.run()
		errs = c.errs
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return b, nil
}

func isYAML(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

// parsed is one file's content, positions and structural problems.
type parsed struct {
	b    *Base
	pos  positions
	errs errList
}

func parseFile(name string, data []byte) (f *parsed) {
	f = &parsed{b: &Base{}, pos: positions{langs: entryPos{file: name, lines: map[string]int{}}}}
	p := &parser{file: name, out: f}
	if !fs.ValidPath(name) || !isYAML(name) || isHidden(name) {
		p.entryFile = ""
	} else {
		p.entryFile = name
	}
	if line, msg := badText(data); msg != "" {
		f.errs.add(name, line, "", "%s", msg)
		return f
	}
	doc, err := decodeOne(data)
	if err != nil {
		line, msg := syntaxError(err, data)
		f.errs.add(name, line, "", "YAML: %s", msg)
		return f
	}
	if doc == nil || len(doc.Content) == 0 {
		return f // empty or only comments
	}
	if p.refs(doc) {
		return f
	}
	p.top(doc.Content[0])
	return f
}

// decodeOne decodes the only document of data (nil if it has none).
func decodeOne(data []byte) (doc *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 has panicked on odd input before
			doc, err = nil, fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, next yaml.Node
	if err := dec.Decode(&first); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := dec.Decode(&next); err == nil {
		return nil, fmt.Errorf("yaml: line %d: only one document (---) per file", next.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	return &first, nil
}

var syntaxRE = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError splits a yaml.v3 syntax error into line and message. yaml.v3
// gives no line for problems on the first line, and counts from 0 in its
// parser errors ("did not find expected ...") but from 1 in its scanner
// errors.
func syntaxError(err error, data []byte) (line int, msg string) {
	line, msg = 1, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = err.Error()[len(m[0]):]
		if strings.HasPrefix(msg, "did not find expected") {
			line++
		}
		if strings.HasPrefix(msg, "did not find expected ',' or") {
			msg += `; in [a, b] and {k: v} quote texts that hold ? : , # [ ] { }, or write one "- text" per line`
		}
	}
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	return max(1, min(line, lines)), msg
}

// badText finds invalid UTF-8 and control characters, which YAML forbids.
func badText(data []byte) (line int, msg string) {
	line = 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return line, "invalid UTF-8; save the file as UTF-8"
		case r == '\n':
			line++
		case r == '\t' || r == '\r' || r == 0x85:
		case r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xfffe || r == 0xffff:
			return line, fmt.Sprintf("control character %U is not allowed", r)
		}
		i += n
	}
	return 0, ""
}

// parser walks the yaml.v3 node tree of one file.
type parser struct {
	file      string // for errors
	entryFile string // File of the entries
	out       *parsed
}

// at is a place inside an entry: its key prefix and its positions.
type at struct {
	prefix string // "intents[order.track]"
	pos    *entryPos
}

func (a at) key(sub string) string {
	if sub == "" || sub[0] == '[' {
		return a.prefix + sub
	}
	if a.prefix == "" {
		return sub
	}
	return a.prefix + "." + sub
}

func (p *parser) fail(n *yaml.Node, key, format string, args ...any) {
	p.out.errs.add(p.file, n.Line, key, format, args...)
}

// refs reports anchors and aliases, which the KB does not support (and
// whose cycles would trap a naive walk); it returns true if it found any.
func (p *parser) refs(n *yaml.Node) bool {
	found := false
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			p.fail(n, "", "YAML anchors (&) and aliases (*) are not supported; repeat the text")
			found = true
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return found
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "a document", yaml.SequenceNode: "a list",
	yaml.MappingNode: "a mapping (key: value)", yaml.ScalarNode: "a text", yaml.AliasNode: "an alias",
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && (n.Value == "" || n.Value == "~" || n.Value == "null")
}

// fields calls f for every key of mapping n, in order, reporting keys that
// are not in known, given twice, or not plain text. A null n is empty.
func (p *parser) fields(n *yaml.Node, key string, known []string, f func(k string, kn, v *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, key, "expected %s, got %s", kindNames[yaml.MappingNode], kindNames[n.Kind])
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			p.fail(kn, key, "keys must be plain text, got %s", kindNames[kn.Kind])
			continue
		}
		k := kn.Value
		sub := at{prefix: key}.key(k)
		if line, dup := seen[k]; dup {
			p.fail(kn, sub, "given twice (also line %d)", line)
			continue
		}
		seen[k] = kn.Line
		if known != nil && !contains(known, k) {
			if near := nearest(k, known); near != "" {
				p.fail(kn, sub, "unknown key; did you mean %s?", near)
			} else {
				p.fail(kn, sub, "unknown key; expected %s", strings.Join(known, ", "))
			}
			continue
		}
		f(k, kn, v)
	}
}

// nearest returns the word of list within two edits of s, if any.
func nearest(s string, list []string) string {
	for _, w := range list {
		if editDistance(s, w) <= 2 {
			return w
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 32 || len(b) > 32 {
		return max(len(a), len(b))
	}
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a text scalar. Numbers and booleans are read as written.
func (p *parser) str(n *yaml.Node, key string) string {
	switch {
	case isNull(n):
		return ""
	case n.Kind != yaml.ScalarNode:
		p.fail(n, key, "expected %s, got %s", kindNames[yaml.ScalarNode], kindNames[n.Kind])
		return ""
	}
	return n.Value
}

// list calls f for every item of sequence n; a null n is empty.
func (p *parser) list(n *yaml.Node, key string, f func(i int, item *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, key, "expected %s, got %s", kindNames[yaml.SequenceNode], kindNames[n.Kind])
		return
	}
	for i, item := range n.Content {
		f(i, item)
	}
}

var (
	topKeys     = []string{"languages", "intents", "faq"}
	intentKeys  = []string{"name", "description", "action", "handoff", "examples", "answers"}
	faqKeys     = []string{"id", "questions", "answers", "tags", "link"}
	handoffKeys = []string{"skill", "topic", "priority"}
	answerKeys  = []string{"text", "links", "choices"}
	linkKeys    = []string{"label", "url"}
	choiceKeys  = []string{"label", "value"}
)

func (p *parser) top(n *yaml.Node) {
	if n.Kind != yaml.MappingNode && !isNull(n) {
		p.fail(n, "", "expected a mapping with the keys %s, got %s", strings.Join(topKeys, ", "), kindNames[n.Kind])
		return
	}
	b := p.out.b
	p.fields(n, "", topKeys, func(k string, kn, v *yaml.Node) {
		switch k {
		case "languages":
			p.out.pos.langs.lines[""] = kn.Line
			p.list(v, k, func(i int, item *yaml.Node) {
				sub := "[" + strconv.Itoa(i) + "]"
				p.out.pos.langs.lines[sub] = item.Line
				if l, ok := p.lang(item, k+sub); ok {
					b.Languages = append(b.Languages, l)
				}
			})
			if len(b.Languages) == 0 {
				b.Languages = nil
			}
		case "intents":
			p.list(v, k, func(i int, item *yaml.Node) {
				pos := entryPos{file: p.file, lines: map[string]int{"": item.Line}}
				b.Intents = append(b.Intents, p.intent(item, i, &pos))
				p.out.pos.intents = append(p.out.pos.intents, pos)
			})
		case "faq":
			p.list(v, k, func(i int, item *yaml.Node) {
				pos := entryPos{file: p.file, lines: map[string]int{"": item.Line}}
				b.FAQs = append(b.FAQs, p.faq(item, i, &pos))
				p.out.pos.faqs = append(p.out.pos.faqs, pos)
			})
		}
	})
}

// entry returns the key prefix of item i of list: "intents[order.track]"
// when the item has a usable name, else "intents[3]".
func entry(list, nameKey string, n *yaml.Node, i int) string {
	id := strconv.Itoa(i)
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == nameKey && v.Kind == yaml.ScalarNode &&
				nameRE.MatchString(v.Value) && len(v.Value) <= MaxNameLen {
				id = v.Value
				break
			}
		}
	}
	return list + "[" + id + "]"
}

func (p *parser) intent(n *yaml.Node, i int, pos *entryPos) Intent {
	in := Intent{Action: ActionAnswer, File: p.entryFile}
	a := at{prefix: entry("intents", "name", n, i), pos: pos}
	p.fields(n, a.prefix, intentKeys, func(k string, kn, v *yaml.Node) {
		pos.lines[k] = kn.Line
		switch k {
		case "name":
			in.Name = p.str(v, a.key(k))
		case "description":
			in.Description = strings.TrimSpace(p.str(v, a.key(k)))
		case "action":
			in.Action = Action(p.str(v, a.key(k)))
		case "handoff":
			in.Handoff = p.handoff(v, a)
		case "examples":
			in.Examples = p.texts(v, a, k)
		case "answers":
			in.Answers = p.answers(v, a)
		}
	})
	return in
}

func (p *parser) faq(n *yaml.Node, i int, pos *entryPos) FAQ {
	f := FAQ{File: p.entryFile}
	a := at{prefix: entry("faq", "id", n, i), pos: pos}
	p.fields(n, a.prefix, faqKeys, func(k string, kn, v *yaml.Node) {
		pos.lines[k] = kn.Line
		switch k {
		case "id":
			f.ID = p.str(v, a.key(k))
		case "questions":
			f.Questions = p.texts(v, a, k)
		case "answers":
			f.Answers = p.answers(v, a)
		case "tags":
			p.list(v, a.key(k), func(j int, item *yaml.Node) {
				sub := fmt.Sprintf("tags[%d]", j)
				pos.lines[sub] = item.Line
				f.Tags = append(f.Tags, strings.TrimSpace(p.str(item, a.key(sub))))
			})
		case "link":
			f.Link = strings.TrimSpace(p.str(v, a.key(k)))
		}
	})
	return f
}

func (p *parser) handoff(n *yaml.Node, a at) *Handoff {
	if isNull(n) {
		return nil
	}
	h := &Handoff{}
	p.fields(n, a.key("handoff"), handoffKeys, func(k string, kn, v *yaml.Node) {
		sub := "handoff." + k
		a.pos.lines[sub] = kn.Line
		switch k {
		case "skill":
			h.Skill = strings.TrimSpace(p.str(v, a.key(sub)))
		case "topic":
			h.Topic = strings.TrimSpace(p.str(v, a.key(sub)))
		case "priority":
			if isNull(v) {
				return
			}
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || err != nil {
				p.fail(v, a.key(sub), "expected a whole number 0..%d", MaxPriority)
			}
			h.Priority = n
		}
	})
	return h
}

// lang reads a language code, reporting unknown ones.
func (p *parser) lang(n *yaml.Node, key string) (string, bool) {
	s := p.str(n, key)
	l, problem := canonLang(s)
	if problem != "" {
		p.fail(n, key, "%s", problem)
		return "", false
	}
	return l, true
}

// langs calls f for every language key of mapping n, canonicalised, and
// reports two keys meaning one language ("no" and "nb").
func (p *parser) langs(n *yaml.Node, a at, field string, f func(l, sub string, v *yaml.Node)) {
	seen := map[string]string{}
	p.fields(n, a.key(field), nil, func(k string, kn, v *yaml.Node) {
		l, ok := p.lang(kn, a.key(field+"."+k))
		if !ok {
			return
		}
		sub := field + "." + l
		if prev, dup := seen[l]; dup {
			p.fail(kn, a.key(sub), "%s and %s are the same language; merge them", prev, k)
			return
		}
		seen[l] = k
		a.pos.lines[sub] = kn.Line
		f(l, sub, v)
	})
}

// texts reads examples or questions: language → list of one-line texts.
func (p *parser) texts(n *yaml.Node, a at, field string) map[string][]string {
	m := map[string][]string{}
	p.langs(n, a, field, func(l, sub string, v *yaml.Node) {
		var list []string
		p.list(v, a.key(sub), func(j int, item *yaml.Node) {
			s := fmt.Sprintf("%s[%d]", sub, j)
			a.pos.lines[s] = item.Line
			list = append(list, strings.TrimSpace(p.str(item, a.key(s))))
		})
		m[l] = list
	})
	if len(m) == 0 {
		return nil
	}
	return m
}

// answers reads language → answer, where an answer is its text alone or a
// mapping with text, links and choices.
func (p *parser) answers(n *yaml.Node, a at) map[string]Answer {
	m := map[string]Answer{}
	p.langs(n, a, "answers", func(l, sub string, v *yaml.Node) {
		var ans Answer
		if v.Kind != yaml.MappingNode {
			ans.Text = cleanText(p.str(v, a.key(sub)))
			m[l] = ans
			return
		}
		p.fields(v, a.key(sub), answerKeys, func(k string, kn, v *yaml.Node) {
			s := sub + "." + k
			a.pos.lines[s] = kn.Line
			switch k {
			case "text":
				ans.Text = cleanText(p.str(v, a.key(s)))
			case "links":
				p.list(v, a.key(s), func(j int, item *yaml.Node) {
					s := fmt.Sprintf("%s[%d]", s, j)
					a.pos.lines[s] = item.Line
					var ln Link
					p.fields(item, a.key(s), linkKeys, func(k string, kn, v *yaml.Node) {
						a.pos.lines[s+"."+k] = kn.Line
						if k == "label" {
							ln.Label = strings.TrimSpace(p.str(v, a.key(s+".label")))
						} else {
							ln.URL = strings.TrimSpace(p.str(v, a.key(s+".url")))
						}
					})
					ans.Links = append(ans.Links, ln)
				})
			case "choices":
				p.list(v, a.key(s), func(j int, item *yaml.Node) {
					s := fmt.Sprintf("%s[%d]", s, j)
					a.pos.lines[s] = item.Line
					ans.Choices = append(ans.Choices, p.choice(item, a, s))
				})
			}
		})
		m[l] = ans
	})
	if len(m) == 0 {
		return nil
	}
	return m
}

// choice reads a button: its label alone (sent back as is) or a mapping
// with label and value.
func (p *parser) choice(n *yaml.Node, a at, sub string) Choice {
	if n.Kind != yaml.MappingNode {
		l := strings.TrimSpace(p.str(n, a.key(sub)))
		return Choice{Label: l, Value: l}
	}
	var c Choice
	hasValue := false
	p.fields(n, a.key(sub), choiceKeys, func(k string, kn, v *yaml.Node) {
		a.pos.lines[sub+"."+k] = kn.Line
		if k == "label" {
			c.Label = strings.TrimSpace(p.str(v, a.key(sub+".label")))
		} else {
			c.Value, hasValue = strings.TrimSpace(p.str(v, a.key(sub+".value"))), true
		}
	})
	if !hasValue {
		c.Value = c.Label
	}
	return c
}
