package kb_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/supportbot/supportbot/intents/kb"
)

// loadStarter loads the knowledge base shipped in /kb.
func loadStarter(t *testing.T) *kb.Base {
	t.Helper()
	b, err := kb.LoadDir(os.DirFS("../../kb"))
	if err != nil {
		t.Fatalf("load ../../kb:\n%v", err)
	}
	return b
}

func fold(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// exampleOf returns the intents that have text as an example in lang,
// ignoring case and punctuation.
func exampleOf(b *kb.Base, lang, text string) []string {
	var names []string
	for _, in := range b.Intents {
		for _, e := range in.Examples[lang] {
			if fold(e) == fold(text) {
				names = append(names, in.Name)
				break
			}
		}
	}
	return names
}

func TestStarterKB(t *testing.T) {
	b := loadStarter(t)
	want := []string{"en", "nb", "sv", "sr"}
	if !slices.Equal(b.Languages, want) {
		t.Errorf("Languages = %v, want %v", b.Languages, want)
	}
	if n := len(b.Intents); n < 12 || n > 20 {
		t.Errorf("%d intents, want 12-20", n)
	}
	if n := len(b.FAQs); n < 5 || n > 10 {
		t.Errorf("%d FAQ entries, want 5-10", n)
	}
	if lint := b.Lint(); len(lint) > 0 {
		t.Errorf("Lint:\n%s", strings.Join(lint, "\n"))
	}
	actions := map[kb.Action]int{}
	for _, in := range b.Intents {
		actions[in.Action]++
		for _, l := range want {
			if _, ok := in.Answers[l]; !ok {
				t.Errorf("intent %s: no answer in %s", in.Name, l)
			}
			if n := len(in.Examples[l]); n < 10 {
				t.Errorf("intent %s: %d examples in %s, want 10 or more", in.Name, n, l)
			}
		}
		var latin, cyrillic int
		for _, e := range in.Examples["sr"] {
			if strings.ContainsFunc(e, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) {
				cyrillic++
			} else {
				latin++
			}
		}
		if latin < 5 || cyrillic < 5 {
			t.Errorf("intent %s: %d Latin and %d Cyrillic Serbian examples, want 5 or more of each", in.Name, latin, cyrillic)
		}
		for l, a := range in.Answers {
			if l == "sr" && strings.ContainsFunc(a.Text, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) {
				t.Errorf("intent %s: Serbian answer should be in Latin script", in.Name)
			}
		}
	}
	if actions[kb.ActionHandoff] == 0 || actions[kb.ActionEscalate] == 0 {
		t.Errorf("actions %v: want a handoff and an escalate intent", actions)
	}
	answerOnly := 0
	for _, f := range b.FAQs {
		if len(f.Questions) == 0 {
			answerOnly++
		}
		for _, l := range want {
			if _, ok := f.Answers[l]; !ok {
				t.Errorf("faq %s: no answer in %s", f.ID, l)
			}
		}
	}
	if answerOnly == 0 {
		t.Error("want an FAQ entry with an answer but no questions")
	}
}

// The messages the starter KB must handle are examples of the right intent.
func TestStarterKBMustHandle(t *testing.T) {
	b := loadStarter(t)
	for _, tc := range []struct{ lang, text, intent string }{
		{"en", "hi", "greeting"},
		{"en", "hello", "greeting"},
		{"nb", "hei", "greeting"},
		{"sv", "hej", "greeting"},
		{"sr", "zdravo", "greeting"},
		{"sr", "здраво", "greeting"},
		{"en", "how long does shipping take?", "shipping.time"},
		{"nb", "hvor lang tid tar frakten?", "shipping.time"},
		{"sr", "како да вратим производ?", "returns.how"},
		{"sr", "kako da vratim proizvod?", "returns.how"},
		{"sv", "hur returnerar jag en vara?", "returns.how"},
		{"en", "where is my order", "order.status"},
		{"en", "I forgot my password", "account.password"},
		{"nb", "jeg vil snakke med et menneske", "agent.request"},
	} {
		if got := exampleOf(b, tc.lang, tc.text); !slices.Equal(got, []string{tc.intent}) {
			t.Errorf("%s %q is an example of %v, want [%s]", tc.lang, tc.text, got, tc.intent)
		}
	}
	if in, _ := b.Intent("agent.request"); in.Action != kb.ActionHandoff {
		t.Errorf("agent.request action %q, want handoff", in.Action)
	}
	if in, _ := b.Intent("complaint"); in.Action != kb.ActionEscalate || in.Handoff == nil || in.Handoff.Priority == 0 {
		t.Errorf("complaint: action %q, handoff %+v; want escalate with a priority", in.Action, in.Handoff)
	}
}

// A button sends its value as the customer's next message, so every value
// must be an example of exactly one intent in the answer's language.
func TestStarterKBChoicesAreExamples(t *testing.T) {
	b := loadStarter(t)
	for _, in := range b.Intents {
		for l, a := range in.Answers {
			for _, c := range a.Choices {
				if got := exampleOf(b, l, c.Value); len(got) != 1 {
					t.Errorf("intent %s: %s choice %q is an example of %v, want exactly one intent", in.Name, l, c.Value, got)
				}
			}
		}
	}
}

// The YAML snippets of kb/README.md parse.
func TestStarterReadme(t *testing.T) {
	data, err := os.ReadFile("../../kb/README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := strings.Split(string(data), "```yaml\n")[1:]
	if len(snippets) == 0 {
		t.Fatal("no YAML snippets in kb/README.md")
	}
	for i, s := range snippets {
		s, _, _ = strings.Cut(s, "```")
		if _, err := kb.ParseFile(fmt.Sprintf("README.md#%d", i+1), []byte(s)); err != nil {
			t.Error(err)
		}
	}
}
