package handoff

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BusinessHours are the team's opening hours ([handoff.hours]):
//
//	timezone = "Europe/Oslo"
//	holidays = ["2026-12-24", "2026-12-25"]
//	[handoff.hours.weekly]
//	mon-fri = "08:00-16:00"
//	sat     = "10:00-12:00, 13:00-15:00"
//
// Days missing from Weekly are closed. With Weekly empty the team is always
// open (holidays still close it). Spans end on the day they start ("24:00"
// is midnight).
type BusinessHours struct {
	// Timezone is an IANA name; default UTC.
	Timezone string `toml:"timezone"`
	// Weekly maps a weekday ("mon".."sun") or a range ("mon-fri") to
	// comma-separated "HH:MM-HH:MM" spans; "" or "closed" closes the day.
	Weekly map[string]string `toml:"weekly"`
	// Holidays are closed dates, "YYYY-MM-DD" in Timezone.
	Holidays []string `toml:"holidays"`
}

// span is an opening span in minutes after local midnight, [open, close).
type span struct{ open, close int }

// schedule is BusinessHours compiled.
type schedule struct {
	loc      *time.Location
	always   bool // no weekly table: open every day, all day
	week     [7][]span
	holidays map[string]bool
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (h BusinessHours) compile() (*schedule, error) {
	s := &schedule{loc: time.UTC, holidays: map[string]bool{}}
	if h.Timezone != "" {
		loc, err := time.LoadLocation(h.Timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone %q: %w", h.Timezone, err)
		}
		s.loc = loc
	}
	for _, d := range h.Holidays {
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("holiday %q: want YYYY-MM-DD", d)
		}
		s.holidays[t.Format(time.DateOnly)] = true
	}
	if len(h.Weekly) == 0 {
		s.always = true
		return s, nil
	}
	seen := [7]bool{}
	open := false
	for key, val := range h.Weekly {
		days, err := parseDays(key)
		if err != nil {
			return nil, err
		}
		spans, err := parseSpans(val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		for _, d := range days {
			if seen[d] {
				return nil, fmt.Errorf("%s: %s is listed twice", key, d)
			}
			seen[d] = true
			s.week[d] = spans
			open = open || len(spans) > 0
		}
	}
	if !open {
		return nil, errors.New("weekly: no day is open; leave weekly empty to be always open")
	}
	return s, nil
}

func parseDays(key string) ([]time.Weekday, error) {
	k := strings.ToLower(strings.TrimSpace(key))
	from, to, isRange := strings.Cut(k, "-")
	a, ok := dayNames[strings.TrimSpace(from)]
	if !ok {
		return nil, fmt.Errorf("weekly: %q: want mon..sun or a range like mon-fri", key)
	}
	if !isRange {
		return []time.Weekday{a}, nil
	}
	b, ok := dayNames[strings.TrimSpace(to)]
	if !ok {
		return nil, fmt.Errorf("weekly: %q: want mon..sun or a range like mon-fri", key)
	}
	var days []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		days = append(days, d)
		if d == b {
			return days, nil
		}
	}
}

func parseSpans(v string) ([]span, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "closed") {
		return nil, nil
	}
	var out []span
	for part := range strings.SplitSeq(v, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("%q: want HH:MM-HH:MM", part)
		}
		o, err1 := parseClock(a)
		c, err2 := parseClock(b)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		if c <= o {
			return nil, fmt.Errorf("%q: closes before it opens (split spans at midnight)", part)
		}
		if len(out) > 0 && o < out[len(out)-1].close {
			return nil, fmt.Errorf("%q: overlaps or precedes the span before it", part)
		}
		out = append(out, span{o, c})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm > 0) {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	return hh*60 + mm, nil
}

// Open reports whether the team is open at t.
func (s *schedule) Open(t time.Time) bool {
	next := s.Next(t)
	return !next.IsZero() && !next.After(t)
}

// Next returns t if the team is open at t, else the next opening time (in
// the schedule's location). It returns the zero time if the team never opens
// in the coming year.
func (s *schedule) Next(t time.Time) time.Time {
	t = t.In(s.loc)
	y, m, d := t.Date()
	for i := 0; i <= 370; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, s.loc)
		if s.holidays[day.Format(time.DateOnly)] {
			continue
		}
		spans := s.week[day.Weekday()]
		if s.always {
			spans = []span{{0, 24 * 60}}
		}
		for _, sp := range spans {
			open := time.Date(day.Year(), day.Month(), day.Day(), 0, sp.open, 0, 0, s.loc)
			close := time.Date(day.Year(), day.Month(), day.Day(), 0, sp.close, 0, 0, s.loc)
			if !t.Before(close) {
				continue
			}
			if t.Before(open) {
				return open
			}
			return t
		}
	}
	return time.Time{}
}
