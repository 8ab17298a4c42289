package classify

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A model read back from its encoding decides exactly as the trained one.
func TestEncodedModelDecidesTheSame(t *testing.T) {
	var ex []Example
	for i, l := range []string{"shipping", "refund", "password"} {
		for j := range 12 {
			ex = append(ex, Example{Text: fmt.Sprintf("%s question %d about my %s", l, j, []string{"parcel", "money", "login"}[i]), Label: l})
		}
	}
	ex = append(ex, Example{Text: "tell me a joke", Label: OOS}, Example{Text: "what is the weather", Label: OOS})
	m, err := Train(context.Background(), ex, Options{})
	if err != nil {
		t.Fatal(err)
	}
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
	for _, bad := range [][]byte{nil, []byte("garbage"), data[:len(data)/2]} {
		if _, err := UnmarshalModel(bad); !errors.Is(err, ErrBadModel) {
			t.Errorf("UnmarshalModel(%d bytes) = %v, want ErrBadModel", len(bad), err)
		}
	}
}
