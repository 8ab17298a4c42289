package kb

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Default files of WriteDir.
const (
	LanguagesFile = "kb.yaml"      // holds Languages
	IntentsFile   = "intents.yaml" // intents without a File
	FAQFile       = "faq.yaml"     // FAQ entries without a File
)

const header = "supportbot knowledge base: languages, intents and faq (format: see package intents/kb)."

// YAML encodes b as one file in the format of ParseFile, leaving out the
// File of its entries.
func (b *Base) YAML() ([]byte, error) {
	return encodeFile(b.Languages, b.Intents, b.FAQs, b.AllLanguages())
}

// WriteDir writes b into dir as YAML files that read well and diff well:
// each entry goes to its File (intents without one to IntentsFile, FAQ
// entries to FAQFile) and Languages to LanguagesFile, in Base order, long
// answers as block text. It refuses an invalid b, creates dir as needed,
// writes each file atomically (a temporary file renamed into place) and
// finally removes the other .yaml and .yml files under dir, so that
// LoadDir(os.DirFS(dir)) returns b with every File set. Other files (a
// README, hidden files) are left alone.
func WriteDir(dir string, b *Base) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("kb: write %s: %w", dir, err)
	}
	type file struct {
		langs   []string
		intents []Intent
		faqs    []FAQ
	}
	files := map[string]*file{}
	get := func(name, def string) *file {
		if name == "" {
			name = def
		}
		if files[name] == nil {
			files[name] = &file{}
		}
		return files[name]
	}
	if len(b.Languages) > 0 {
		get(LanguagesFile, "").langs = b.Languages
	}
	for _, in := range b.Intents {
		f := get(in.File, IntentsFile)
		f.intents = append(f.intents, in)
	}
	for _, q := range b.FAQs {
		f := get(q.File, FAQFile)
		f.faqs = append(f.faqs, q)
	}
	if len(files) == 0 { // an empty Base is still a knowledge base
		get(LanguagesFile, "")
	}
	order := b.AllLanguages()
	names := sortedKeys(files)
	written := map[string]bool{}
	for _, name := range names {
		f := files[name]
		data, err := encodeFile(f.langs, f.intents, f.faqs, order)
		if err != nil {
			return fmt.Errorf("kb: write %s: %w", name, err)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := writeAtomic(target, data); err != nil {
			return fmt.Errorf("kb: write: %w", err)
		}
		written[target] = true
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case p != dir && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
		case !d.IsDir() && isYAML(p) && !written[p]:
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("kb: remove stale file: %w", err)
			}
		}
		return nil
	})
}

func writeAtomic(target string, data []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".kb-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// encodeFile renders one YAML file. order is the order of language keys.
func encodeFile(langs []string, intents []Intent, faqs []FAQ, order []string) ([]byte, error) {
	root := mapping()
	if len(langs) > 0 {
		root.Content = append(root.Content, str("languages"), flowList(langs))
	}
	if len(intents) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, in := range intents {
			list.Content = append(list.Content, intentNode(in, order))
		}
		root.Content = append(root.Content, str("intents"), list)
	}
	if len(faqs) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, f := range faqs {
			list.Content = append(list.Content, faqNode(f, order))
		}
		root.Content = append(root.Content, str("faq"), list)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{root}}
	out, err := encodeNode(doc)
	if err != nil {
		return nil, err
	}
	return spaceOut(out), nil
}

func encodeNode(n *yaml.Node) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 panics on some unencodable nodes
			err = fmt.Errorf("encode YAML: %v", r)
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// spaceOut puts a blank line before every top-level key but the first and
// between the entries of the top-level lists. Entries are the only lines
// indented "  - ": everything inside them is indented deeper.
func spaceOut(data []byte) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	var b strings.Builder
	seenKey, inList := false, false
	for _, ln := range lines {
		top := ln != "" && ln[0] != ' ' && ln[0] != '#' && ln[0] != '\n'
		item := strings.HasPrefix(ln, "  - ")
		if (top && seenKey) || (item && inList) {
			b.WriteString("\n")
		}
		if top {
			seenKey, inList = true, false
		} else if item {
			inList = true
		}
		b.WriteString(ln)
	}
	return []byte(b.String())
}

