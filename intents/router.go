package intents

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/kb"
	"github.com/supportbot/supportbot/intents/nlp"
	"github.com/supportbot/supportbot/intents/sentiment"
)

// Config tunes the decision policy. Zero values take the defaults.
type Config struct {
	DefaultLang string  // answer language when nothing else is known; default "en"
	AnswerAt    float64 // confidence to answer; 0 uses the classifier's calibrated threshold (at least 0.5)
	SuggestAt   float64 // top confidence to offer choices instead of handing off; default 0.15
	RetrieveAt  float64 // share of the message's terms an FAQ entry must cover to answer by retrieval; default 0.6
	MaxMisses   int     // unanswered turns in a row before a repeated_failure handoff; default 2
	ModelCache  string  // directory caching trained models, so restarts do not retrain; "" for none
}

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.DefaultLang == "" {
		c.DefaultLang = "en"
	}
	if c.SuggestAt <= 0 {
		c.SuggestAt = 0.15
	}
	if c.MaxMisses <= 0 {
		c.MaxMisses = 2
	}
	if c.RetrieveAt <= 0 {
		c.RetrieveAt = 0.6
	}
}

// HandoffFunc hands the conversation of t to a human (handoff.Desk.Handoff,
// wired in cmd so that intents and handoff stay independent).
type HandoffFunc func(ctx context.Context, t *bot.Turn, reason bot.Reason, skill, topic string, priority int) error

// Router is the bot.Handler that answers from the knowledge base or hands off.
// It is safe for concurrent use; Load swaps the knowledge base atomically.
type Router struct {
	cfg     Config
	handoff HandoffFunc
	log     *slog.Logger
	snap    atomic.Pointer[Snapshot]
	notices atomic.Pointer[[]Notice]

	noticesVersion atomic.Int64
	assist         *assistHook // optional language model (SetAssistant, assist.go)
	syncMu         sync.Mutex  // one Sync at a time
	// beforeExact, if set (tests), runs as exact starts to compile.
	beforeExact func(context.Context)
}

// New returns a Router with no knowledge base; call Load (or Run) first.
func New(cfg Config, handoff HandoffFunc, log *slog.Logger) *Router {
	cfg.SetDefaults()
	return &Router{cfg: cfg, handoff: handoff, log: log}
}

// Snapshot is one compiled version of the knowledge base.
type Snapshot struct {
	Base    *kb.Base
	Version int64
	Model   *classify.Model
	Detect  *nlp.Detector
	Trained time.Duration
	// Interim: the model was trained from the previous snapshot's
	// (classify.Options.Warm) to put an edit live fast; Sync replaces it
	// with one trained from scratch.
	Interim bool
	faq     *faqIndex
}

// Compile trains a classifier and language detector on base.
func Compile(ctx context.Context, base *kb.Base, version int64) (*Snapshot, error) {
	return CompileCached(ctx, base, version, "")
}

// CompileCached is Compile with a cache of trained models in dir ("" for
// none): a knowledge base whose examples were trained before is loaded
// instead of retrained, so a restart is fast.
func CompileCached(ctx context.Context, base *kb.Base, version int64, dir string) (*Snapshot, error) {
	return compileKB(ctx, base, version, dir, classify.Options{})
}

