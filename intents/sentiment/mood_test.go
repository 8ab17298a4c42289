package sentiment

import "testing"

func TestMood(t *testing.T) {
	tests := []struct {
		name     string
		turns    []string
		reason   string
		rising   bool
		priority int
	}{
		{"calm questions", []string{"Where is my order?", "How long does shipping take?"}, "", false, 0},
		{"one mild gripe", []string{"Where is my order?", "The app is a bit slow today."}, "", false, 1},
		{"rising frustration", []string{"Where is my order?", "Unfortunately it still hasn't come.", "This is the third time I ask!!!", "STILL NOTHING. Fed up."}, ReasonNegative, true, 2},
		{"complaint", []string{"Hvor er pakken?", "Jeg vil klage på budet."}, ReasonComplaint, false, 2},
		{"complaint in Cyrillic", []string{"Где је пакет?", "Опет ништа!!!", "Хоћу да разговарам са менаџером, ово је срамота."}, ReasonComplaint, true, 3},
		{"calmed down", []string{"This is ridiculous!!!", "Ok, thanks, that solved it!"}, ReasonComplaint, false, 2},
		{"one very negative turn", []string{"I really hate this, it is so disappointing and so confusing."}, ReasonNegative, false, 1},
	}
	for _, tt := range tests {
		var rs []Result
		for _, s := range tt.turns {
			rs = append(rs, Analyze(s))
		}
		m := Track(rs...)
		reason, ok := m.Handoff()
		if reason != tt.reason || ok != (tt.reason != "") || m.Rising != tt.rising || m.Priority() != tt.priority {
			t.Errorf("%s: mood %+v: handoff %q %v, rising %v, priority %d; want %q, rising %v, priority %d",
				tt.name, m, reason, ok, m.Rising, m.Priority(), tt.reason, tt.rising, tt.priority)
		}
	}
}

func TestTrend(t *testing.T) {
	calm := Analyze("Where is my order?")
	angry := Analyze("This is the third time I'm asking!!!")
	happy := Analyze("Thanks, perfect!")
	if d := Trend(calm, angry); d >= -0.25 {
		t.Errorf("calm → angry: %.2f, want clearly below 0", d)
	}
	if d := Trend(angry, happy); d <= 0.25 {
		t.Errorf("angry → happy: %.2f, want clearly above 0", d)
	}
	if d := Trend(calm, calm); d != 0 {
		t.Errorf("calm → calm: %.2f", d)
	}
}
