// Package kb is the knowledge base of the intent router: intents (what a
// customer means, with example messages and what the bot does about it) and
// FAQ entries (answers found by retrieval), each in several languages.
//
// A Base lives in two forms. In git it is a directory of YAML files that
// admins edit by hand (LoadDir, ParseFile, WriteDir); in the store it is
// one versioned JSON document that the admin console edits (ParseJSON,
// Base.JSON). Both are checked by the same rules (Base.Validate), and errors
// read "file:line: key: what is wrong". Diff compares two versions for the
// console's history.
//
// A Base is plain data: it is not safe to change while others read it.
// Readers share one Base and writers Clone it, edit the copy and publish it.
package kb

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Sentinel errors. Validation and parse errors are *Error values that match
// ErrInvalid with errors.Is; lookups wrap ErrNotFound or ErrNoAnswer.
var (
	ErrInvalid  = errors.New("kb: invalid knowledge base")
	ErrNotFound = errors.New("kb: no such intent or FAQ entry")
	ErrNoAnswer = errors.New("kb: no answer")
)

// Action is what the router does when an intent is recognised.
type Action string

const (
	ActionAnswer   Action = "answer"   // reply with the intent's answer
	ActionHandoff  Action = "handoff"  // hand the conversation to a human (reason "requested" or "intent_rule")
	ActionEscalate Action = "escalate" // hand off with priority (complaints): reason "complaint"
)

// Actions lists the valid actions.
var Actions = []Action{ActionAnswer, ActionHandoff, ActionEscalate}

// Link is a labelled URL shown under an answer.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Choice is a button offered with an answer; pressing it sends Value back as
// the customer's next message. It converts to bot.Choice.
type Choice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Answer is what the bot says, in one language.
type Answer struct {
	Text    string   `json:"text"`
	Links   []Link   `json:"links,omitempty"`
	Choices []Choice `json:"choices,omitempty"`
}

// Handoff holds the routing hints for a handoff or escalate intent.
type Handoff struct {
	Skill    string `json:"skill,omitempty"`    // agents' skill that should take it ("billing")
	Topic    string `json:"topic,omitempty"`    // shown on the agent's handoff card
	Priority int    `json:"priority,omitempty"` // 0..MaxPriority; higher is served first
}

// MaxPriority is the highest Handoff.Priority.
const MaxPriority = 100

// Intent is one thing a customer may mean.
type Intent struct {
	// Name is unique among intents and FAQ entries: lower case letters,
	// digits and "._-" ("order.track").
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Action is what the router does; the YAML files default it to answer.
	Action  Action   `json:"action"`
	Handoff *Handoff `json:"handoff,omitempty"` // only with ActionHandoff or ActionEscalate
	// Examples are customer messages meaning this intent, by language code.
	Examples map[string][]string `json:"examples,omitempty"`
	// Answers by language code. Required in at least one language for
	// ActionAnswer; said before the handoff for the other actions.
	Answers map[string]Answer `json:"answers,omitempty"`
	// File is the YAML file (slash-separated, relative to the KB
	// directory) that holds the intent; see WriteDir.
	File string `json:"file,omitempty"`
}

// FAQ is one question-and-answer entry, found by retrieval over its
// questions and answer text. Questions may be empty.
type FAQ struct {
	ID        string              `json:"id"` // same rules and namespace as Intent.Name
	Questions map[string][]string `json:"questions,omitempty"`
	Answers   map[string]Answer   `json:"answers,omitempty"`
	Tags      []string            `json:"tags,omitempty"`
	Link      string              `json:"link,omitempty"` // "read more" URL
	File      string              `json:"file,omitempty"` // as Intent.File
}

// Base is a whole knowledge base.
type Base struct {
	// Languages the bot supports, the default (fallback) language first.
	// Optional; when set, every language used must be listed.
	Languages []string `json:"languages,omitempty"`
	Intents   []Intent `json:"intents,omitempty"`
	FAQs      []FAQ    `json:"faq,omitempty"`
}

