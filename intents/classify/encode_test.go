package classify

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func smallExamples() []Example {
	var ex []Example
	for i, l := range []string{"shipping", "refund", "password"} {
		for j := range 12 {
			ex = append(ex, Example{Text: fmt.Sprintf("%s question %d about my %s", l, j, []string{"parcel", "money", "login"}[i]), Label: l})
		}
	}
	return append(ex, Example{Text: "tell me a joke", Label: OOS}, Example{Text: "what is the weather", Label: OOS})
}

func smallModel(t testing.TB) *Model {
	t.Helper()
	return mustTrain(t, smallExamples(), Options{})
}

// A model read back from its encoding decides exactly as the trained one.
func TestEncodedModelDecidesTheSame(t *testing.T) {
	m := smallModel(t)
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalModel(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"where is my parcel", "I want my money back", "forgot login", "sing a song", ""} {
		if a, b := m.Decide(q), m2.Decide(q); a != b {
			t.Errorf("%q: trained %+v, decoded %+v", q, a, b)
		}
	}
	// It keeps the dual variables: an edit after a restart trains from it
	// as from the model in memory.
	if !m2.Warmable() {
		t.Fatal("the decoded model cannot warm-start training")
	}
	edit := append(smallExamples(), Example{Text: "where is the parcel I ordered", Label: "shipping"})
	a, b := mustTrain(t, edit, Options{Warm: m}), mustTrain(t, edit, Options{Warm: m2})
	for _, q := range []string{"where is my parcel", "I want my money back", "forgot login", "sing a song"} {
		if x, y := a.Decide(q), b.Decide(q); x != y {
			t.Errorf("%q: from the trained model %+v, from the decoded one %+v", q, x, y)
		}
	}
	for _, bad := range [][]byte{nil, []byte("garbage"), data[:len(data)/2]} {
		if _, err := UnmarshalModel(bad); !errors.Is(err, ErrBadModel) {
			t.Errorf("UnmarshalModel(%d bytes) = %v, want ErrBadModel", len(bad), err)
		}
	}
}

// A cache file cut short or with any bit flipped is rejected (and so
// retrained), never read as a different model.
func TestDamagedModelIsRejected(t *testing.T) {
	data, err := smallModel(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n += 1 + n/64 {
		if _, err := UnmarshalModel(data[:n]); !errors.Is(err, ErrBadModel) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrBadModel", n, len(data), err)
		}
	}
	if _, err := UnmarshalModel(append(bytes.Clone(data), 0)); !errors.Is(err, ErrBadModel) {
		t.Errorf("trailing byte: err = %v, want ErrBadModel", err)
	}
	flipped := bytes.Clone(data)
	for i := 0; i < len(data); i += 1 + i/32 {
		for bit := range 8 {
			flipped[i] ^= 1 << bit
			if _, err := UnmarshalModel(flipped); !errors.Is(err, ErrBadModel) {
				t.Fatalf("bit %d of byte %d flipped: err = %v, want ErrBadModel", bit, i, err)
			}
			flipped[i] ^= 1 << bit
		}
	}
}

// FuzzUnmarshalModel: any bytes either fail with ErrBadModel or decode to a
// model that encodes back to the same bytes; decoding never panics.
func FuzzUnmarshalModel(f *testing.F) {
	data, err := smallModel(f).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:headerBytes])
	f.Add([]byte(modelMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalModel(b)
		if err != nil {
			if !errors.Is(err, ErrBadModel) {
				t.Fatalf("err = %v, want ErrBadModel", err)
			}
			return
		}
		again, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded model re-encodes differently (err %v)", err)
		}
		m.Decide("where is my parcel")
	})
}
