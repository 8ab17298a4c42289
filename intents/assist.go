package intents

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents/kb"
)

// Assistant is an optional language model (package llm) that writes an
// answer from knowledge-base entries when the offline router is unsure.
// It returns an error wrapping ErrUngrounded when its answer failed the
// grounding check, and any other error when it could not answer (down,
// slow, limited): the router then keeps its offline decision.
type Assistant interface {
	Answer(ctx context.Context, q AssistRequest) (AssistReply, error)
}

// Ranker is optional semantic retrieval: the similarity (0..1) of text to
// knowledge-base entries, keyed like Decision.Intent ("faq:ID" or an
// intent name). Entries it leaves out count as 0.
type Ranker interface {
	Similar(ctx context.Context, s *Snapshot, text string) (map[string]float64, error)
}

// ErrUngrounded is wrapped by an Assistant whose answer was rejected.
var ErrUngrounded = errors.New("the model's answer is not grounded in the knowledge base")

// Source is one knowledge-base entry given to the Assistant.
type Source struct {
	ID        string  `json:"id"` // "faq:ID" or an intent name
	Title     string  `json:"title,omitempty"`
	Text      string  `json:"text"` // the answer, with its links, in Lang
	Lang      string  `json:"lang"`
	Relevance float64 `json:"relevance"`
}

// AssistRequest is what the Assistant answers.
type AssistRequest struct {
	Conv    bot.ConversationID
	Lang    string // the customer's language: answer in it
	Text    string // the customer's message
	Sources []Source
}

// AssistReply is a grounded answer: its text (citations stripped) and the
// IDs of the sources it cited.
type AssistReply struct {
	Text  string
	Cited []string
}

// AssistOptions tune when the Assistant is asked.
type AssistOptions struct {
	MinRelevance   float64 // least relevance (0..1) of an entry to be a source; default 0.3
	MaxSources     int     // default 3
	SemanticWeight float64 // weight of the Ranker's similarity in the blend; default 0.5
}

type assistHook struct {
	a    Assistant
	rank Ranker
	opts AssistOptions
}

// SetAssistant makes the router ask a (and rank with rk, which may be nil)
// when it is unsure: on the suggest, low_confidence and out_of_scope paths,
// if retrieval found relevant entries. Call it before the router handles
// messages. A nil a turns it off.
func (r *Router) SetAssistant(a Assistant, rk Ranker, o AssistOptions) {
	if a == nil {
		r.assist = nil
		return
	}
	if o.MinRelevance <= 0 {
		o.MinRelevance = 0.3
	}
	if o.MaxSources <= 0 {
		o.MaxSources = 3
	}
	if o.SemanticWeight <= 0 || o.SemanticWeight > 1 {
		o.SemanticWeight = 0.5
	}
	r.assist = &assistHook{a: a, rank: rk, opts: o}
}

// unsure reports whether d is a decision the Assistant may improve.
func unsure(d Decision) bool {
	return d.Action == "suggest" ||
		d.Action == "handoff" && (d.Reason == bot.ReasonLowConfidence || d.Reason == bot.ReasonOutOfScope)
}

