package kb

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ChangeKind says how an entry differs between two versions.
type ChangeKind string

const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Change is one difference between two versions of a Base.
type Change struct {
	Kind  ChangeKind `json:"kind"`
	Entry string     `json:"entry"` // "languages", "intent" or "faq"
	Name  string     `json:"name,omitempty"`
	// Fields lists what changed in a changed entry: "action", "handoff",
	// "description", "examples.nb", "questions.en", "answers.sv", "tags",
	// "link", "file".
	Fields []string `json:"fields,omitempty"`
	// Lines is a line diff of the entry written as YAML: "+ " added, "- "
	// removed, "  " unchanged (two lines around each change), "…" skipped.
	Lines []string `json:"lines"`
}

// String renders c as a heading and its lines, for logs and the CLI.
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", c.Kind, c.Entry)
	if c.Name != "" {
		b.WriteString(" " + c.Name)
	}
	if len(c.Fields) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(c.Fields, ", "))
	}
	for _, l := range c.Lines {
		b.WriteString("\n" + l)
	}
	return b.String()
}

// Diff lists what changed from a to b: languages first, then intents, then
// FAQ entries, each sorted by name. A nil Base is empty. Entries are
// matched by name, so order and position changes alone are not changes,
// while a renamed entry is one removed and one added.
func Diff(a, b *Base) []Change {
	if a == nil {
		a = &Base{}
	}
	if b == nil {
		b = &Base{}
	}
	order := b.AllLanguages()
	var out []Change
	if !reflect.DeepEqual(a.Languages, b.Languages) {
		c := Change{Kind: Changed, Entry: "languages"}
		switch {
		case len(a.Languages) == 0:
			c.Kind = Added
		case len(b.Languages) == 0:
			c.Kind = Removed
		}
		c.Lines = lineDiff(langLines(a.Languages), langLines(b.Languages))
		out = append(out, c)
	}
	ai, bi := map[string]Intent{}, map[string]Intent{}
	for _, in := range a.Intents {
		ai[in.Name] = in
	}
	for _, in := range b.Intents {
		bi[in.Name] = in
	}
	out = append(out, diffEntries("intent", ai, bi, func(in Intent) []string {
		return entryLines(in.File, intentNode(in, order))
	}, intentFields)...)
	af, bf := map[string]FAQ{}, map[string]FAQ{}
	for _, f := range a.FAQs {
		af[f.ID] = f
	}
	for _, f := range b.FAQs {
		bf[f.ID] = f
	}
	out = append(out, diffEntries("faq", af, bf, func(f FAQ) []string {
		return entryLines(f.File, faqNode(f, order))
	}, faqFields)...)
	return out
}

func diffEntries[E any](entry string, a, b map[string]E, lines func(E) []string, fields func(x, y E) []string) []Change {
	names := sortedKeys(a)
	for n := range b {
		if _, ok := a[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []Change
	for _, n := range names {
		x, inA := a[n]
		y, inB := b[n]
		switch {
		case !inA:
			out = append(out, Change{Kind: Added, Entry: entry, Name: n, Lines: lineDiff(nil, lines(y))})
		case !inB:
			out = append(out, Change{Kind: Removed, Entry: entry, Name: n, Lines: lineDiff(lines(x), nil)})
		default:
			if f := fields(x, y); len(f) > 0 {
				out = append(out, Change{Kind: Changed, Entry: entry, Name: n, Fields: f, Lines: lineDiff(lines(x), lines(y))})
			}
		}
	}
	return out
}

func intentFields(x, y Intent) []string {
	var f []string
	f = field(f, "description", x.Description, y.Description)
	f = field(f, "action", x.Action, y.Action)
	f = field(f, "handoff", x.Handoff, y.Handoff)
	f = langFields(f, "examples", x.Examples, y.Examples)
	f = langFields(f, "answers", x.Answers, y.Answers)
	return field(f, "file", x.File, y.File)
}

func faqFields(x, y FAQ) []string {
	var f []string
	f = langFields(f, "questions", x.Questions, y.Questions)
	f = langFields(f, "answers", x.Answers, y.Answers)
	f = field(f, "tags", x.Tags, y.Tags)
	f = field(f, "link", x.Link, y.Link)
	return field(f, "file", x.File, y.File)
}

func field(f []string, name string, x, y any) []string {
	if !reflect.DeepEqual(x, y) {
		f = append(f, name)
	}
	return f
}

func langFields[V any](f []string, name string, x, y map[string]V) []string {
	keys := sortedKeys(x)
	for k := range y {
		if _, ok := x[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		vx, okx := x[k]
		vy, oky := y[k]
		if okx != oky || !reflect.DeepEqual(vx, vy) {
			f = append(f, name+"."+k)
		}
	}
	return f
}

func langLines(langs []string) []string {
	if len(langs) == 0 {
		return nil
	}
	return []string{"languages: [" + strings.Join(langs, ", ") + "]"}
}

// entryLines renders one entry as YAML lines, under a note of its file.
func entryLines(file string, n *yaml.Node) []string {
	var lines []string
	if file != "" {
		lines = append(lines, "# "+file)
	}
	data, err := encodeNode(n)
	if err != nil {
		return append(lines, "# "+err.Error())
	}
	return append(lines, strings.Split(strings.TrimRight(string(data), "\n"), "\n")...)
}

// lineDiff is a longest-common-subsequence diff of two line lists, with
// two lines of context around changes.
func lineDiff(a, b []string) []string {
	const context = 2
	type op struct {
		c    byte
		line string
	}
	var ops []op
	if len(a)*len(b) > 1<<22 { // too big to align: replace it all
		for _, l := range a {
			ops = append(ops, op{'-', l})
		}
		for _, l := range b {
			ops = append(ops, op{'+', l})
		}
	} else {
		// lcs[i][j] is the LCS length of a[i:] and b[j:].
		lcs := make([][]int32, len(a)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(b)+1)
		}
		for i := len(a) - 1; i >= 0; i-- {
			for j := len(b) - 1; j >= 0; j-- {
				if a[i] == b[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(a) || j < len(b) {
			switch {
			case i < len(a) && j < len(b) && a[i] == b[j]:
				ops = append(ops, op{' ', a[i]})
				i, j = i+1, j+1
			case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, op{'-', a[i]})
				i++
			default:
				ops = append(ops, op{'+', b[j]})
				j++
			}
		}
	}
	// Keep changes and the context around them.
	keep := make([]bool, len(ops))
	for k, o := range ops {
		if o.c != ' ' {
			for d := max(0, k-context); d <= min(len(ops)-1, k+context); d++ {
				keep[d] = true
			}
		}
	}
	var out []string
	skipped := false
	for k, o := range ops {
		if !keep[k] {
			skipped = true
			continue
		}
		if skipped {
			out = append(out, "…")
			skipped = false
		}
		out = append(out, string(o.c)+" "+o.line)
	}
	if skipped {
		out = append(out, "…")
	}
	return out
}