// yaml11Bools are the words YAML 1.1 tools read as booleans: quoted, so
// that "no" stays a word for them too.
var yaml11Bools = map[string]bool{"y": true, "n": true, "yes": true, "no": true,
	"on": true, "off": true, "true": true, "false": true}

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11Bools[strings.ToLower(s)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// text is a string that becomes block text when it is long or has lines.
func text(s string) *yaml.Node {
	n := str(s)
	if strings.Contains(s, "\n") || utf8.RuneCountInString(s) > 60 {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// langKeys returns the keys of m in order, then any others sorted.
func langKeys[V any](m map[string]V, order []string) []string {
	var keys []string
	for _, l := range order {
		if _, ok := m[l]; ok {
			keys = append(keys, l)
		}
	}
	var rest []string
	for l := range m {
		if !contains(keys, l) {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

func textsNode(m map[string][]string, order []string) *yaml.Node {
	n := mapping()
	for _, l := range langKeys(m, order) {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, t := range m[l] {
			list.Content = append(list.Content, str(t))
		}
		n.Content = append(n.Content, str(l), list)
	}
	return n
}

func answersNode(m map[string]Answer, order []string) *yaml.Node {
	n := mapping()
	for _, l := range langKeys(m, order) {
		a := m[l]
		if len(a.Links) == 0 && len(a.Choices) == 0 {
			n.Content = append(n.Content, str(l), text(a.Text))
			continue
		}
		an := mapping(str("text"), text(a.Text))
		if len(a.Links) > 0 {
			list := &yaml.Node{Kind: yaml.SequenceNode}
			for _, ln := range a.Links {
				list.Content = append(list.Content, flowMap("label", ln.Label, "url", ln.URL))
			}
			an.Content = append(an.Content, str("links"), list)
		}
		if len(a.Choices) > 0 {
			list := &yaml.Node{Kind: yaml.SequenceNode}
			for _, c := range a.Choices {
				if c.Label == c.Value {
					list.Content = append(list.Content, str(c.Label))
				} else {
					list.Content = append(list.Content, flowMap("label", c.Label, "value", c.Value))
				}
			}
			an.Content = append(an.Content, str("choices"), list)
		}
		n.Content = append(n.Content, str(l), an)
	}
	return n
}

// flowMap is a one-line mapping of its non-empty key, value pairs.
func flowMap(kv ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			n.Content = append(n.Content, str(kv[i]), str(kv[i+1]))
		}
	}
	return n
}

func intentNode(in Intent, order []string) *yaml.Node {
	n := mapping(str("name"), str(in.Name))
	if in.Description != "" {
		n.Content = append(n.Content, str("description"), text(in.Description))
	}
	if in.Action != ActionAnswer {
		n.Content = append(n.Content, str("action"), str(string(in.Action)))
	}
	if h := in.Handoff; h != nil {
		hn := flowMap("skill", h.Skill, "topic", h.Topic)
		if h.Priority != 0 {
			hn.Content = append(hn.Content, str("priority"),
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(h.Priority)})
		}
		n.Content = append(n.Content, str("handoff"), hn)
	}
	if len(in.Examples) > 0 {
		n.Content = append(n.Content, str("examples"), textsNode(in.Examples, order))
	}
	if len(in.Answers) > 0 {
		n.Content = append(n.Content, str("answers"), answersNode(in.Answers, order))
	}
	return n
}

func faqNode(f FAQ, order []string) *yaml.Node {
	n := mapping(str("id"), str(f.ID))
	if len(f.Tags) > 0 {
		n.Content = append(n.Content, str("tags"), flowList(f.Tags))
	}
	if f.Link != "" {
		n.Content = append(n.Content, str("link"), str(f.Link))
	}
	if len(f.Questions) > 0 {
		n.Content = append(n.Content, str("questions"), textsNode(f.Questions, order))
	}
	if len(f.Answers) > 0 {
		n.Content = append(n.Content, str("answers"), answersNode(f.Answers, order))
	}
	return n
}
