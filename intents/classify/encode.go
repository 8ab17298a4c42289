package classify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// ErrBadModel is wrapped when encoded model bytes cannot be decoded.
var ErrBadModel = errors.New("classify: bad encoded model")

// modelFormat is bumped whenever the encoding or the features change, so a
// cached model from another version is retrained instead of misread.
const modelFormat = 5 // 3: the square root of the idf in the features; 4: unknown words in the in-scope score; 5: the dual variables

// The encoding, all little-endian: a fixed header, then the arrays in the
// order below, then the CRC-32C of everything before it.
//
//	magic [4]byte, format uint32
//	features, labels, labelBytes uint32, oos int32, topK uint32
//	examples, exampleBytes, duals uint32   0, 0, 0 for a model with no dual variables
//	blockWeight [numBlocks]float32, scale, threshold float64, platt [3]float64
//	keys [features]uint64      n-gram hash of each feature index
//	idf  [features]float32
//	bias [labels]float32
//	w    [features*labels]float32
//	labelLen [labels]uint32, then the label bytes
//	exampleLen [examples]uint32, then the example keys' bytes (Options.Warm)
//	ptr [examples+1]uint32, cls [duals]uint32, val [duals]float32 (duals)
//	crc uint32
const (
	modelMagic  = "SBcm"
	headerBytes = 4 + 4 + 8*4 + numBlocks*4 + 2*8 + 3*8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the trained model (for a cache next to the data, so
// a restart does not retrain).
func (m *Model) MarshalBinary() ([]byte, error) {
	nf, nc := len(m.feat.idf), len(m.labels)
	if m.feat.vocab.n != nf {
		return nil, fmt.Errorf("classify: %d vocabulary entries for %d features", m.feat.vocab.n, nf)
	}
	keys := m.feat.vocab.keys()
	var labelBytes, exBytes int
	for _, l := range m.labels {
		labelBytes += len(l)
	}
	for _, k := range m.keys {
		exBytes += len(k)
	}
	nd := len(m.duals.val)
	le := binary.LittleEndian
	b := make([]byte, 0, headerBytes+12*nf+8*nc+4*len(m.w)+labelBytes+8*len(m.keys)+exBytes+8*nd+8)
	b = append(b, modelMagic...)
	for _, v := range []uint32{modelFormat, uint32(nf), uint32(nc), uint32(labelBytes), uint32(int32(m.oos)), uint32(m.topK),
		uint32(len(m.keys)), uint32(exBytes), uint32(nd)} {
		b = le.AppendUint32(b, v)
	}
	for _, v := range m.feat.blockWeight {
		b = le.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range []float64{m.scale, m.threshold, m.platt[0], m.platt[1], m.platt[2]} {
		b = le.AppendUint64(b, math.Float64bits(v))
	}
	for _, k := range keys {
		b = le.AppendUint64(b, k)
	}
	for _, s := range [][]float32{m.feat.idf, m.bias, m.w} {
		for _, v := range s {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
	}
	for _, l := range m.labels {
		b = le.AppendUint32(b, uint32(len(l)))
	}
	for _, l := range m.labels {
		b = append(b, l...)
	}
	for _, k := range m.keys {
		b = le.AppendUint32(b, uint32(len(k)))
	}
	for _, k := range m.keys {
		b = append(b, k...)
	}
	if m.keys != nil {
		for _, v := range m.duals.ptr {
			b = le.AppendUint32(b, uint32(v))
		}
	}
	for _, v := range m.duals.cls {
		b = le.AppendUint32(b, uint32(v))
	}
	for _, v := range m.duals.val {
		b = le.AppendUint32(b, math.Float32bits(v))
	}
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// UnmarshalModel decodes bytes written by MarshalBinary.
func UnmarshalModel(data []byte) (*Model, error) {
	return ReadModel(bytes.NewReader(data), int64(len(data)))
}

// ReadModel decodes a model written by MarshalBinary from r, which holds
// exactly size bytes. It reads r once, in small chunks straight into the
// model's arrays. Bytes that are not such a model, truncated or altered,
// fail with an error wrapping ErrBadModel.
func ReadModel(r io.Reader, size int64) (*Model, error) {
	d := &decoder{r: r, crc: crc32.New(castagnoli), buf: make([]byte, 64<<10)}
	h := d.next(headerBytes)
	if h == nil || string(h[:4]) != modelMagic {
		return nil, fmt.Errorf("%w: not a model file", ErrBadModel)
	}
	le := binary.LittleEndian
	u32 := func(i int) uint32 { return le.Uint32(h[4+4*i:]) }
	f64 := func(i int) float64 { return math.Float64frombits(le.Uint64(h[40+numBlocks*4+8*i:])) }
	format, nf, nc, labelBytes, oos, topK := u32(0), uint64(u32(1)), uint64(u32(2)), uint64(u32(3)), int32(u32(4)), u32(5)
	nex, exBytes, nd := uint64(u32(6)), uint64(u32(7)), uint64(u32(8))
	if format != modelFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrBadModel, format, modelFormat)
	}
	warmBytes := uint64(0)
	if nex > 0 {
		warmBytes = 8*nex + 4 + exBytes + 8*nd
	}
	if nc == 0 || oos < -1 || int64(oos) >= int64(nc) || size < 0 || nf*nc > uint64(size)/4 ||
		nex > uint64(size) || exBytes > uint64(size) || nd > uint64(size) || nex == 0 && exBytes+nd > 0 ||
		headerBytes+12*nf+8*nc+4*nf*nc+labelBytes+warmBytes+4 != uint64(size) {
		return nil, fmt.Errorf("%w: %d features, %d labels in %d bytes", ErrBadModel, nf, nc, size)
	}
	m := &Model{feat: &featurizer{idf: make([]float32, nf)}, labels: make([]string, nc), oos: int(oos),
		w: make([]float32, nf*nc), bias: make([]float32, nc), scale: f64(0), threshold: f64(1),
		platt: [3]float64{f64(2), f64(3), f64(4)}, topK: int(topK)}
	prefault(m.w)
	for i := range m.feat.blockWeight {
		m.feat.blockWeight[i] = math.Float32frombits(u32(9 + i))
	}
	keys := make([]uint64, nf)
	fill(d, keys, 8, func(v []uint64, b []byte) {
		for i := range v {
			v[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	})
	fill(d, m.feat.idf, 4, float32s)
	fill(d, m.bias, 4, float32s)
	fill(d, m.w, 4, float32s)
	lens := make([]uint32, nc)
	fill(d, lens, 4, uint32s)
	text := make([]byte, labelBytes)
	fill(d, text, 1, func(v, b []byte) { copy(v, b) })
	exLens := make([]uint32, nex)
	fill(d, exLens, 4, uint32s)
	exText := make([]byte, exBytes)
	fill(d, exText, 1, func(v, b []byte) { copy(v, b) })
	if nex > 0 {
		m.duals = duals{ptr: make([]int32, nex+1), cls: make([]int32, nd), val: make([]float32, nd)}
		fill(d, m.duals.ptr, 4, int32s)
		fill(d, m.duals.cls, 4, int32s)
		fill(d, m.duals.val, 4, float32s)
	}
	sum := d.crc.Sum32()
	if t := d.next(4); d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, d.err)
	} else if le.Uint32(t) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrBadModel)
	}
	labels := string(text)
	for i, n := range lens {
		if uint64(n) > uint64(len(labels)) {
			return nil, fmt.Errorf("%w: label lengths exceed %d bytes", ErrBadModel, labelBytes)
		}
		m.labels[i], labels = labels[:n], labels[n:]
	}
	if labels != "" {
		return nil, fmt.Errorf("%w: %d label bytes left over", ErrBadModel, len(labels))
	}
	if nex > 0 {
		if err := m.readExamples(exLens, string(exText)); err != nil {
			return nil, err
		}
	}
	var ok bool
	if m.feat.vocab, ok = newVocabIndex(keys, m.feat.idf); !ok {
		return nil, fmt.Errorf("%w: duplicate vocabulary entries", ErrBadModel)
	}
	return m, nil
}

// decoder reads little-endian arrays through a small buffer, hashing all it
// reads. The first error sticks; later reads are no-ops.
type decoder struct {
	r   io.Reader
	crc hash.Hash32
	buf []byte
	err error
}

// next returns the next n ≤ len(d.buf) bytes, or nil after an error.
func (d *decoder) next(n int) []byte {
	if d.err != nil {
		return nil
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.err = err
		return nil
	}
	d.crc.Write(b)
	return b
}

// fill reads len(dst) values of size bytes each, a buffer at a time; get
// decodes one chunk b into the values v it holds.
func fill[T any](d *decoder, dst []T, size int, get func(v []T, b []byte)) {
	for len(dst) > 0 {
		n := min(len(dst), len(d.buf)/size)
		b := d.next(size * n)
		if b == nil {
			return
		}
		get(dst[:n], b)
		dst = dst[n:]
	}
}

// readExamples sets m's example keys from their lengths and bytes, and
// checks the dual variables read.
func (m *Model) readExamples(lens []uint32, text string) error {
	m.keys = make([]string, len(lens))
	for i, n := range lens {
		if uint64(n) > uint64(len(text)) {
			return fmt.Errorf("%w: example lengths exceed the example bytes", ErrBadModel)
		}
		m.keys[i], text = text[:n], text[n:]
	}
	if text != "" {
		return fmt.Errorf("%w: %d example bytes left over", ErrBadModel, len(text))
	}
	d := m.duals
	if d.ptr[0] != 0 || int(d.ptr[len(d.ptr)-1]) != len(d.cls) {
		return fmt.Errorf("%w: dual variable offsets", ErrBadModel)
	}
	for i := 1; i < len(d.ptr); i++ {
		if d.ptr[i] < d.ptr[i-1] {
			return fmt.Errorf("%w: dual variable offsets", ErrBadModel)
		}
	}
	for _, c := range d.cls {
		if c < 0 || int(c) >= len(m.labels) {
			return fmt.Errorf("%w: dual variable of class %d", ErrBadModel, c)
		}
	}
	return nil
}

func uint32s(v []uint32, b []byte) {
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
}

func int32s(v []int32, b []byte) {
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

func float32s(v []float32, b []byte) {
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}
