package kb

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// JSON encodes b as the store keeps it: indented, one field a line, map
// keys sorted and entries in Base order, so equal bases encode to equal
// bytes and versions diff line by line. Text is not HTML-escaped.
func (b *Base) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseJSON decodes a Base written by JSON (or by hand), strictly: unknown
// fields and trailing data are errors. It canonicalises language codes
// ("no" becomes "nb"), trims texts as the YAML files do, and validates.
func ParseJSON(data []byte) (*Base, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Base
	if err := dec.Decode(&b); err != nil {
		return nil, &Error{Msg: "JSON: " + err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Error{Msg: "JSON: data after the knowledge base"}
	}
	if errs := b.normalize(); len(errs) > 0 {
		return nil, errs.err()
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// normalize puts b in the canonical form the parsers produce: canonical
// language codes, trimmed texts, and nil for empty collections. It reports
// two keys of one map meaning the same language.
func (b *Base) normalize() errList {
	var errs errList
	for i, l := range b.Languages {
		b.Languages[i] = langOr(l)
	}
	b.Languages = nilIfEmpty(b.Languages)
	for i := range b.Intents {
		in := &b.Intents[i]
		key := "intents[" + in.Name + "]"
		in.Description = strings.TrimSpace(in.Description)
		if in.Handoff != nil {
			in.Handoff.Skill = strings.TrimSpace(in.Handoff.Skill)
			in.Handoff.Topic = strings.TrimSpace(in.Handoff.Topic)
		}
		in.Examples = normTexts(in.Examples, key+".examples", &errs)
		in.Answers = normAnswers(in.Answers, key+".answers", &errs)
	}
	for i := range b.FAQs {
		f := &b.FAQs[i]
		key := "faq[" + f.ID + "]"
		f.Questions = normTexts(f.Questions, key+".questions", &errs)
		f.Answers = normAnswers(f.Answers, key+".answers", &errs)
		for j, t := range f.Tags {
			f.Tags[j] = strings.TrimSpace(t)
		}
		f.Tags = nilIfEmpty(f.Tags)
		f.Link = strings.TrimSpace(f.Link)
	}
	return errs
}

// langOr returns the canonical form of l, or l if it is not a language.
func langOr(l string) string {
	if c, problem := canonLang(l); problem == "" {
		return c
	}
	return l
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// rekey canonicalises the language keys of m, reporting collisions.
func rekey[V any](m map[string]V, key string, errs *errList) map[string]V {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]V, len(m))
	from := map[string]string{}
	for _, k := range sortedKeys(m) {
		l := langOr(k)
		if prev, dup := from[l]; dup {
			errs.add("", 0, key+"."+l, "%s and %s are the same language; merge them", prev, k)
			continue
		}
		from[l] = k
		out[l] = m[k]
	}
	return out
}

func normTexts(m map[string][]string, key string, errs *errList) map[string][]string {
	m = rekey(m, key, errs)
	for l, list := range m {
		for j, t := range list {
			list[j] = strings.TrimSpace(t)
		}
		m[l] = list
	}
	return m
}

func normAnswers(m map[string]Answer, key string, errs *errList) map[string]Answer {
	m = rekey(m, key, errs)
	for l, a := range m {
		a.Text = cleanText(a.Text)
		for j := range a.Links {
			a.Links[j].Label = strings.TrimSpace(a.Links[j].Label)
			a.Links[j].URL = strings.TrimSpace(a.Links[j].URL)
		}
		for j := range a.Choices {
			a.Choices[j].Label = strings.TrimSpace(a.Choices[j].Label)
			a.Choices[j].Value = strings.TrimSpace(a.Choices[j].Value)
		}
		a.Links, a.Choices = nilIfEmpty(a.Links), nilIfEmpty(a.Choices)
		m[l] = a
	}
	return m
}

// cleanText trims an answer text and the ends of its lines, which chat
// never shows and which would keep YAML from writing it as block text.
func cleanText(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.Join(lines, "\n")
}
