package intents_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/intents/kb"
	"github.com/supportbot/supportbot/store/embedded"
)

var (
	starterOnce sync.Once
	starter     *intents.Snapshot
	starterErr  error
)

// starterKB compiles the repo's starter knowledge base once.
func starterKB(t *testing.T) *intents.Snapshot {
	t.Helper()
	starterOnce.Do(func() {
		var base *kb.Base
		if base, starterErr = kb.LoadDir(os.DirFS("../kb")); starterErr == nil {
			starter, starterErr = intents.Compile(context.Background(), base, 1)
		}
	})
	if starterErr != nil {
		t.Fatal(starterErr)
	}
	return starter
}

type handoffCall struct {
	reason   bot.Reason
	priority int
}

func newRouter(t *testing.T, s *intents.Snapshot) (*intents.Router, *[]handoffCall) {
	var calls []handoffCall
	r := intents.New(intents.Config{}, func(_ context.Context, tr *bot.Turn, reason bot.Reason, _, _ string, prio int) error {
		calls = append(calls, handoffCall{reason, prio})
		return tr.Conv.Transition(bot.StateQueued, reason, "", tr.Now)
	}, slog.New(slog.DiscardHandler))
	r.Use(s)
	return r, &calls
}

// say runs one customer message through the router in conversation c.
func say(t *testing.T, r *intents.Router, c *bot.Conversation, text string) []bot.Reply {
	t.Helper()
	tr := &bot.Turn{Conv: c, Msg: bot.Message{Text: text, Role: bot.RoleCustomer}, Now: time.Now(), Log: slog.New(slog.DiscardHandler)}
	if err := r.Handle(context.Background(), tr); err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return tr.Replies()
}

func newConv() *bot.Conversation {
	return bot.NewConversation(bot.Address{Channel: "test", Room: "r"}, bot.Customer{ID: "test:1"}, time.Now())
}

func TestAnswersInTheCustomersLanguage(t *testing.T) {
	r, _ := newRouter(t, starterKB(t))
	tests := []struct{ text, intent, lang, want string }{
		{"how long does shipping take?", "shipping.time", "en", "business day"},
		{"hvor lang tid tar frakten?", "shipping.time", "nb", "virkedag"},
		{"hur lång tid tar frakten?", "shipping.time", "sv", "vardag"},
		{"koliko traje dostava?", "shipping.time", "sr", "radn"},
		{"колико траје достава?", "shipping.time", "sr", "радн"},
		{"I forgot my password", "account.password", "en", ""},
		{"where is my order", "order.status", "en", ""},
		{"hur returnerar jag en vara?", "returns.how", "sv", "60"},
		{"kako da vratim proizvod?", "returns.how", "sr", "60 dana"},
		{"како да вратим производ?", "returns.how", "sr", "60 дана"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			c := newConv()
			reps := say(t, r, c, tc.text)
			if c.Intent != tc.intent || c.Lang != tc.lang {
				t.Fatalf("intent %q lang %q, want %q %q", c.Intent, c.Lang, tc.intent, tc.lang)
			}
			if len(reps) != 1 || reps[0].Kind != bot.KindAnswer || !strings.Contains(reps[0].Text, tc.want) {
				t.Errorf("replies %+v, want one answer containing %q", reps, tc.want)
			}
		})
	}
}

func TestCyrillicCustomersReadCyrillic(t *testing.T) {
	r, _ := newRouter(t, starterKB(t))
	c := newConv()
	rep := say(t, r, c, "колико кошта достава?")[0]
	cyr, lat := 0, 0
	for _, ch := range rep.Text {
		if unicode.Is(unicode.Cyrillic, ch) {
			cyr++
		} else if ch < 128 && unicode.IsLetter(ch) {
			lat++
		}
	}
	if cyr < 3*lat/2 {
		t.Errorf("answer mostly Latin (%d Cyrillic, %d Latin letters): %q", cyr, lat, rep.Text)
	}
	if !strings.Contains(rep.Text, "https://") {
		t.Errorf("links must stay Latin: %q", rep.Text)
	}
}

