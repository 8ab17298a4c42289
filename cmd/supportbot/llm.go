package main

import (
	"log/slog"

	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/llm"
	"github.com/supportbot/supportbot/store"
)

// newLLM returns the language-model client and the desk options it
// brings (card summaries, relay translation), or nil when [llm] is off:
// then nothing ever calls a model.
func newLLM(cfg llm.Config, st store.Store, log *slog.Logger) (*llm.Client, []handoff.Option) {
	if !cfg.Enabled {
		return nil, nil
	}
	c := llm.New(cfg, llm.WithStore(st), llm.WithLogger(log))
	var opts []handoff.Option
	if cfg.Summaries {
		opts = append(opts, handoff.WithSummarizer(c.Summarizer()))
	}
	if cfg.Translate {
		opts = append(opts, handoff.WithTranslator(c.Translator(), cfg.AgentLang))
	}
	log.Info("llm enabled", "base_url", cfg.BaseURL, "model", cfg.Model, "embedding_model", cfg.EmbeddingModel,
		"grounded_answers", cfg.GroundedAnswers, "summaries", cfg.Summaries, "translate", cfg.Translate, "redact", cfg.Redact)
	return c, opts
}

// useLLM lets the router ask c for grounded answers when it is unsure.
func useLLM(r *intents.Router, c *llm.Client) {
	if c == nil || !c.Config().GroundedAnswers {
		return
	}
	var rk intents.Ranker
	if s := c.Semantic(); s != nil {
		rk = s
	}
	cfg := c.Config()
	r.SetAssistant(c.Grounder(), rk, intents.AssistOptions{MinRelevance: cfg.MinRelevance,
		MaxSources: cfg.MaxSources, SemanticWeight: cfg.SemanticWeight})
}
