package handoff_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// dict is a Translator that knows a few sentences; anything else fails.
type dict struct {
	mu    sync.Mutex
	calls []string
	words map[string]string // "from>to:text" → translation
}

func (d *dict) Translate(_ context.Context, _ bot.ConversationID, text, from, to string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, from+">"+to+":"+text)
	if out, ok := d.words[from+">"+to+":"+text]; ok {
		return out, nil
	}
	return "", errors.New("model down")
}

type summary struct{ text string }

func (s summary) Summarize(context.Context, []bot.Message) (string, error) { return s.text, nil }

// TestTwoWayTranslationInTheRelay: the agent reads the customer in the
// agents' language and writes in it; the customer reads Norwegian; the
// transcript keeps both originals; the card shows both languages.
func TestTwoWayTranslationInTheRelay(t *testing.T) {
	bubble(t, func(t *testing.T) {
		tr := &dict{words: map[string]string{
			"nb>en:hvor er pakken min?":          "where is my parcel?",
			"en>nb:It left our warehouse today.": "Den forlot lageret vårt i dag.",
			"nb>en:takk":                         "thanks",
		}}
		r := newRig(t, handoff.Config{}, rigOpt{opts: []handoff.Option{handoff.WithTranslator(tr, "en"),
			handoff.WithSummarizer(summary{"Problem: parcel missing.\nTried: nothing yet.\nWants: the parcel."})}})
		r.lang["kari"] = "nb"
		r.send("kari", "human")
		ann := r.ws.For(r.id("kari"), "announce")
		if len(ann) != 1 || ann[0].Card.Lang != "nb" || ann[0].Card.AgentLang != "en" || !strings.HasPrefix(ann[0].Card.Summary, "Problem: parcel missing.") {
			t.Fatalf("announce %+v", ann)
		}
		a := r.agent("web:alice", "Alice", 2)
		if err := r.desk.Claim(ctx, r.id("kari"), a); err != nil {
			t.Fatal(err)
		}
		r.send("kari", "hvor er pakken min?")
		rel := r.ws.For(r.id("kari"), "relay")
		m := rel[len(rel)-1].Msg
		if m.Text != "where is my parcel?" || m.Original != "hvor er pakken min?" || m.Lang != "en" {
			t.Fatalf("agent sees %+v", m)
		}
		if err := r.desk.Reply(ctx, r.id("kari"), a, "It left our warehouse today."); err != nil {
			t.Fatal(err)
		}
		settle()
		if got := r.last("kari"); got != "Den forlot lageret vårt i dag." {
			t.Fatalf("customer reads %q", got)
		}
		var sent bot.Message
		var cust bot.Message
		for _, m := range r.transcript("kari") {
			if m.Role == bot.RoleAgent && m.Kind == bot.KindAgent {
				sent = m
			}
			if m.Role == bot.RoleCustomer && m.Text == "hvor er pakken min?" {
				cust = m
			}
		}
		if sent.Text != "Den forlot lageret vårt i dag." || sent.Original != "It left our warehouse today." || sent.Lang != "nb" {
			t.Fatalf("transcript keeps %+v", sent)
		}
		if cust.Text == "" {
			t.Fatal("the customer's original is not in the transcript")
		}
		// the model is down: both sides get the original text
		r.send("kari", "kan dere ringe meg?")
		rel = r.ws.For(r.id("kari"), "relay")
		if m := rel[len(rel)-1].Msg; m.Text != "kan dere ringe meg?" || m.Original != "" {
			t.Fatalf("untranslated relay %+v", m)
		}
		if err := r.desk.Reply(ctx, r.id("kari"), a, "Sure."); err != nil {
			t.Fatal(err)
		}
		settle()
		if got := r.last("kari"); got != "Sure." {
			t.Fatalf("customer reads %q", got)
		}
	})
}

// TestNoTranslationWhenLanguagesMatch: an English customer costs no calls.
func TestNoTranslationWhenLanguagesMatch(t *testing.T) {
	bubble(t, func(t *testing.T) {
		tr := &dict{}
		r := newRig(t, handoff.Config{}, rigOpt{opts: []handoff.Option{handoff.WithTranslator(tr, "en")}})
		r.lang["joe"] = "en"
		r.send("joe", "human")
		a := r.agent("web:alice", "Alice", 2)
		r.desk.Claim(ctx, r.id("joe"), a)
		r.send("joe", "hello?")
		r.desk.Reply(ctx, r.id("joe"), a, "Hi Joe")
		settle()
		if len(tr.calls) != 0 || r.last("joe") != "Hi Joe" {
			t.Fatalf("calls %v, last %q", tr.calls, r.last("joe"))
		}
		if k := r.ws.For(r.id("joe"), "announce")[0].Card; k.AgentLang != "en" || k.Lang != "en" {
			t.Fatalf("card langs %s/%s", k.Lang, k.AgentLang)
		}
	})
}