// compileKB is CompileCached, training a model not in the cache with opts;
// with opts.Warm, the snapshot may be Interim (classify.Model.Interim).
func compileKB(ctx context.Context, base *kb.Base, version int64, dir string, opts classify.Options) (*Snapshot, error) {
	start := time.Now()
	n, perLang := len(builtinOOS), map[string]int{}
	count := func(texts map[string][]string) {
		for lang, xs := range texts {
			n += len(xs)
			perLang[lang] += len(xs)
		}
	}
	for _, in := range base.Intents {
		count(in.Examples)
	}
	for _, f := range base.FAQs {
		count(f.Questions)
	}
	ex := make([]classify.Example, 0, n)
	byLang := make(map[string][]string, len(perLang))
	for lang, k := range perLang {
		byLang[lang] = make([]string, 0, k)
	}
	add := func(texts map[string][]string, label string) {
		for _, lang := range slices.Sorted(maps.Keys(texts)) { // deterministic training order
			for _, x := range texts[lang] {
				ex = append(ex, classify.Example{Text: x, Label: label, Lang: lang})
				byLang[lang] = append(byLang[lang], x)
			}
		}
	}
	for _, in := range base.Intents {
		add(in.Examples, in.Name)
	}
	for _, f := range base.FAQs {
		add(f.Questions, faqLabel(f.ID))
	}
	for _, x := range builtinOOS {
		ex = append(ex, classify.Example{Text: x, Label: classify.OOS})
	}
	// The three are independent: on two cores the detector and the FAQ
	// index cost nothing next to loading or training the model.
	s := &Snapshot{Base: base, Version: version}
	var g errgroup.Group
	g.Go(func() (err error) {
		if s.Model, s.Interim, err = trainCached(ctx, ex, dir, opts); err != nil {
			return fmt.Errorf("train on knowledge base v%d: %w", version, err)
		}
		return nil
	})
	g.Go(func() error { s.Detect = nlp.NewDetector(byLang); return nil })
	g.Go(func() error { s.faq = newFAQIndex(base); return nil })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s.Trained = time.Since(start)
	return s, nil
}

// trainCached trains on ex, or loads the model trained on the same
// examples from dir. A cache that cannot be read or written only costs a
// retrain. A model not in the cache is trained with opts; an interim one
// (opts.Warm) is not cached.
func trainCached(ctx context.Context, ex []classify.Example, dir string, opts classify.Options) (m *classify.Model, interim bool, err error) {
	path := ""
	if dir != "" {
		path = filepath.Join(dir, fmt.Sprintf("model-%x.bin", examplesKey(ex)))
		if m, err := readModel(path); err == nil {
			return m, false, nil
		}
	}
	m, err = classify.Train(ctx, ex, opts)
	if err != nil || m.Interim() || dir == "" {
		return m, err == nil && m.Interim(), err
	}
	if data, err := m.MarshalBinary(); err == nil && os.MkdirAll(dir, 0o700) == nil {
		tmp := path + ".tmp"
		if os.WriteFile(tmp, data, 0o600) == nil && os.Rename(tmp, path) == nil {
			old, _ := filepath.Glob(filepath.Join(dir, "model-*.bin"))
			for _, o := range old {
				if o != path {
					os.Remove(o)
				}
			}
		}
	}
	return m, false, nil
}

// examplesKey identifies the labelled texts of ex, in order.
func examplesKey(ex []classify.Example) []byte {
	h := sha256.New()
	b := make([]byte, 0, 512)
	for _, e := range ex {
		b = binary.AppendUvarint(b[:0], uint64(len(e.Label)))
		b = append(b, e.Label...)
		b = binary.AppendUvarint(b, uint64(len(e.Text)))
		h.Write(append(b, e.Text...))
	}
	return h.Sum(nil)[:12]
}

// readModel reads a model cached by trainCached.
func readModel(path string) (*classify.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return classify.ReadModel(f, fi.Size())
}

func faqLabel(id string) string { return "faq:" + id }

// Use installs a compiled snapshot.
func (r *Router) Use(s *Snapshot) { r.snap.Store(s) }

// Snapshot returns the knowledge base in use, or nil.
func (r *Router) Snapshot() *Snapshot { return r.snap.Load() }

// Decision is what the router decided for one message, and why.
type Decision struct {
	Lang       string            `json:"lang"`
	LangConf   float64           `json:"lang_confidence"`
	Intent     string            `json:"intent,omitempty"` // intent name or "faq:ID"
	Confidence float64           `json:"confidence"`
	Top        []classify.Scored `json:"top,omitempty"`
	Action     string            `json:"action"` // answer | suggest | handoff | clarify
	Reason     bot.Reason        `json:"reason,omitempty"`
	Why        string            `json:"why"`
	Sentiment  sentiment.Result  `json:"sentiment"`
	Skill      string            `json:"skill,omitempty"`
	Topic      string            `json:"topic,omitempty"`
	Priority   int               `json:"priority,omitempty"`
}

// String is the one-line explanation shown by `chat --explain`. Every
// answer carries it, so it is one concatenation: fmt would box each field.
func (d Decision) String() string {
	reason := ""
	if d.Reason != "" {
		reason = " [" + string(d.Reason) + "]"
	}
	var lc, c [24]byte
	return "lang=" + d.Lang + " (" + string(fixed2(lc[:0], d.LangConf)) + ") intent=" + orDash(d.Intent) +
		" (" + string(fixed2(c[:0], d.Confidence)) + ") → " + d.Action + reason + ": " + d.Why
}

