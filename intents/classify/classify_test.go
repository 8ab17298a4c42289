package classify

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// smallKB is a toy knowledge base in two languages plus out-of-scope
// examples.
var smallKB = []Example{
	{"where is my order", "order_status", "en"},
	{"my package has not arrived", "order_status", "en"},
	{"track my parcel please", "order_status", "en"},
	{"has my order shipped yet", "order_status", "en"},
	{"hvor er pakken min", "order_status", "nb"},
	{"jeg har ikke fått bestillingen", "order_status", "nb"},
	{"i forgot my password", "reset_password", "en"},
	{"how do i reset my password", "reset_password", "en"},
	{"cannot log in to my account", "reset_password", "en"},
	{"change my login password", "reset_password", "en"},
	{"jeg har glemt passordet", "reset_password", "nb"},
	{"zaboravio sam lozinku", "reset_password", "sr"},
	{"i want my money back", "refund", "en"},
	{"how do i return a product", "refund", "en"},
	{"refund for a broken item", "refund", "en"},
	{"can i get a refund", "refund", "en"},
	{"kako da vratim proizvod", "refund", "sr"},
	{"jeg vil ha pengene tilbake", "refund", "nb"},
	{"what is the capital of france", OOS, "en"},
	{"tell me a joke", OOS, "en"},
	{"who won the football game", OOS, "en"},
	{"what is the meaning of life", OOS, "en"},
}

func TestTrainSmallKB(t *testing.T) {
	t0 := time.Now()
	m, err := Train(context.Background(), smallKB, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second { // milliseconds in practice; generous under -race
		t.Errorf("training a small KB took %v", d)
	}
	cases := []struct{ text, want string }{
		{"where is my parcel", "order_status"},
		{"I forgot the password for my account", "reset_password"},
		{"Како да вратим производ?", "refund"}, // Cyrillic, trained on Latin
		{"hvor er bestillingen min?", "order_status"},
	}
	for _, c := range cases {
		d := m.Decide(c.text)
		if d.Label != c.want || d.OOS {
			t.Errorf("Decide(%q) = %+v, want %s", c.text, d, c.want)
		}
		p := m.Predict(c.text)
		if p[0].Label != c.want {
			t.Errorf("Predict(%q)[0] = %v", c.text, p[0])
		}
		var sum float64
		for i, s := range p {
			sum += s.Prob
			if s.Label == OOS {
				t.Errorf("Predict lists %s", OOS)
			}
			if i > 0 && s.Prob > p[i-1].Prob {
				t.Errorf("Predict not sorted: %v", p)
			}
			if d.Top[min(i, 2)].Label == "" {
				t.Errorf("Decide.Top incomplete: %v", d.Top)
			}
		}
		if sum > 1+1e-9 {
			t.Errorf("probabilities sum to %v > 1", sum)
		}
		if d.Top[0] != p[0] || d.Top[1] != p[1] || d.Top[2] != p[2] {
			t.Errorf("Decide.Top %v != Predict %v", d.Top, p[:3])
		}
	}
	if m.Threshold() < 0 || m.Threshold() >= 1 {
		t.Errorf("threshold %v, want one chosen in [0, 1)", m.Threshold())
	}
	if d := m.Decide("what is the capital of spain"); !d.OOS || d.Label != OOS {
		t.Errorf("out-of-scope message: %+v", d)
	}
}

func TestTrainDeterministic(t *testing.T) {
	for _, ovr := range []bool{false, true} {
		a, err := Train(context.Background(), smallKB, Options{Workers: 1, OneVsRest: ovr})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Train(context.Background(), smallKB, Options{Workers: 3, OneVsRest: ovr})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.w, b.w) || a.scale != b.scale || a.threshold != b.threshold {
			t.Errorf("two trainings on the same data differ (one-vs-rest %v)", ovr)
		}
		if d := a.Decide("I forgot the password for my account"); d.Label != "reset_password" {
			t.Errorf("one-vs-rest %v: %+v", ovr, d)
		}
	}
}