// assisted asks the Assistant when d is unsure and answers the customer
// with its grounded answer (true). Otherwise d stands, except that a
// handoff after a rejected answer gets reason llm_ungrounded.
func (r *Router) assisted(ctx context.Context, t *bot.Turn, s *Snapshot, d *Decision) bool {
	h := r.assist
	if h == nil || !unsure(*d) {
		return false
	}
	srcs := r.sources(ctx, h, s, *d, t.Msg.Text)
	if len(srcs) == 0 {
		return false
	}
	rep, err := h.a.Answer(ctx, AssistRequest{Conv: t.Conv.ID, Lang: d.Lang, Text: t.Msg.Text, Sources: srcs})
	if errors.Is(err, ErrUngrounded) {
		t.Record(bot.Event{Type: "llm_rejected", Text: t.Msg.Text, Reason: bot.ReasonLLMUngrounded, Intent: d.Intent,
			Meta: map[string]string{"why": err.Error()}})
		d.Why += "; the model's answer was rejected (" + err.Error() + ")"
		if d.Action == "handoff" {
			d.Reason = bot.ReasonLLMUngrounded
		}
		return false
	}
	if err != nil || len(rep.Cited) == 0 || strings.TrimSpace(rep.Text) == "" {
		if err != nil {
			t.Log.Debug("assistant did not answer; the offline decision stands", "err", err)
		}
		return false
	}
	c := t.Conv
	d.Why = fmt.Sprintf("grounded model answer citing %s (offline: %s %s)", strings.Join(rep.Cited, ", "), d.Action, d.Why)
	d.Action, d.Reason = "answer", ""
	d.Intent, d.Confidence = rep.Cited[0], srcs[0].Relevance
	c.Intent, c.Score, c.Misses = d.Intent, d.Confidence, 0
	meta := map[string]string{"explain": d.String(), "llm": "grounded", "sources": strings.Join(rep.Cited, ",")}
	t.Record(bot.Event{Type: "message", Intent: d.Intent, Value: d.Confidence, Meta: map[string]string{"action": "answer", "llm": "grounded"}})
	var b strings.Builder
	b.WriteString(rep.Text)
	for _, id := range rep.Cited {
		if a, _, err := s.Base.Answer(strings.TrimPrefix(id, "faq:"), d.Lang); err == nil {
			for _, l := range a.Links {
				if !strings.Contains(b.String(), l.URL) {
					fmt.Fprintf(&b, "\n%s: %s", l.Label, l.URL)
				}
			}
		}
	}
	c.Tried = append(c.Tried, rep.Cited...)
	if len(c.Tried) > 20 {
		c.Tried = c.Tried[len(c.Tried)-20:]
	}
	t.Record(bot.Event{Type: "answered", Intent: d.Intent, Value: d.Confidence, Meta: map[string]string{"llm": "grounded"}})
	t.Reply(bot.Reply{Kind: bot.KindAnswer, Text: r.localize(c, b.String()), Lang: d.Lang, Meta: meta,
		Choices: []bot.Choice{{Label: r.localize(c, text("human", d.Lang)), Value: "human"}}})
	return true
}

// sources ranks the entries that may answer text: FAQ retrieval (the
// share of the question's terms an entry covers) and the classifier's top
// labels, blended with the Ranker's similarity when there is one.
func (r *Router) sources(ctx context.Context, h *assistHook, s *Snapshot, d Decision, text string) []Source {
	rel := map[string]float64{}
	if s.faq != nil {
		for _, hit := range s.faq.retr.Search(text, 5) {
			if hit.Score > 0 {
				rel[hit.ID] = max(rel[hit.ID], s.faq.coverOf(d.Lang, text, hit.ID))
			}
		}
	}
	for _, sc := range d.Top {
		if answerable(s.Base, sc.Label) {
			rel[sc.Label] = max(rel[sc.Label], sc.Prob)
		}
	}
	if h.rank != nil {
		if sims, err := h.rank.Similar(ctx, s, text); err == nil && len(sims) > 0 {
			w := h.opts.SemanticWeight
			for id := range rel {
				rel[id] *= 1 - w
			}
			for id, sim := range sims {
				if answerable(s.Base, id) {
					rel[id] += w * min(max(sim, 0), 1)
				}
			}
		}
	}
	ids := make([]string, 0, len(rel))
	for id, v := range rel {
		if v >= h.opts.MinRelevance && answerable(s.Base, id) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if rel[ids[i]] != rel[ids[j]] {
			return rel[ids[i]] > rel[ids[j]]
		}
		return ids[i] < ids[j]
	})
	var out []Source
	for _, id := range ids[:min(len(ids), h.opts.MaxSources)] {
		a, got, err := s.Base.Answer(strings.TrimPrefix(id, "faq:"), d.Lang)
		if err != nil {
			continue
		}
		var b strings.Builder
		b.WriteString(a.Text)
		for _, l := range a.Links {
			fmt.Fprintf(&b, "\n%s: %s", l.Label, l.URL)
		}
		if f, ok := s.Base.FAQ(strings.TrimPrefix(id, "faq:")); ok && strings.HasPrefix(id, "faq:") && f.Link != "" {
			fmt.Fprintf(&b, "\n%s", f.Link)
		}
		out = append(out, Source{ID: id, Title: r.title(s, id, d.Lang), Text: b.String(), Lang: got, Relevance: rel[id]})
	}
	return out
}

// answerable reports whether label names an entry that answers (an FAQ
// entry, or an intent whose action is answer) and has an answer.
func answerable(b *kb.Base, label string) bool {
	if id, ok := strings.CutPrefix(label, "faq:"); ok {
		f, found := b.FAQ(id)
		return found && len(f.Answers) > 0
	}
	in, ok := b.Intent(label)
	return ok && in.Action == kb.ActionAnswer && len(in.Answers) > 0
}
