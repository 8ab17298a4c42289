package kb_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/supportbot/supportbot/intents/kb"
)

// small is a valid one-file knowledge base used by several tests.
const small = `languages: [en, nb]
intents:
  - name: greeting
    examples:
      en: [hi, hello]
      "no": [hei]
    answers:
      en: Hi!
      nb:
        text: |
          Hei! Hva kan jeg hjelpe deg med?
        links: [{label: Hjelp, url: "https://shop.example/hjelp"}]
        choices: ["Hvor er pakken?", {label: Snakk med oss, value: menneske}]
  - name: agent.request
    action: handoff
    handoff: {skill: general, priority: 3}
    examples: {en: [agent please], nb: [menneske]}
faq:
  - id: gift-cards
    tags: [payment]
    answers: {en: We sell gift cards.}
`

func mustParse(t *testing.T, name, data string) *kb.Base {
	t.Helper()
	b, err := kb.ParseFile(name, []byte(data))
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return b
}

func TestParseFile(t *testing.T) {
	b := mustParse(t, "small.yaml", small)
	want := &kb.Base{
		Languages: []string{"en", "nb"},
		Intents: []kb.Intent{{
			Name:     "greeting",
			Action:   kb.ActionAnswer,
			Examples: map[string][]string{"en": {"hi", "hello"}, "nb": {"hei"}},
			Answers: map[string]kb.Answer{
				"en": {Text: "Hi!"},
				"nb": {
					Text:    "Hei! Hva kan jeg hjelpe deg med?",
					Links:   []kb.Link{{Label: "Hjelp", URL: "https://shop.example/hjelp"}},
					Choices: []kb.Choice{{Label: "Hvor er pakken?", Value: "Hvor er pakken?"}, {Label: "Snakk med oss", Value: "menneske"}},
				},
			},
			File: "small.yaml",
		}, {
			Name:     "agent.request",
			Action:   kb.ActionHandoff,
			Handoff:  &kb.Handoff{Skill: "general", Priority: 3},
			Examples: map[string][]string{"en": {"agent please"}, "nb": {"menneske"}},
			File:     "small.yaml",
		}},
		FAQs: []kb.FAQ{{
			ID:      "gift-cards",
			Answers: map[string]kb.Answer{"en": {Text: "We sell gift cards."}},
			Tags:    []string{"payment"},
			File:    "small.yaml",
		}},
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("ParseFile =\n%#v\nwant\n%#v", b, want)
	}
	if in, ok := b.Intent("agent.request"); !ok || in.Handoff.Skill != "general" {
		t.Errorf("Intent(agent.request) = %v, %v", in, ok)
	}
	if _, ok := b.Intent("nope"); ok {
		t.Error("Intent(nope) found")
	}
	if f, ok := b.FAQ("gift-cards"); !ok || f.Tags[0] != "payment" {
		t.Errorf("FAQ(gift-cards) = %v, %v", f, ok)
	}
	if got := b.AllLanguages(); !reflect.DeepEqual(got, []string{"en", "nb"}) {
		t.Errorf("AllLanguages = %v", got)
	}
}

