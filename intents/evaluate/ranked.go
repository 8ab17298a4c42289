package evaluate

import (
	"context"
	"fmt"

	"github.com/supportbot/supportbot/intents/classify"
)

// RetrievalBy scores any ranking of documents (rank returns every
// document for a question, best first) on question rows as Retrieval
// does; `supportbot eval --llm` uses it for the blended ranking.
func RetrievalBy(ctx context.Context, questions []Row, rank func(ctx context.Context, i int, q string) ([]classify.Hit, error)) (RetrievalReport, error) {
	if len(questions) == 0 {
		return RetrievalReport{}, fmt.Errorf("retrieval: %w", ErrNoRows)
	}
	var rep RetrievalReport
	for i, q := range questions {
		if err := ctx.Err(); err != nil {
			return RetrievalReport{}, err
		}
		hits, err := rank(ctx, i, q.Text)
		if err != nil {
			return RetrievalReport{}, err
		}
		for k, h := range hits {
			if h.ID == q.Intent {
				if k == 0 {
					rep.Top1++
				}
				if k < 3 {
					rep.Top3++
				}
				rep.MRR += 1 / float64(k+1)
				break
			}
		}
	}
	rep.N = len(questions)
	n := float64(rep.N)
	rep.Top1, rep.Top3, rep.MRR = rep.Top1/n, rep.Top3/n, rep.MRR/n
	return rep, nil
}