func TestAHumanIsOneWordAwayInEveryLanguage(t *testing.T) {
	r, calls := newRouter(t, starterKB(t))
	for _, text := range []string{"human", "agent", "real person please", "I want to talk to a person",
		"menneske", "jeg vil snakke med et menneske", "människa", "kan jag prata med en människa?",
		"čovek", "човек", "želim da razgovaram sa čovekom", "mensch bitte", "un humain svp", "quiero hablar con un humano"} {
		*calls = nil
		c := newConv()
		say(t, r, c, text)
		if len(*calls) != 1 || (*calls)[0].reason != bot.ReasonRequested {
			t.Errorf("%q: handoffs %+v, want one with reason requested", text, *calls)
		}
	}
}

func TestShortMessagesKeepTheConversationLanguage(t *testing.T) {
	r, _ := newRouter(t, starterKB(t))
	c := newConv()
	say(t, r, c, "hvor lang tid tar frakten?")
	for _, short := range []string{"ok", "hi", "takk", "?"} {
		say(t, r, c, short)
		if c.Lang != "nb" {
			t.Errorf("after %q the language flipped to %q", short, c.Lang)
		}
	}
}

func TestOutOfScopeAndComplaintsHandOffWithReasons(t *testing.T) {
	r, calls := newRouter(t, starterKB(t))
	tests := []struct {
		text    string
		reasons []bot.Reason
	}{
		{"what is the capital of mongolia and its population", []bot.Reason{bot.ReasonOutOfScope, bot.ReasonLowConfidence}},
		{"I want to file a formal complaint, this is the worst service ever", []bot.Reason{bot.ReasonComplaint}},
		{"jeg vil klage, dette er helt uakseptabelt", []bot.Reason{bot.ReasonComplaint}},
	}
	for _, tc := range tests {
		*calls = nil
		c := newConv()
		reps := say(t, r, c, tc.text)
		if len(*calls) != 1 {
			t.Errorf("%q: no handoff; replies %+v", tc.text, reps)
			continue
		}
		got := (*calls)[0]
		ok := false
		for _, want := range tc.reasons {
			ok = ok || got.reason == want
		}
		if !ok {
			t.Errorf("%q: reason %s, want one of %v", tc.text, got.reason, tc.reasons)
		}
		if got.reason == bot.ReasonComplaint && got.priority == 0 {
			t.Errorf("%q: a complaint must raise the priority", tc.text)
		}
	}
}

func TestRepeatedMissesHandOff(t *testing.T) {
	r, calls := newRouter(t, starterKB(t))
	c := newConv()
	say(t, r, c, "how long does shipping take?")
	say(t, r, c, "that didn't help")
	say(t, r, c, "it still did not help at all")
	if len(*calls) != 1 || (*calls)[0].reason != bot.ReasonRepeatedFailure {
		t.Errorf("handoffs %+v, want one repeated_failure", *calls)
	}
}