func TestParseFileErrors(t *testing.T) {
	const ok = "    examples: {en: [hi]}\n    answers: {en: Hi}\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "intents:\n  - name: a\n    exampels: {en: [hi]}\n",
			[]string{"t.yaml:3: intents[a].exampels: unknown key; did you mean examples?"}},
		{"unknown top key", "intent:\n  - name: a\n",
			[]string{"t.yaml:1: intent: unknown key; did you mean intents?"}},
		{"far unknown key", "intents:\n  - name: a\n    colour: red\n" + ok,
			[]string{"t.yaml:3: intents[a].colour: unknown key; expected name, description, action, handoff, examples, answers"}},
		{"empty examples", "intents:\n  - name: a\n    examples:\n      en: [hi, '', '  ']\n    answers: {en: Hi}\n",
			[]string{"t.yaml:4: intents[a].examples.en[1]: empty", "t.yaml:4: intents[a].examples.en[2]: empty"}},
		{"example on its own line", "intents:\n  - name: a\n    examples:\n      en:\n        - hi\n        -\n    answers: {en: Hi}\n",
			[]string{"t.yaml:6: intents[a].examples.en[1]: empty"}},
		{"no examples", "intents:\n  - name: a\n    answers: {en: Hi}\n",
			[]string{"t.yaml:2: intents[a].examples: needs at least one example"}},
		{"empty example list", "intents:\n  - name: a\n    examples: {en: [hi], nb: []}\n    answers: {en: Hi}\n",
			[]string{"t.yaml:3: intents[a].examples.nb: empty list; add texts or remove the language"}},
		{"example not text", "intents:\n  - name: a\n    examples:\n      en:\n        - hi\n        - [nested]\n    answers: {en: x}\n",
			[]string{"t.yaml:6: intents[a].examples.en[1]: expected a text, got a list"}},
		{"answer intent without answer", "intents:\n  - name: a\n    examples: {en: [hi]}\n",
			[]string{"t.yaml:2: intents[a].answers: an intent with action answer needs an answer in at least one language"}},
		{"empty answer", "intents:\n  - name: a\n    examples: {en: [hi]}\n    answers:\n      en: \"\"\n",
			[]string{"t.yaml:5: intents[a].answers.en.text: empty"}},
		{"missing name", "intents:\n  - examples: {en: [hi]}\n    answers: {en: Hi}\n",
			[]string{"t.yaml:2: intents[0].name: missing"}},
		{"bad name", "intents:\n  - name: Bad Name\n" + ok,
			[]string{`t.yaml:2: intents[0].name: "Bad Name": use lower case letters, digits and . _ - (at most 64), like order.track`}},
		{"unknown action", "intents:\n  - name: a\n    action: reply\n" + ok,
			[]string{`t.yaml:3: intents[a].action: unknown action "reply"; use answer, handoff or escalate`}},
		{"unknown language", "intents:\n  - name: a\n    examples: {xx: [hi]}\n    answers: {en: x}\n",
			[]string{`t.yaml:3: intents[a].examples.xx: unknown language code "xx"; use ISO 639-1 codes like en, nb, sv, sr`}},
		{"not ISO 639-1", "intents:\n  - name: a\n    examples: {fil: [hi]}\n    answers: {en: x}\n",
			[]string{`t.yaml:3: intents[a].examples.fil: "fil" is not an ISO 639-1 language code; use codes like en, nb, sv, sr`}},
		{"no and nb", "intents:\n  - name: a\n    examples: {no: [hei], nb: [hallo]}\n    answers: {en: x}\n",
			[]string{"t.yaml:3: intents[a].examples.nb: no and nb are the same language; merge them"}},
		{"undeclared language", "languages: [en, nb]\nintents:\n  - name: a\n    examples: {sv: [hej]}\n    answers: {en: x}\n",
			[]string{"t.yaml:4: intents[a].examples.sv: language sv is not in languages [en nb]"}},
		{"key twice", "intents:\n  - name: a\n    name: b\n" + ok,
			[]string{"t.yaml:3: intents[a].name: given twice (also line 2)"}},
		{"duplicate name", "intents:\n  - name: a\n" + ok + "faq:\n  - id: a\n    answers: {en: y}\n",
			[]string{`t.yaml:6: faq[a].id: "a" is already the name of an intent at t.yaml:2`}},
		{"duplicate example", "intents:\n  - name: a\n" + ok + "  - name: b\n    examples: {en: [Hi]}\n    answers: {en: y}\n",
			[]string{`t.yaml:6: intents[b].examples.en[0]: "Hi" is also in intents[a].examples.en[0] (t.yaml:3)`}},
		{"repeated example", "intents:\n  - name: a\n    examples: {en: [hi, \"HI \"]}\n    answers: {en: x}\n",
			[]string{`t.yaml:3: intents[a].examples.en[1]: "HI" is already at examples.en[0]`}},
		{"bad priority", "intents:\n  - name: a\n    action: handoff\n    handoff: {priority: high}\n    examples: {en: [hi]}\n",
			[]string{"t.yaml:4: intents[a].handoff.priority: expected a whole number 0..100"}},
		{"priority out of range", "intents:\n  - name: a\n    action: escalate\n    handoff:\n      priority: 101\n    examples: {en: [hi]}\n",
			[]string{"t.yaml:5: intents[a].handoff.priority: 101 is out of range 0..100"}},
		{"handoff on answer", "intents:\n  - name: a\n    handoff: {skill: x}\n" + ok,
			[]string{"t.yaml:3: intents[a].handoff: handoff options need action handoff or escalate"}},
		{"links and choices", "intents:\n  - name: a\n    examples: {en: [hi]}\n    answers:\n      en:\n        text: x\n        links: [{label: L, url: /relative}]\n        choices: [{value: v}]\n",
			[]string{
				`t.yaml:7: intents[a].answers.en.links[0].url: "/relative": use an absolute https, http, mailto or tel URL`,
				"t.yaml:8: intents[a].answers.en.choices[0].label: empty",
			}},
		{"long choice", "intents:\n  - name: a\n    examples: {en: [hi]}\n    answers:\n      en:\n        text: x\n        choices:\n          - " + strings.Repeat("x", 76) + "\n",
			[]string{"t.yaml:8: intents[a].answers.en.choices[0].label: longer than 75 characters"}},
		{"answer as list", "intents:\n  - name: a\n    examples: {en: [hi]}\n    answers:\n      en: [x]\n",
			[]string{"t.yaml:5: intents[a].answers.en: expected a text, got a list"}},
		{"intents not a list", "intents: {name: a}\n",
			[]string{"t.yaml:1: intents: expected a list, got a mapping (key: value)"}},
		{"faq without answer", "faq:\n  - id: f\n    questions: {en: [q]}\n",
			[]string{"t.yaml:2: faq[f].answers: an FAQ entry needs an answer in at least one language"}},
		{"faq link and tags", "faq:\n  - id: f\n    answers: {en: x}\n    link: ftp://x\n    tags: [a, a]\n",
			[]string{
				`t.yaml:4: faq[f].link: "ftp://x": use an absolute https, http, mailto or tel URL`,
				`t.yaml:5: faq[f].tags[1]: tag "a" given twice`,
			}},
		{"syntax", "intents:\n  - name: a\n    examples: {en: [hi]\n",
			[]string{`t.yaml:3: YAML: did not find expected ',' or '}'; in [a, b] and {k: v} quote texts that hold ? : , # [ ] { }, or write one "- text" per line`}},
		{"tab indent", "intents:\n\t- name: a\n",
			[]string{"t.yaml:2: YAML: found character that cannot start any token"}},
		{"anchor", "intents:\n  - &x\n    name: a\n",
			[]string{"t.yaml:2: YAML anchors (&) and aliases (*) are not supported; repeat the text"}},
		{"two documents", "intents: []\n---\nfaq: []\n",
			[]string{"t.yaml:2: YAML: only one document (---) per file"}},
		{"not a mapping", "- a\n",
			[]string{"t.yaml:1: expected a mapping with the keys languages, intents, faq, got a list"}},
		{"invalid UTF-8", "intents:\n  - name: \xff\n",
			[]string{"t.yaml:2: invalid UTF-8; save the file as UTF-8"}},
		{"control character", "intents:\n\n  - name: a\x01\n",
			[]string{"t.yaml:3: control character U+0001 is not allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := kb.ParseFile("t.yaml", []byte(tc.yaml))
			if b != nil {
				t.Errorf("ParseFile returned a Base with error %v", err)
			}
			if !errors.Is(err, kb.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			var got []string
			for _, e := range kb.Errors(err) {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if err.Error() != strings.Join(tc.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestParseFileEmpty(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "---\n", "intents:\nfaq: []\n"} {
		b, err := kb.ParseFile("e.yaml", []byte(data))
		if err != nil || !reflect.DeepEqual(b, &kb.Base{}) {
			t.Errorf("ParseFile(%q) = %#v, %v; want empty Base", data, b, err)
		}
	}
}

func TestLoadDirErrors(t *testing.T) {
	good := "intents:\n  - name: a\n    examples: {en: [hi]}\n    answers: {en: Hi}\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"duplicate across files", map[string]string{
			"a.yaml":     good,
			"sub/b.yaml": "# b\nfaq:\n  - id: a\n    answers: {en: x}\n",
		}, `sub/b.yaml:3: faq[a].id: "a" is already the name of an intent at a.yaml:2`},
		{"example across files", map[string]string{
			"a.yaml": good,
			"b.yml":  "intents:\n  - name: b\n    examples: {en: [hi]}\n    answers: {en: x}\n",
		}, `b.yml:3: intents[b].examples.en[0]: "hi" is also in intents[a].examples.en[0] (a.yaml:3)`},
		{"languages twice", map[string]string{
			"a.yaml": "languages: [en]\n" + good,
			"b.yaml": "\nlanguages: [en]\n",
		}, "b.yaml:2: languages: already declared at a.yaml:1; declare languages in one file"},
		{"one bad file fails all", map[string]string{
			"a.yaml": good,
			"b.yaml": "intents:\n  - name: b\n    examples: {en: [yo]}\n    answer: {en: x}\n",
		}, "b.yaml:4: intents[b].answer: unknown key; did you mean answers?"},
		{"no files", map[string]string{"README.md": "# hi"}, "kb: invalid knowledge base: no .yaml files found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{".hidden.yaml": {Data: []byte("not: [valid")}}
			for name, data := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			b, err := kb.LoadDir(fsys)
			if b != nil || err == nil || err.Error() != tc.want {
				t.Errorf("LoadDir = %v, %v\nwant error %s", b, err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	b := &kb.Base{
		Languages: []string{"en", "no", "en"},
		Intents: []kb.Intent{
			{Name: "a", Action: kb.ActionAnswer, Examples: map[string][]string{"en": {"hi"}}, Answers: map[string]kb.Answer{"en": {Text: "x"}}, File: "../a.yaml"},
			{Name: "a", Examples: map[string][]string{"en": {"two\nlines"}}},
		},
		FAQs: []kb.FAQ{{ID: "f", Answers: map[string]kb.Answer{"EN": {Text: "x"}}, Link: "https://"}},
	}
	want := []string{
		`languages[1]: write "no" as "nb"`,
		"languages[2]: en listed twice (also languages[0])",
		`intents[a].file: "../a.yaml": use a relative, slash-separated path ending in .yaml, like shipping.yaml`,
		`intents[a].name: "a" is already the name of an intent`,
		"intents[a].action: missing; use answer, handoff or escalate",
		"intents[a].examples.en[0]: must be one line",
		`faq[f].answers.EN: write "EN" as "en"`,
		`faq[f].link: "https://" has no host`,
	}
	var got []string
	for _, e := range kb.Errors(b.Validate()) {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := (&kb.Base{}).Validate(); err != nil {
		t.Errorf("empty Base: %v", err)
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{
		"en": "en", "EN": "en", "en-GB": "en", "en_US": "en", "no": "nb", "nb": "nb", "nb-NO": "nb",
		"nn": "nn", "sv": "sv", "sr": "sr", "sr-Latn": "sr", "sr-Cyrl-RS": "sr", "da": "da",
		"de": "de", "fr": "fr", "es": "es", "eng": "en", "xx": "", "": "", "und": "", "fil": "", " en": "",
	} {
		got, err := kb.Lang(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("Lang(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err != nil && !errors.Is(err, kb.ErrInvalid) {
			t.Errorf("Lang(%q) error %v does not match ErrInvalid", in, err)
		}
	}
}

func TestAnswer(t *testing.T) {
	b := mustParse(t, "small.yaml", small)
	for _, tc := range []struct {
		name, lang, wantLang string
		err                  error
	}{
		{"greeting", "nb", "nb", nil},
		{"greeting", "sv", "en", nil}, // default language
		{"gift-cards", "nb", "en", nil},
		{"agent.request", "en", "", kb.ErrNoAnswer},
		{"nope", "en", "", kb.ErrNotFound},
	} {
		a, l, err := b.Answer(tc.name, tc.lang)
		if l != tc.wantLang || !errors.Is(err, tc.err) || (err == nil && a.Text == "") {
			t.Errorf("Answer(%s, %s) = %q, %q, %v; want language %q, error %v", tc.name, tc.lang, a.Text, l, err, tc.wantLang, tc.err)
		}
	}
	b.Languages = nil
	b.Intents[0].Answers = map[string]kb.Answer{"sv": {Text: "Hej"}, "nb": {Text: "Hei"}}
	if _, l, _ := b.Answer("greeting", "de"); l != "nb" {
		t.Errorf("fallback language %q, want nb (first sorted)", l)
	}
}

func TestClone(t *testing.T) {
	b := loadStarter(t)
	c := b.Clone()
	if !reflect.DeepEqual(b, c) {
		t.Fatal("Clone differs from the original")
	}
	c.Languages[0] = "de"
	c.Intents[0].Examples["en"][0] = "changed"
	c.Intents[0].Answers["en"] = kb.Answer{Text: "changed"}
	for i := range c.Intents {
		if c.Intents[i].Handoff != nil {
			c.Intents[i].Handoff.Priority = 99
		}
		for l, a := range c.Intents[i].Answers {
			if len(a.Choices) > 0 {
				a.Choices[0].Value = "changed"
				c.Intents[i].Answers[l] = a
			}
		}
	}
	c.FAQs[0].Tags[0] = "changed"
	if reflect.DeepEqual(b, c) || !reflect.DeepEqual(b, loadStarter(t)) {
		t.Error("changing the clone changed the original")
	}
	if (*kb.Base)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b := loadStarter(t)
	data, err := b.JSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.Clone().JSON()
	if err != nil || !bytes.Equal(data, again) {
		t.Fatal("JSON is not stable")
	}
	if !strings.Contains(string(data), "\n      \"name\": \"greeting\",\n") || strings.Contains(string(data), `\u003c`) {
		t.Errorf("JSON is not indented or escapes HTML:\n%.300s", data)
	}
	back, err := kb.ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, back) {
		t.Error("ParseJSON(JSON(b)) != b")
	}
}

func TestParseJSON(t *testing.T) {
	b, err := kb.ParseJSON([]byte(`{"languages": ["no"], "intents": [{"name": "a", "action": "answer",
		"examples": {"no": [" hei "]}, "answers": {"nb-NO": {"text": "Hei!\n", "links": []}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &kb.Base{Languages: []string{"nb"}, Intents: []kb.Intent{{Name: "a", Action: kb.ActionAnswer,
		Examples: map[string][]string{"nb": {"hei"}}, Answers: map[string]kb.Answer{"nb": {Text: "Hei!"}}}}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("ParseJSON = %#v\nwant %#v", b, want)
	}
	for data, want := range map[string]string{
		`{"intents": [], "extra": 1}`: `JSON: json: unknown field "extra"`,
		`{} {}`:                       "JSON: data after the knowledge base",
		`{"intents": [{"name": "a", "action": "answer", "examples": {"no": ["a"], "nb": ["b"]}, "answers": {"en": {"text": "x"}}}]}`: "intents[a].examples.nb: nb and no are the same language; merge them",
		`{"faq": [{"id": "f"}]}`: "faq[f].answers: an FAQ entry needs an answer in at least one language",
	} {
		b, err := kb.ParseJSON([]byte(data))
		if b != nil || err == nil || err.Error() != want || !errors.Is(err, kb.ErrInvalid) {
			t.Errorf("ParseJSON(%s) = %v, %v; want error %s", data, b, err, want)
		}
	}
}

func TestWriteDirRoundTrip(t *testing.T) {
	b := loadStarter(t)
	dir := t.TempDir()
	// Stale KB files go, other files stay.
	for name, data := range map[string]string{"old.yaml": "intents: []\n", "sub/old.yml": "", "README.md": "keep", ".git/x.yaml": "keep"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := kb.WriteDir(dir, b); err != nil {
		t.Fatal(err)
	}
	back, err := kb.LoadDir(os.DirFS(dir))
	if err != nil {
		t.Fatalf("LoadDir(WriteDir(b)):\n%v", err)
	}
	if !reflect.DeepEqual(b, back) {
		for _, c := range kb.Diff(b, back) {
			t.Log(c)
		}
		t.Fatal("LoadDir(WriteDir(b)) != b")
	}
	for name, exists := range map[string]bool{"old.yaml": false, "sub/old.yml": false, "README.md": true, ".git/x.yaml": true, "kb.yaml": true, "shipping.yaml": true} {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != exists {
			t.Errorf("%s exists: %v, want %v", name, err == nil, exists)
		}
	}
	// Writing again changes nothing, and entries without a File go to the defaults.
	shipping, _ := os.ReadFile(filepath.Join(dir, "shipping.yaml"))
	for i := range b.Intents {
		b.Intents[i].File = ""
	}
	if err := kb.WriteDir(dir, b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "intents.yaml")); err != nil {
		t.Error(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "shipping.yaml")); bytes.Contains(again, []byte("intents:")) || !bytes.Contains(shipping, []byte("intents:")) {
		t.Errorf("shipping.yaml after moving intents out:\n%s", again)
	}
	empty := filepath.Join(t.TempDir(), "new")
	if err := kb.WriteDir(empty, &kb.Base{}); err != nil {
		t.Fatal(err)
	}
	if b, err := kb.LoadDir(os.DirFS(empty)); err != nil || !reflect.DeepEqual(b, &kb.Base{}) {
		t.Errorf("empty Base round trip: %#v, %v", b, err)
	}
	if err := kb.WriteDir(dir, &kb.Base{Intents: []kb.Intent{{Name: "x"}}}); !errors.Is(err, kb.ErrInvalid) {
		t.Errorf("WriteDir(invalid) = %v", err)
	}
}

func TestYAMLReadable(t *testing.T) {
	b := mustParse(t, "small.yaml", small)
	b.Intents[0].Answers["en"] = kb.Answer{Text: strings.TrimSpace(strings.Repeat("A long answer. ", 6)) + "\nSecond line."}
	data, err := b.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\n\nintents:\n  - name: greeting\n",
		"      en: |-\n        A long answer.",
		"        choices:\n          - Hvor er pakken?\n          - {label: Snakk med oss, value: menneske}\n",
		"\n\n  - name: agent.request\n    action: handoff\n    handoff: {skill: general, priority: 3}\n",
		"\n\nfaq:\n  - id: gift-cards\n    tags: [payment]\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("YAML lacks %q:\n%s", want, data)
		}
	}
	back := mustParse(t, "small.yaml", string(data))
	if !reflect.DeepEqual(b, back) {
		t.Error("ParseFile(YAML(b)) != b")
	}
}

func TestDiff(t *testing.T) {
	a := mustParse(t, "small.yaml", small)
	if d := kb.Diff(a, a.Clone()); len(d) != 0 {
		t.Errorf("Diff of equal bases: %v", d)
	}
	b := a.Clone()
	b.Languages = append(b.Languages, "sv")
	g, _ := b.Intent("greeting")
	g.Examples["en"] = append(g.Examples["en"], "hey")
	g.Answers["sv"] = kb.Answer{Text: "Hej!"}
	b.Intents = b.Intents[:1] // agent.request removed
	b.FAQs = append(b.FAQs, kb.FAQ{ID: "warranty", Answers: map[string]kb.Answer{"en": {Text: "2 years."}}})
	b.FAQs[0], b.FAQs[1] = b.FAQs[1], b.FAQs[0] // order alone is no change

	got := kb.Diff(a, b)
	want := []kb.Change{
		{Kind: kb.Changed, Entry: "languages", Lines: []string{"- languages: [en, nb]", "+ languages: [en, nb, sv]"}},
		{Kind: kb.Removed, Entry: "intent", Name: "agent.request", Lines: []string{
			"- # small.yaml", "- name: agent.request", "- action: handoff", "- handoff: {skill: general, priority: 3}",
			"- examples:", "-   en:", "-     - agent please", "-   nb:", "-     - menneske"}},
		{Kind: kb.Changed, Entry: "intent", Name: "greeting", Fields: []string{"examples.en", "answers.sv"}, Lines: []string{
			"…", "      - hi", "      - hello", "+     - hey", "    nb:", "      - hei",
			"…", "        - Hvor er pakken?", "        - {label: Snakk med oss, value: menneske}", "+   sv: Hej!"}},
		{Kind: kb.Added, Entry: "faq", Name: "warranty", Lines: []string{"+ id: warranty", "+ answers:", "+   en: 2 years."}},
	}
	if !reflect.DeepEqual(got, want) {
		var s []string
		for _, c := range got {
			s = append(s, c.String())
		}
		t.Errorf("Diff:\n%s\nwant %#v", strings.Join(s, "\n"), want)
	}
	if s := want[2].String(); !strings.HasPrefix(s, "changed intent greeting (examples.en, answers.sv)\n…\n      - hi\n") {
		t.Errorf("String() = %q", s)
	}
	if d := kb.Diff(nil, a); len(d) != 4 || d[0].Kind != kb.Added {
		t.Errorf("Diff(nil, a) = %v", d)
	}
}
