package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/evaluate"
	"github.com/supportbot/supportbot/llm"
)

// evalWithEmbeddings scores FAQ retrieval twice, offline and blended with
// the embedding similarity of [llm] embedding_model, so the gain is measured.
func evalWithEmbeddings(ctx context.Context, cfgPath string, explicit bool, docs []classify.Document, rows []evaluate.Row, asJSON bool, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(cfgPath, explicit)
	if err != nil {
		return err
	}
	lc := cfg.LLM
	if lc.EmbeddingModel == "" {
		return fmt.Errorf("%w: --llm needs [llm] embedding_model in %s", errUsage, cfgPath)
	}
	lc.Enabled = true
	lc.RatePerMinute, lc.TokensPerMinute, lc.ConvRatePerMinute = 0, 0, 0 // a batch job: only the monthly budget applies
	if err := lc.Validate(); err != nil {
		return err
	}
	c := llm.New(lc, llm.WithLogger(newLogger("warn", "text", stderr)))
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = strings.TrimSpace(d.Title + "\n" + strings.Join(d.Questions, "\n") + "\n" + d.Answer)
	}
	dv, err := c.EmbedAll(ctx, texts)
	if err != nil {
		return fmt.Errorf("embed the FAQ answers: %w", err)
	}
	qs := make([]string, len(rows))
	for i, r := range rows {
		qs[i] = r.Text
	}
	qv, err := c.EmbedAll(ctx, qs)
	if err != nil {
		return fmt.Errorf("embed the questions: %w", err)
	}
	retr := classify.NewRetriever(docs, intentsRetrieverOptions())
	offline, err := evaluate.Retrieval(ctx, docs, rows, intentsRetrieverOptions())
	if err != nil {
		return err
	}
	blended, err := evaluate.RetrievalBy(ctx, rows, func(_ context.Context, i int, q string) ([]classify.Hit, error) {
		sims := map[string]float64{}
		for j, d := range docs {
			if s := llm.Cosine(qv[i], dv[j]); s > sims[d.ID] {
				sims[d.ID] = s
			}
		}
		return llm.Blend(retr.Search(q, 0), sims, lc.SemanticWeight), nil
	})
	if err != nil {
		return err
	}
	st := c.Stats()
	if asJSON {
		b, err := json.MarshalIndent(map[string]any{"offline": offline, "llm": blended, "semantic_weight": lc.SemanticWeight,
			"embedding_model": lc.EmbeddingModel, "tokens": st.PromptTokens}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	fmt.Fprintf(stdout, "offline\n%s\nwith embeddings (%s, weight %.2f)\n%s\ngain: top-1 %+.2f points, top-3 %+.2f points, MRR %+.3f (%d tokens)\n",
		indent(offline.Text()), lc.EmbeddingModel, lc.SemanticWeight, indent(blended.Text()),
		100*(blended.Top1-offline.Top1), 100*(blended.Top3-offline.Top3), blended.MRR-offline.MRR, st.PromptTokens)
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