func TestTrainOptions(t *testing.T) {
	m, err := Train(context.Background(), smallKB, Options{OOSThreshold: 0.42, TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.Threshold() != 0.42 || len(m.Predict("refund")) != 2 {
		t.Errorf("threshold %v, top-k %d", m.Threshold(), len(m.Predict("refund")))
	}
	m, err = Train(context.Background(), smallKB, Options{OOSThreshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	if m.Threshold() != 0 {
		t.Errorf("disabled threshold is %v", m.Threshold())
	}
	// Without oos examples no threshold is chosen automatically.
	m, err = Train(context.Background(), smallKB[:18], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Threshold() != 0 || slices.Contains(m.Labels(), OOS) {
		t.Errorf("threshold %v, labels %v", m.Threshold(), m.Labels())
	}
	if d := m.Decide(""); d.Label == "" || math.IsNaN(d.Confidence) {
		t.Errorf("empty text: %+v", d)
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(context.Background(), nil, Options{}); !errors.Is(err, ErrNoExamples) {
		t.Errorf("no examples: %v", err)
	}
	if _, err := Train(context.Background(), smallKB[:4], Options{}); !errors.Is(err, ErrOneLabel) {
		t.Errorf("one label: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, smallKB, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestRetriever(t *testing.T) {
	docs := []Document{
		{ID: "ship", Title: "Frakt", Answer: "Frakten tar vanligvis tre til fem virkedager innenlands.", Lang: "nb"},
		{ID: "pw", Title: "Konto", Answer: "Du kan tilbakestille passordet ditt fra innloggingssiden.", Lang: "nb"},
		{ID: "ret", Title: "Retur", Questions: []string{"Hvordan returnerer jeg en vare?"},
			Answer: "Fyll ut returskjemaet og send pakken tilbake innen 30 dager.", Lang: "nb"},
	}
	r := NewRetriever(docs, RetrieverOptions{})
	cases := map[string]string{
		"hvor lang tid tar frakten": "ship",
		"glemt passordet":           "pw",
		"kan jeg returnere varen?":  "ret",
	}
	for q, want := range cases {
		hits := r.Search(q, 2)
		if len(hits) != 2 || hits[0].ID != want {
			t.Errorf("Search(%q) = %v, want %s first", q, hits, want)
		}
	}
	if hits := NewRetriever(nil, RetrieverOptions{}).Search("x", 3); len(hits) != 0 {
		t.Errorf("empty retriever: %v", hits)
	}
}

// fitScale and fitPlatt recover the parameters that generated held-out
// labels.
func TestCalibrationFits(t *testing.T) {
	const n, nc, oos = 4000, 5, 4
	h := heldOut{scores: make([]float32, n*nc), ys: make([]int32, n), nc: nc}
	rng := uint64(1)
	unif := func() float64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return float64(rng>>11) / (1 << 53)
	}
	const scale = 3.0
	for i := 0; i < n; i++ {
		row := h.row(i)
		for c := range row {
			row[c] = float32(unif())
		}
		// Draw the label from softmax(scale · row).
		var z float64
		for _, v := range row {
			z += math.Exp(scale * float64(v))
		}
		u, c := unif()*z, 0
		for ; c < nc-1; c++ {
			u -= math.Exp(scale * float64(row[c]))
			if u <= 0 {
				break
			}
		}
		h.ys[i] = int32(c)
	}
	if s := fitScale(h); math.Abs(s-scale) > 0.5 {
		t.Errorf("fitScale = %.2f, want about %.1f", s, scale)
	}
	p := fitPlatt(h, oos, 0.5)
	if p[0] <= 0 || math.IsNaN(p[0]) || math.IsNaN(p[1]) {
		t.Errorf("fitPlatt = %v: the in-scope probability should grow with the gap", p)
	}
}

// TestChooseThreshold checks the threshold sweep against a brute-force
// search over random held-out scores: two intents and an oos class.
func TestChooseThreshold(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := &Model{labels: []string{"a", "b", OOS}, oos: 2, platt: [3]float64{1, 0, 0}}
	var h heldOut
	h.nc = 3
	for i := 0; i < 600; i++ {
		y := int32(rng.IntN(2))
		if i%6 == 0 {
			y = 2
		}
		r := []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
		shift := float32(3.5)
		if y == 2 {
			shift = 1
		}
		r[y] += shift
		h.ys = append(h.ys, y)
		h.scores = append(h.scores, r...)
	}
	var ps []float64 // in-scope scores
	var nIn, nOOS float64
	for i, y := range h.ys {
		r := h.row(i)
		in := 0
		if r[1] > r[0] {
			in = 1
		}
		ps = append(ps, m.inScope([]float64{float64(r[0]), float64(r[1]), float64(r[2])}, in, 0))
		if y == 2 {
			nOOS++
		} else {
			nIn++
		}
	}
	// The value of threshold th and whether it meets floor, from scratch.
	eval := func(th, floor float64) (v float64, ok bool) {
		var right, wrong, lost, caught float64
		for i, y := range h.ys {
			r := h.row(i)
			in := 0
			if r[1] > r[0] {
				in = 1
			}
			off := r[2] > r[in] || ps[i] < th
			switch {
			case y == 2 && off:
				caught++
			case y == 2:
			case off && int(y) == in:
				lost++
			case off:
			case int(y) == in:
				right++
			default:
				wrong++
			}
		}
		v = 0.9*(right-wrong)/nIn - 0.1*(nOOS-caught)/nOOS
		rec, f := wilson(caught, nOOS, -1), wilson(lost, nIn, 1)
		return v, 0.1*rec >= floor*(0.1*rec+0.9*f)
	}
	var got []float64
	for _, floor := range []float64{1e-9, 0.88, 0.9} {
		th := m.chooseThreshold(h, 0.1, floor)
		v, ok := eval(th, floor)
		if !ok || th <= 0 {
			t.Fatalf("floor %v: threshold %v, value %v, feasible %v", floor, th, v, ok)
		}
		for _, p := range ps {
			if v2, ok := eval(p+1e-9, floor); ok && v2 > v+1e-12 {
				t.Errorf("floor %v: threshold %v (value %v) beats the chosen %v (value %v)", floor, p+1e-9, v2, th, v)
			}
		}
		got = append(got, th)
	}
	if !(got[0] > got[1] && got[1] > got[2]) {
		t.Errorf("thresholds %v for floors 0, 0.88, 0.9: want the floor to bind", got)
	}
}

// TestCrammerSinger trains the multi-class SVM (the default): it fits
// the small KB, keeps the dual's equality constraints (Σ_m α_i^m = 0, so
// the class weights of every feature and the biases sum to zero), does
// not depend on the number of workers and stops when the context ends.
func TestCrammerSinger(t *testing.T) {
	opts := Options{Workers: 1}
	m, err := Train(context.Background(), smallKB, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range smallKB {
		if d := m.Decide(e.Text); d.Label != e.Label && !(e.Label == OOS && d.OOS) {
			t.Errorf("Decide(%q) = %s, trained as %s", e.Text, d.Label, e.Label)
		}
	}
	nc := len(m.labels)
	for f := 0; f < len(m.w)/nc; f++ {
		var s float64
		for _, v := range m.w[f*nc : f*nc+nc] {
			s += float64(v)
		}
		if math.Abs(s) > 1e-4 {
			t.Fatalf("class weights of feature %d sum to %v", f, s)
		}
	}
	var s float64
	for _, v := range m.bias {
		s += float64(v)
	}
	if math.Abs(s) > 1e-4 {
		t.Errorf("biases sum to %v", s)
	}
	opts.Workers = 3
	b, err := Train(context.Background(), smallKB, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.w, b.w) || m.scale != b.scale || m.threshold != b.threshold {
		t.Error("the number of workers changed the model")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, smallKB, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestUnknownWords counts the words a vocabulary lacks, on raw features
// in extraction order, and for held-out examples the words that the
// other folds lack.
func TestUnknownWords(t *testing.T) {
	texts := []string{"track my parcel", "track my order", "where is my parcel", "zzz my qqq"}
	raws := make([]rawFeatures, len(texts))
	for i, s := range texts {
		extract(s, &raws[i], nil)
	}
	known := map[uint64]bool{hashBytes(seedWord, "my"): true, hashBytes(seedWord, "track"): true}
	if n := unknownWords(raws[3][blockWord], func(h uint64) bool { return known[h] }); n != 2 {
		t.Errorf("unknown words of %q: %d, want 2", texts[3], n)
	}
	var empty rawFeatures
	extract("", &empty, nil)
	if n := unknownWords(empty[blockWord], func(uint64) bool { return false }); n != 0 {
		t.Errorf("unknown words of no text: %d", n)
	}
	// Folds 0 and 1: each text is judged by the other fold's words.
	got := heldOutUnknown(raws, []int{0, 1, 0, 1}, 1)
	want := []float64{1, 1, 3, 2} // parcel; order; where is parcel; zzz qqq
	if !slices.Equal(got, want) {
		t.Errorf("held-out unknown words %v, want %v", got, want)
	}
}