// Intent returns the intent named name.
func (b *Base) Intent(name string) (*Intent, bool) {
	for i := range b.Intents {
		if b.Intents[i].Name == name {
			return &b.Intents[i], true
		}
	}
	return nil, false
}

// FAQ returns the FAQ entry with the given id.
func (b *Base) FAQ(id string) (*FAQ, bool) {
	for i := range b.FAQs {
		if b.FAQs[i].ID == id {
			return &b.FAQs[i], true
		}
	}
	return nil, false
}

// DefaultLanguage is the first of Languages, or "en" if none are declared.
func (b *Base) DefaultLanguage() string {
	if len(b.Languages) > 0 {
		return b.Languages[0]
	}
	return "en"
}

// AllLanguages returns the declared languages followed by any other
// language used in examples, questions or answers, sorted.
func (b *Base) AllLanguages() []string {
	seen := map[string]bool{}
	out := slices.Clone(b.Languages)
	for _, l := range out {
		seen[l] = true
	}
	var extra []string
	add := func(l string) {
		if !seen[l] {
			seen[l] = true
			extra = append(extra, l)
		}
	}
	for _, in := range b.Intents {
		for l := range in.Examples {
			add(l)
		}
		for l := range in.Answers {
			add(l)
		}
	}
	for _, f := range b.FAQs {
		for l := range f.Questions {
			add(l)
		}
		for l := range f.Answers {
			add(l)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// Answer returns the answer of the intent or FAQ entry called name in lang,
// or else in the default language, or else in English, or else in the first
// language (sorted) it has. It also returns the language of the answer.
// Errors wrap ErrNotFound (no such entry) or ErrNoAnswer (no answer at all).
func (b *Base) Answer(name, lang string) (Answer, string, error) {
	var answers map[string]Answer
	if in, ok := b.Intent(name); ok {
		answers = in.Answers
	} else if f, ok := b.FAQ(name); ok {
		answers = f.Answers
	} else {
		return Answer{}, "", fmt.Errorf("answer %q: %w", name, ErrNotFound)
	}
	if l, ok := pickLang(answers, lang, b.DefaultLanguage(), "en"); ok {
		return answers[l], l, nil
	}
	return Answer{}, "", fmt.Errorf("answer %q: %w", name, ErrNoAnswer)
}

// pickLang returns the first of prefs that m has, else m's smallest key.
func pickLang[V any](m map[string]V, prefs ...string) (string, bool) {
	for _, p := range prefs {
		if _, ok := m[p]; ok {
			return p, true
		}
	}
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return "", false
	}
	return keys[0], true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone returns a deep copy of b; nil and empty collections keep their form.
func (b *Base) Clone() *Base {
	if b == nil {
		return nil
	}
	c := &Base{Languages: slices.Clone(b.Languages)}
	if b.Intents != nil {
		c.Intents = make([]Intent, len(b.Intents))
		for i, in := range b.Intents {
			c.Intents[i] = in.Clone()
		}
	}
	if b.FAQs != nil {
		c.FAQs = make([]FAQ, len(b.FAQs))
		for i, f := range b.FAQs {
			c.FAQs[i] = f.Clone()
		}
	}
	return c
}

// Clone returns a deep copy of in.
func (in Intent) Clone() Intent {
	if in.Handoff != nil {
		h := *in.Handoff
		in.Handoff = &h
	}
	in.Examples = cloneTexts(in.Examples)
	in.Answers = cloneAnswers(in.Answers)
	return in
}

// Clone returns a deep copy of f.
func (f FAQ) Clone() FAQ {
	f.Questions = cloneTexts(f.Questions)
	f.Answers = cloneAnswers(f.Answers)
	f.Tags = slices.Clone(f.Tags)
	return f
}

func cloneTexts(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	c := make(map[string][]string, len(m))
	for k, v := range m {
		c[k] = slices.Clone(v)
	}
	return c
}

func cloneAnswers(m map[string]Answer) map[string]Answer {
	if m == nil {
		return nil
	}
	c := make(map[string]Answer, len(m))
	for k, a := range m {
		a.Links = slices.Clone(a.Links)
		a.Choices = slices.Clone(a.Choices)
		c[k] = a
	}
	return c
}
