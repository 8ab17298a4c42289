package handoff

import (
	"strings"
	"testing"
	"time"
)

func TestBusinessHoursNextOpening(t *testing.T) {
	h := BusinessHours{Timezone: "Europe/Oslo",
		Weekly:   map[string]string{"mon-thu": "08:00-11:30, 12:00-16:00", "fri": "08:00-14:00", "sun": "closed"},
		Holidays: []string{"2026-04-03"}}
	s, err := h.compile()
	if err != nil {
		t.Fatal(err)
	}
	oslo := s.loc
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, oslo) }
	cases := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"open", at(2026, 1, 5, 9, 0), at(2026, 1, 5, 9, 0)},
		{"lunch break", at(2026, 1, 5, 11, 45), at(2026, 1, 5, 12, 0)},
		{"closing time is closed", at(2026, 1, 5, 16, 0), at(2026, 1, 6, 8, 0)},
		{"friday afternoon", at(2026, 1, 9, 14, 30), at(2026, 1, 12, 8, 0)},
		{"good friday holiday", at(2026, 4, 2, 17, 0), at(2026, 4, 6, 8, 0)},
		{"before opening", at(2026, 1, 7, 3, 0), at(2026, 1, 7, 8, 0)},
		{"utc input", time.Date(2026, 1, 5, 6, 30, 0, 0, time.UTC), at(2026, 1, 5, 8, 0)},
		{"into summer time", at(2026, 3, 27, 15, 0), at(2026, 3, 30, 8, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Next(tc.now)
			if !got.Equal(tc.want) {
				t.Errorf("Next(%v) = %v, want %v", tc.now, got, tc.want)
			}
			if open := s.Open(tc.now); open != got.Equal(tc.now) {
				t.Errorf("Open(%v) = %v", tc.now, open)
			}
		})
	}
	always, _ := BusinessHours{}.compile()
	if now := time.Now(); !always.Open(now) {
		t.Errorf("empty hours are not always open")
	}
}

func TestConfigValidateReportsEveryMistake(t *testing.T) {
	var ok Config
	ok.SetDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if ok.Routing != Broadcast || ok.NotePrefix != "note:" || ok.HistoryLen != 6 || ok.EscalateAfter <= ok.RenotifyAfter {
		t.Errorf("defaults: %+v", ok)
	}
	bad := Config{Routing: "random", AfterHours: "sleep", RenotifyAfter: time.Hour, EscalateAfter: time.Minute,
		Hours: BusinessHours{Timezone: "Mars/Olympus", Weekly: map[string]string{"mon": "17:00-09:00"}}}
	bad.SetDefaults()
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"handoff.routing", "handoff.after_hours", "handoff.escalate_after", "handoff.hours"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	for _, w := range []map[string]string{
		{"mon": "9-17"}, {"funday": "09:00-17:00"}, {"mon": "09:00-12:00,11:00-13:00"},
		{"mon-fri": "09:00-17:00", "wed": "10:00-11:00"}, {"sat": "closed"}, {"mon": "08:00-24:30"},
	} {
		if _, err := (BusinessHours{Weekly: w}).compile(); err == nil {
			t.Errorf("weekly %v accepted", w)
		}
	}
}

func TestTextsInEveryLanguage(t *testing.T) {
	for lang := range catalogue {
		for k := msgIntro; k <= msgWithAgent; k++ {
			if catalogue[lang][k] == "" {
				t.Errorf("%s: text %d missing", lang, k)
			}
		}
	}
	if got := say("de", msgNext); got != "You are next in the queue." {
		t.Errorf("unknown language: %q, want English", got)
	}
	if got := say("nn-NO", msgNext); got != "Du er nestemann i køen." {
		t.Errorf("nynorsk: %q", got)
	}
	waits := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 30 * time.Second, "less than a minute"},
		{"en", 61 * time.Second, "about 2 minutes"},
		{"en", time.Minute, "about 1 minute"},
		{"nb", 5 * time.Minute, "omtrent 5 minutter"},
		{"sv", 3 * time.Hour, "ungefär 3 timmar"},
		{"sr", 21 * time.Minute, "oko 21 minut"},
		{"sr", 3 * time.Minute, "oko 3 minuta"},
		{"sr", 12 * time.Minute, "oko 12 minuta"},
		{"sr", 2 * time.Hour, "oko 2 sata"},
		{"sr", 5 * time.Hour, "oko 5 sati"},
	}
	for _, w := range waits {
		if got := sayWait(w.lang, w.d); got != w.want {
			t.Errorf("sayWait(%s, %v) = %q, want %q", w.lang, w.d, got, w.want)
		}
	}
}

func TestFindContact(t *testing.T) {
	for text, want := range map[string]string{
		"mail me at per.olsen+shop@example.no please": "per.olsen+shop@example.no",
		"ring meg på +47 912 34 567":                  "+47 912 34 567",
		"my order is 12345":                           "",
		"no thanks":                                   "",
	} {
		if got := findContact(text); got != want {
			t.Errorf("findContact(%q) = %q, want %q", text, got, want)
		}
	}
}