func TestAnswerOnlyFAQIsFoundByRetrieval(t *testing.T) {
	r, _ := newRouter(t, starterKB(t))
	tests := []struct{ text, id string }{
		{"can I pick up my order at your warehouse or physical store?", "faq:shipping.pickup"},
		{"how long is the warranty against defects?", "faq:product.warranty"},
	}
	for _, tc := range tests {
		d, err := r.Explain(tc.text, "en", 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != "answer" || d.Intent != tc.id {
			t.Errorf("%q: %s", tc.text, d)
		}
	}
}

func TestChoiceButtonsRouteDirectly(t *testing.T) {
	r, _ := newRouter(t, starterKB(t))
	c := newConv()
	reps := say(t, r, c, "intent:shipping.cost")
	if c.Intent != "shipping.cost" || len(reps) != 1 || reps[0].Kind != bot.KindAnswer {
		t.Errorf("intent %q, replies %+v", c.Intent, reps)
	}
}

func TestMissingTranslationFallsBackPolitely(t *testing.T) {
	base := &kb.Base{Intents: []kb.Intent{
		{Name: "hours", Action: kb.ActionAnswer,
			Examples: map[string][]string{"en": {"when are you open", "opening hours", "what are your hours"},
				"nb": {"når har dere åpent", "åpningstider", "hva er åpningstidene"}},
			Answers: map[string]kb.Answer{"en": {Text: "We are open 9-17."}}},
		{Name: "price", Action: kb.ActionAnswer,
			Examples: map[string][]string{"en": {"how much does it cost", "what is the price", "price list"},
				"nb": {"hva koster det", "hva er prisen", "prisliste"}},
			Answers: map[string]kb.Answer{"en": {Text: "It costs 10."}}},
	}}
	s, err := intents.Compile(context.Background(), base, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newRouter(t, s)
	c := newConv()
	reps := say(t, r, c, "når har dere åpent i dag?")
	if len(reps) != 1 || !strings.Contains(reps[0].Text, "We are open") || !strings.Contains(reps[0].Text, "på English") {
		t.Errorf("replies %+v, want the English answer with a polite Norwegian note", reps)
	}
}

// syncedRouter is a router synced with a store seeded with the starter
// knowledge base.
func syncedRouter(t *testing.T) (*intents.Router, *embedded.Store) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kb.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if ok, err := intents.Seed(ctx, st, os.DirFS("../kb")); !ok || err != nil {
		t.Fatalf("seed: %v %v", ok, err)
	}
	r, _ := newRouter(t, starterKB(t))
	r.Use(nil)
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	return r, st
}

func TestKnowledgeBaseEditIsLiveWithoutRestart(t *testing.T) {
	ctx := context.Background()
	r, st := syncedRouter(t)
	d, _ := st.Doc(ctx, intents.KBDoc)
	base, _ := kb.ParseJSON(d.Data)
	in, _ := base.Intent("shipping.cost")
	a := in.Answers["en"]
	a.Text = "Shipping is free this week only."
	in.Answers["en"] = a
	if _, err := intents.Publish(ctx, st, base, d.Version, "admin", "promo"); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if reps := say(t, r, newConv(), "how much is shipping?"); len(reps) != 1 || !strings.Contains(reps[0].Text, "free this week") {
		t.Errorf("after the edit the answer is %+v", reps)
	}
	bad := base.Clone()
	bad.Intents[0].Name = ""
	if _, err := intents.Publish(ctx, st, bad, d.Version+1, "admin", "broken"); err == nil {
		t.Error("an invalid knowledge base was published")
	}
	if v, _ := st.DocVersion(ctx, intents.KBDoc); v != d.Version+1 {
		t.Errorf("version %d after a rejected edit, want %d", v, d.Version+1)
	}
}

// TestEditGoesLiveWithAnInterimModel: an edit of the knowledge base in use
// is answered at once by an interim model trained from the one in use, and
// the next sync replaces it with a model trained from scratch.
func TestEditGoesLiveWithAnInterimModel(t *testing.T) {
	ctx := context.Background()
	r, st := syncedRouter(t)
	if s := r.Snapshot(); s.Interim {
		t.Fatal("the first knowledge base got an interim model")
	}
	d, _ := st.Doc(ctx, intents.KBDoc)
	base, _ := kb.ParseJSON(d.Data)
	base.Intents = append(base.Intents, kb.Intent{
		Name: "gift.wrap", Action: kb.ActionAnswer,
		Examples: map[string][]string{"en": {"can you gift wrap my order", "do you offer gift wrapping",
			"I want the parcel wrapped as a present", "is gift wrap available", "wrap it as a gift please"}},
		Answers: map[string]kb.Answer{"en": {Text: "Yes: tick \"gift wrap\" at checkout."}},
	})
	if _, err := intents.Publish(ctx, st, base, d.Version, "admin", "gift wrap"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		reps := say(t, r, newConv(), "do you gift wrap orders?")
		if len(reps) != 1 || !strings.Contains(reps[0].Text, "gift wrap") {
			t.Errorf("%s: the answer is %+v", when, reps)
		}
	}
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot(); !s.Interim || s.Version != d.Version+1 {
		t.Fatalf("after the edit: version %d, interim %v; want %d, interim", s.Version, s.Interim, d.Version+1)
	}
	check("interim model")
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot(); s.Interim || s.Version != d.Version+1 {
		t.Fatalf("after the next sync: version %d, interim %v; want %d, not interim", s.Version, s.Interim, d.Version+1)
	}
	check("model trained from scratch")
}

// TestNewerEditStopsTheRetrain: an edit published while the interim model
// of the one before is being replaced stops that retrain (its model would
// be stale), and gets an interim model of its own.
func TestNewerEditStopsTheRetrain(t *testing.T) {
	ctx := context.Background()
	r, st := syncedRouter(t)
	publish := func(note string) int64 {
		t.Helper()
		d, _ := st.Doc(ctx, intents.KBDoc)
		base, _ := kb.ParseJSON(d.Data)
		in, _ := base.Intent("shipping.cost")
		in.Examples["en"] = append(in.Examples["en"], "what does delivery cost, "+note)
		nd, err := intents.Publish(ctx, st, base, d.Version, "admin", note)
		if err != nil {
			t.Fatal(err)
		}
		return nd.Version
	}
	v2 := publish("second")
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	var v3 int64
	intents.SetBeforeExact(r, func(ctx context.Context) {
		v3 = publish("third")
		<-ctx.Done() // the retrain goes on only once it is stopped
	})
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot(); s.Version != v2 || !s.Interim {
		t.Fatalf("after the stopped retrain: v%d interim %v, want v%d still interim", s.Version, s.Interim, v2)
	}
	intents.SetBeforeExact(r, nil)
	if err := r.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot(); s.Version != v3 || !s.Interim {
		t.Fatalf("next sync: v%d interim %v, want v%d interim", s.Version, s.Interim, v3)
	}
}

func TestToCyrillic(t *testing.T) {
	tests := map[string]string{
		"Ljubljana i Njegoš džep":                         "Љубљана и Његош џеп",
		"Vratite u roku od 60 dana: https://x.example/sr": "Вратите у року од 60 дана: https://x.example/sr",
		"Pišite na info@shop.example ili WhatsApp":        "Пишите на info@shop.example или WhatsApp",
	}
	for in, want := range tests {
		if got := intents.ToCyrillic(in); got != want {
			t.Errorf("ToCyrillic(%q) = %q, want %q", in, got, want)
		}
	}
}

// cachedStarterKB compiles the starter KB with a model cache in a fresh
// directory and returns the snapshot and the one cache file it wrote.
func cachedStarterKB(t *testing.T) (*kb.Base, string, *intents.Snapshot, string) {
	t.Helper()
	base, err := kb.LoadDir(os.DirFS("../kb"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, err := intents.CompileCached(context.Background(), base, 1, dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "model-*.bin"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one model", files)
	}
	return base, dir, first, files[0]
}

func TestTrainedModelIsCachedAcrossRestarts(t *testing.T) {
	base, dir, first, file := cachedStarterKB(t)
	again, err := intents.CompileCached(context.Background(), base, 2, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"hvor lang tid tar frakten?", "I forgot my password", "tell me a joke"} {
		if a, b := first.Model.Decide(q), again.Model.Decide(q); a != b {
			t.Errorf("%q: trained %+v, cached %+v", q, a, b)
		}
	}
	if err := os.WriteFile(file, []byte("corrupt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := intents.CompileCached(context.Background(), base, 3, dir); err != nil {
		t.Errorf("a corrupt cache must only cost a retrain: %v", err)
	}
}

// A cached model cut short or with a flipped bit is retrained: the router
// decides as before and the cache holds the intact model again.
func TestDamagedModelCacheIsRetrained(t *testing.T) {
	base, dir, first, file := cachedStarterKB(t)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	for name, data := range map[string][]byte{"truncated": good[:len(good)-1], "bit flipped": flipped} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := intents.CompileCached(context.Background(), base, 2, dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, q := range []string{"hvor lang tid tar frakten?", "I forgot my password", "tell me a joke"} {
			if a, b := first.Model.Decide(q), again.Model.Decide(q); a != b {
				t.Errorf("%s: %q: trained %+v, after damage %+v", name, q, a, b)
			}
		}
		if now, _ := os.ReadFile(file); !bytes.Equal(now, good) {
			t.Errorf("%s: cache not repaired (%d bytes, want %d)", name, len(now), len(good))
		}
	}
}