// fixed2 appends x formatted as by %.2f.
func fixed2(b []byte, x float64) []byte { return strconv.AppendFloat(b, x, 'f', 2, 64) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ErrNoKnowledgeBase is returned before a knowledge base is loaded.
var ErrNoKnowledgeBase = errors.New("intents: no knowledge base loaded")

// Explain decides for text as if it were the next message of a
// conversation in language prev with misses unanswered turns ("Try it").
func (r *Router) Explain(text, prev string, misses int) (Decision, error) {
	s := r.snap.Load()
	if s == nil {
		return Decision{}, ErrNoKnowledgeBase
	}
	return r.decide(s, text, prev, misses, nil), nil
}

func (r *Router) decide(s *Snapshot, text, prev string, misses int, meta map[string]string) Decision {
	det := s.Detect.Analyze(text)
	d := Decision{LangConf: det.Confidence}
	d.Lang = nlp.Sticky(prev, det.Lang, det.Confidence, text)
	if d.Lang == "" {
		d.Lang = r.cfg.DefaultLang
	}
	tokens := nlp.Tokens(text)
	d.Sentiment = sentiment.Analyze(text)
	if meta["request"] == "human" {
		d.Action, d.Reason, d.Why = "handoff", bot.ReasonRequested, "the customer pressed the human button"
		return d
	}
	if name, ok := strings.CutPrefix(text, "intent:"); ok {
		if _, found := s.Base.Intent(name); found {
			d.Intent, d.Confidence = name, 1
		} else if _, found := s.Base.FAQ(strings.TrimPrefix(name, "faq:")); found && strings.HasPrefix(name, "faq:") {
			d.Intent, d.Confidence = name, 1
		}
		if d.Intent != "" {
			return r.act(s, d, "the customer chose it")
		}
	}
	if p, ok := wantsHuman(tokens); ok {
		d.Action, d.Reason, d.Why = "handoff", bot.ReasonRequested, fmt.Sprintf("rule: asked for a person (%q)", p)
		return d
	}
	if d.Sentiment.Complaint {
		d.Action, d.Reason, d.Priority = "handoff", bot.ReasonComplaint, 2
		d.Why = "complaint detected: " + strings.Join(d.Sentiment.Cues, ", ")
		return d
	}
	cd := s.Model.DecideTokens(tokens)
	d.Intent, d.Confidence = cd.Label, cd.Confidence
	for _, t := range cd.Top {
		if t.Label != "" {
			if d.Top == nil {
				d.Top = make([]classify.Scored, 0, len(cd.Top)) // one allocation, not three
			}
			d.Top = append(d.Top, t)
		}
	}
	if d.Sentiment.Frustrated && (misses > 0 || d.Sentiment.Score <= -0.6) {
		d.Action, d.Reason, d.Priority = "handoff", bot.ReasonNegativeSentiment, 1
		d.Why = "the customer is frustrated: " + strings.Join(d.Sentiment.Cues, ", ")
		return d
	}
	if _, ok := notHelpedRules.match(tokens); ok {
		if misses+1 >= r.cfg.MaxMisses {
			d.Action, d.Reason, d.Why = "handoff", bot.ReasonRepeatedFailure, "the customer says the answers did not help"
		} else {
			d.Action, d.Why = "clarify", "the customer says the answer did not help"
		}
		return d
	}
	answerAt := r.cfg.AnswerAt
	if answerAt <= 0 {
		answerAt = max(0.5, s.Model.Threshold())
	}
	confident := !cd.OOS && cd.Confidence >= answerAt
	// FAQ retrieval also finds entries with no example questions (which the
	// classifier cannot know): those win when they cover the question better
	// than the classifier is sure; others only when the classifier is unsure.
	if id, cover := s.faq.best(d.Lang, text); cover >= r.cfg.RetrieveAt && (!confident || (cover > cd.Confidence && s.faq.answerOnly[id])) {
		d.Intent, d.Confidence = id, cover
		return r.act(s, d, fmt.Sprintf("FAQ retrieval covers %.0f%% of the question", 100*cover))
	}
	if confident {
		var b [24]byte
		return r.act(s, d, "confident (≥ "+string(fixed2(b[:0], answerAt))+")")
	}
	switch {
	case misses+1 >= r.cfg.MaxMisses:
		d.Action, d.Reason = "handoff", bot.ReasonRepeatedFailure
		d.Why = fmt.Sprintf("%d unanswered turns in a row", misses+1)
	case len(d.Top) >= 2 && d.Top[0].Prob >= r.cfg.SuggestAt:
		d.Action, d.Why = "suggest", fmt.Sprintf("ambiguous: top %.2f below %.2f", d.Top[0].Prob, answerAt)
	case cd.OOS && cd.Confidence < r.cfg.SuggestAt:
		d.Action, d.Reason, d.Why = "handoff", bot.ReasonOutOfScope, "nothing in the knowledge base matches"
	default:
		d.Action, d.Reason, d.Why = "handoff", bot.ReasonLowConfidence, fmt.Sprintf("confidence %.2f too low", cd.Confidence)
	}
	return d
}

// act turns a recognised intent into answer or handoff by its action.
func (r *Router) act(s *Snapshot, d Decision, why string) Decision {
	d.Action, d.Why = "answer", why
	if in, ok := s.Base.Intent(d.Intent); ok && in.Action != kb.ActionAnswer {
		d.Action, d.Reason = "handoff", bot.ReasonIntentRule
		if in.Action == kb.ActionEscalate {
			d.Reason, d.Priority = bot.ReasonComplaint, 2
		}
		if in.Handoff != nil {
			d.Skill, d.Topic = in.Handoff.Skill, in.Handoff.Topic
			d.Priority = max(d.Priority, in.Handoff.Priority)
		}
		d.Why = fmt.Sprintf("intent %s says %s", in.Name, in.Action)
		if d.Intent == "human" || strings.Contains(in.Name, "human") || strings.Contains(in.Name, "agent") {
			d.Reason = bot.ReasonRequested
		}
	}
	return d
}

// Handle implements bot.Handler.
func (r *Router) Handle(ctx context.Context, t *bot.Turn) error {
	s := r.snap.Load()
	if s == nil {
		return ErrNoKnowledgeBase
	}
	c := t.Conv
	d := r.decide(s, t.Msg.Text, c.Lang, c.Misses, t.Msg.Meta)
	c.Lang = d.Lang
	c.Sentiment = d.Sentiment.Score
	if d.Intent != "" && d.Intent != classify.OOS {
		c.Intent, c.Score = d.Intent, d.Confidence
	}
	cyr := isCyrillic(t.Msg.Text) && nlp.Normalize(t.Msg.Text) != ""
	if cyr {
		c.Set("script", "Cyrl")
	} else if d.LangConf >= 0.5 {
		c.Set("script", "Latn")
	}
	if r.assisted(ctx, t, s, &d) {
		return nil
	}
	line := d.String()
	explain := map[string]string{"explain": line}
	t.Record(bot.Event{Type: "message", Intent: d.Intent, Value: d.Confidence, Reason: d.Reason,
		Meta: map[string]string{"action": d.Action}})
	switch d.Action {
	case "answer":
		c.Misses = 0
		r.answer(t, s, d, explain)
		return nil
	case "clarify":
		c.Misses++
		t.Reply(bot.Reply{Kind: bot.KindSuggest, Text: r.localize(c, text("clarify", d.Lang)), Meta: explain,
			Choices: []bot.Choice{{Label: r.localize(c, text("human", d.Lang)), Value: "human"}}})
		return nil
	case "suggest":
		c.Misses++
		t.Record(bot.Event{Type: "unanswered", Text: t.Msg.Text, Reason: bot.ReasonLowConfidence, Intent: d.Intent, Value: d.Confidence})
		rep := bot.Reply{Kind: bot.KindSuggest, Text: r.localize(c, text("suggest", d.Lang)), Meta: explain}
		for _, sc := range d.Top {
			rep.Choices = append(rep.Choices, bot.Choice{Label: r.localize(c, r.title(s, sc.Label, d.Lang)), Value: "intent:" + sc.Label})
		}
		rep.Choices = append(rep.Choices, bot.Choice{Label: r.localize(c, text("human", d.Lang)), Value: "human"})
		t.Reply(rep)
		return nil
	}
	if d.Reason == bot.ReasonOutOfScope || d.Reason == bot.ReasonLowConfidence || d.Reason == bot.ReasonRepeatedFailure {
		t.Record(bot.Event{Type: "unanswered", Text: t.Msg.Text, Reason: d.Reason, Intent: d.Intent, Value: d.Confidence})
	}
	c.Misses = 0
	if r.handoff == nil {
		return fmt.Errorf("intents: handoff (%s) with no desk configured", d.Reason)
	}
	if err := r.handoff(ctx, t, d.Reason, d.Skill, d.Topic, d.Priority); err != nil {
		return fmt.Errorf("hand off (%s): %w", d.Reason, err)
	}
	if reps := t.Replies(); len(reps) > 0 {
		if reps[0].Meta == nil {
			reps[0].Meta = map[string]string{}
		}
		reps[0].Meta["explain"] = line
	}
	return nil
}

func isCyrillic(s string) bool {
	cyr, lat := 0, 0
	for _, r := range s {
		switch {
		case r >= 0x400 && r <= 0x4ff:
			cyr++
		case r < 0x80 && (r|0x20) >= 'a' && (r|0x20) <= 'z':
			lat++
		}
	}
	return cyr > lat
}

// localize writes Serbian in the script the customer uses.
func (r *Router) localize(c *bot.Conversation, s string) string {
	if c.Lang == "sr" && c.Data["script"] == "Cyrl" {
		return ToCyrillic(s)
	}
	return s
}

// title is a short label for a choice: the intent's description or its first example.
func (r *Router) title(s *Snapshot, label, lang string) string {
	if id, ok := strings.CutPrefix(label, "faq:"); ok {
		if f, ok := s.Base.FAQ(id); ok {
			// The languages in the order Base.Answer prefers them, so that
			// a choice reads the same every time.
			for _, l := range append([]string{lang, s.Base.DefaultLanguage(), "en"}, slices.Sorted(maps.Keys(f.Questions))...) {
				if qs := f.Questions[l]; len(qs) > 0 {
					return qs[0]
				}
			}
		}
		return id
	}
	if in, ok := s.Base.Intent(label); ok {
		if xs := in.Examples[lang]; len(xs) > 0 {
			return xs[0]
		}
		if in.Description != "" {
			return in.Description
		}
	}
	return strings.ReplaceAll(label, "_", " ")
}

func (r *Router) answer(t *bot.Turn, s *Snapshot, d Decision, meta map[string]string) {
	c := t.Conv
	var a kb.Answer
	var got string
	var err error
	a, got, err = s.Base.Answer(strings.TrimPrefix(d.Intent, "faq:"), d.Lang)
	if err != nil {
		t.Log.Warn("intent has no answer", "intent", d.Intent, "err", err)
		c.Misses++
		return
	}
	txt := a.Text // most answers are just that: no copy
	notices := r.activeNotices(t.Now, d.Intent)
	if len(a.Links) > 0 || got != d.Lang || len(notices) > 0 {
		var b strings.Builder
		b.WriteString(a.Text)
		for _, l := range a.Links {
			fmt.Fprintf(&b, "\n%s: %s", l.Label, l.URL)
		}
		if got != d.Lang {
			fmt.Fprintf(&b, "\n\n"+text("fallback_lang", d.Lang), langNames[got])
		}
		for _, n := range notices {
			fmt.Fprintf(&b, "\n\n"+text("notice", d.Lang), n.Text(d.Lang))
		}
		txt = b.String()
	}
	rep := bot.Reply{Kind: bot.KindAnswer, Text: r.localize(c, txt), Lang: d.Lang, Meta: meta}
	for _, ch := range a.Choices {
		rep.Choices = append(rep.Choices, bot.Choice{Label: r.localize(c, ch.Label), Value: ch.Value})
	}
	c.Tried = append(c.Tried, d.Intent)
	if len(c.Tried) > 20 {
		c.Tried = c.Tried[len(c.Tried)-20:]
	}
	t.Record(bot.Event{Type: "answered", Intent: d.Intent, Value: d.Confidence})
	t.Reply(rep)
}
