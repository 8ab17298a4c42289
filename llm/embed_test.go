package llm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/kb"
	"github.com/supportbot/supportbot/internal/fakeopenai"
	"github.com/supportbot/supportbot/store/embedded"
)

func smallBase() *kb.Base {
	return &kb.Base{FAQs: []kb.FAQ{
		{ID: "returns", Questions: map[string][]string{"en": {"how do I return an item"}},
			Answers: map[string]kb.Answer{"en": {Text: "Return items within 60 days."}, "nb": {Text: "Retur innen 60 dager."}}},
		{ID: "warranty", Questions: map[string][]string{"en": {"is there a warranty"}},
			Answers: map[string]kb.Answer{"en": {Text: "Electronics have a 2-year warranty."}}},
	}}
}

// TestEmbeddingsAreCachedAndRecomputedOnlyForEditedEntries: a second
// process reuses the store's vectors; editing one entry embeds only it.
func TestEmbeddingsAreCachedAndRecomputedOnlyForEditedEntries(t *testing.T) {
	st, err := embedded.Open(t.TempDir()+"/s.db", embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := fakeopenai.New(t)
	ctx := context.Background()
	base := smallBase()
	a := newClient(t, f, nil, nil, WithStore(st))
	if err := a.Prepare(ctx, base, 1); err != nil {
		t.Fatal(err)
	}
	if n := len(f.EmbeddedInputs()); n != 3 { // returns|en, returns|nb, warranty|en
		t.Fatalf("embedded %d texts, want 3", n)
	}
	b := newClient(t, f, nil, nil, WithStore(st)) // a restart, or another replica
	if err := b.Prepare(ctx, base, 1); err != nil {
		t.Fatal(err)
	}
	if n := len(f.EmbeddedInputs()); n != 3 {
		t.Fatalf("cached vectors recomputed: %d texts embedded", n)
	}
	edited := smallBase()
	edited.FAQs[1].Answers["en"] = kb.Answer{Text: "Electronics have a 3-year warranty."}
	if err := b.Prepare(ctx, edited, 2); err != nil {
		t.Fatal(err)
	}
	in := f.EmbeddedInputs()
	if len(in) != 4 || !strings.Contains(in[3], "3-year") {
		t.Fatalf("after one edit embedded %q", in[3:])
	}
	c := newClient(t, f, nil, func(c *Config) { c.EmbeddingModel = "other-model" }, WithStore(st))
	if err := c.Prepare(ctx, edited, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(f.EmbeddedInputs()); n != 7 {
		t.Fatalf("a new model must recompute every vector: %d embedded", n)
	}
}

func TestSemanticSimilarRanksAndBuildsInTheBackground(t *testing.T) {
	f := fakeopenai.New(t)
	c := newClient(t, f, nil, nil)
	s, err := intents.Compile(context.Background(), smallBase(), 7)
	if err != nil {
		t.Fatal(err)
	}
	sem := c.Semantic()
	if _, err := sem.Similar(context.Background(), s, "warranty"); !errors.Is(err, ErrNotReady) {
		t.Fatalf("first call: %v, want ErrNotReady (building)", err)
	}
	waitFor(t, func() bool { idx := c.sem.Load(); return idx != nil && idx.version == 7 })
	sims, err := sem.Similar(context.Background(), s, "does the warranty cover electronics")
	if err != nil {
		t.Fatal(err)
	}
	if sims["faq:warranty"] <= sims["faq:returns"] {
		t.Fatalf("similarities %v", sims)
	}
	if newClient(t, f, nil, func(c *Config) { c.EmbeddingModel = "" }).Semantic() != nil {
		t.Fatal("Semantic without an embedding model")
	}
}

func TestBlend(t *testing.T) {
	off := []classify.Hit{{ID: "a", Score: 2}, {ID: "b", Score: 1.8}, {ID: "c", Score: 0.2}}
	got := Blend(off, map[string]float64{"a": 0.1, "b": 0.9, "c": 0.3}, 0.5)
	if got[0].ID != "b" || got[1].ID != "a" {
		t.Fatalf("blended %v", got)
	}
	if got := Blend(off, nil, 0); got[0].ID != "a" || got[0].Score != 1 {
		t.Fatalf("weight 0 must keep the offline order: %v", got)
	}
}

func TestRouterUsesSemanticSources(t *testing.T) {
	f := fakeopenai.New(t)
	f.OnChat(func(r fakeopenai.Request) fakeopenai.Response {
		return fakeopenai.Response{Content: "NO_ANSWER"}
	})
	c := newClient(t, f, nil, nil)
	r := newRouter(t, intents.Config{}, c.Grounder(), c.Semantic())
	if err := c.Prepare(context.Background(), r.Snapshot().Base, r.Snapshot().Version); err != nil {
		t.Fatal(err)
	}
	r.turn(t, warrantyQ)
	var embeds int
	for _, q := range f.Requests() {
		if q.Embed != nil {
			embeds++
		}
	}
	if embeds < 2 || len(f.Chats()) != 1 || !strings.Contains(f.Chats()[0].Text(), "faq:product.warranty") {
		t.Fatalf("%d embedding requests, chats %d", embeds, len(f.Chats()))
	}
}
