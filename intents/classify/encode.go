package classify

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
)

// ErrBadModel is wrapped when encoded model bytes cannot be decoded.
var ErrBadModel = errors.New("classify: bad encoded model")

// modelFormat is bumped whenever the encoding or the features change, so a
// cached model from another version is retrained instead of misread.
const modelFormat = 1

type encodedModel struct {
	Format      int
	Vocab       map[uint64]int32
	IDF         []float32
	BlockWeight [numBlocks]float32
	Labels      []string
	OOS         int
	W, Bias     []float32
	Scale       float64
	Threshold   float64
	Platt       [2]float64
	TopK        int
}

// MarshalBinary encodes the trained model (for a cache next to the data, so
// a restart does not retrain).
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(encodedModel{Format: modelFormat, Vocab: m.feat.vocab, IDF: m.feat.idf,
		BlockWeight: m.feat.blockWeight, Labels: m.labels, OOS: m.oos, W: m.w, Bias: m.bias,
		Scale: m.scale, Threshold: m.threshold, Platt: m.platt, TopK: m.topK})
	return b.Bytes(), err
}

// UnmarshalModel decodes bytes written by MarshalBinary.
func UnmarshalModel(data []byte) (*Model, error) {
	var e encodedModel
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
	}
	if e.Format != modelFormat || len(e.Labels) == 0 || len(e.Bias) != len(e.Labels) ||
		len(e.W) != len(e.IDF)*len(e.Labels) || e.OOS >= len(e.Labels) {
		return nil, fmt.Errorf("%w: format %d, %d labels, %d weights", ErrBadModel, e.Format, len(e.Labels), len(e.W))
	}
	for _, i := range e.Vocab {
		if i < 0 || int(i) >= len(e.IDF) {
			return nil, fmt.Errorf("%w: feature index %d out of range", ErrBadModel, i)
		}
	}
	return &Model{feat: &featurizer{vocab: e.Vocab, idf: e.IDF, blockWeight: e.BlockWeight},
		labels: e.Labels, oos: e.OOS, w: e.W, bias: e.Bias, scale: e.Scale, threshold: e.Threshold,
		platt: e.Platt, topK: e.TopK}, nil
}
