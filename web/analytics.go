package web

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents/nlp"
)

// Analytics are computed from the event log on request:
//
//   - conversations: distinct conversations with a customer message ("message");
//   - deflection: the share of them the bot answered ("answered") and never
//     handed to a human ("handoff");
//   - handoffs by reason ("handoff" Reason);
//   - time to first response: how long a customer who asked for a human
//     waited for one to join ("claim" Value, seconds);
//   - queue wait: every wait that ended, joined ("claim") or given up ("abandon");
//   - resolution time: handoff to resolve ("resolve" Value);
//   - CSAT: the mean rating ("csat" Value) for conversations resolved by the
//     bot and by humans (Meta by_agent).
//
// Times are charted per UTC day as medians.

type filter struct {
	Days    int
	Channel string
	Lang    string
	until   time.Time
}

func (s *Server) filterOf(r *http.Request) filter {
	q := r.URL.Query()
	f := filter{Days: 14, Channel: q.Get("channel"), Lang: q.Get("lang"), until: s.now().UTC()}
	if d, err := strconv.Atoi(q.Get("days")); err == nil && d >= 1 && d <= 365 {
		f.Days = d
	}
	return f
}

func (f filter) since() time.Time {
	y, m, d := f.until.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(f.Days - 1))
}

func (f filter) match(e bot.Event) bool {
	return (f.Channel == "" || e.Channel == f.Channel) && (f.Lang == "" || e.Lang == f.Lang)
}

// dayStats are the figures of one day (or of the whole range).
type dayStats struct {
	Day           string  `json:"day"`
	Conversations int     `json:"conversations"`
	Deflected     int     `json:"deflected"`
	Handoffs      int     `json:"handoffs"`
	FirstResponse float64 `json:"first_response_s"` // median
	QueueWait     float64 `json:"queue_wait_s"`     // median
	Resolution    float64 `json:"resolution_s"`     // median
	CSATBot       float64 `json:"csat_bot"`
	CSATHuman     float64 `json:"csat_human"`
	CSATBotN      int     `json:"csat_bot_n"`
	CSATHumanN    int     `json:"csat_human_n"`
	claims, waits []float64
	resolves      []float64
	botScores     []float64
	humanScores   []float64
	convs         map[bot.ConversationID]*convFacts
}

type convFacts struct{ answered, handedOff bool }

// Deflection is Deflected / Conversations (0 with none).
func (d *dayStats) Deflection() float64 {
	if d.Conversations == 0 {
		return 0
	}
	return float64(d.Deflected) / float64(d.Conversations)
}

type stats struct {
	Filter    filter               `json:"-"`
	Total     dayStats             `json:"total"`
	Days      []*dayStats          `json:"days"`
	Reasons   map[string]int       `json:"handoffs_by_reason"`
	ByLang    map[string]*dayStats `json:"by_lang"`
	ByChannel map[string]*dayStats `json:"by_channel"`
	Langs     []string             `json:"langs"`
	Channels  []string             `json:"channels"`
}

func newDay(day string) *dayStats {
	return &dayStats{Day: day, convs: map[bot.ConversationID]*convFacts{}}
}

func (d *dayStats) add(e bot.Event) {
	fact := func() *convFacts {
		c, ok := d.convs[e.Conv]
		if !ok {
			c = &convFacts{}
			d.convs[e.Conv] = c
		}
		return c
	}
	switch e.Type {
	case "message":
		fact()
	case "answered":
		fact().answered = true
	case "handoff":
		fact().handedOff = true
		d.Handoffs++
	case "claim":
		d.claims = append(d.claims, e.Value)
		d.waits = append(d.waits, e.Value)
	case "abandon":
		d.waits = append(d.waits, e.Value)
	case "resolve":
		d.resolves = append(d.resolves, e.Value)
	case "csat":
		if e.Meta["by_agent"] == "true" || (e.Meta["by_agent"] == "" && e.Agent != "") {
			d.humanScores = append(d.humanScores, e.Value)
		} else {
			d.botScores = append(d.botScores, e.Value)
		}
	}
}

func (d *dayStats) finish() {
	d.Conversations = len(d.convs)
	d.Deflected = 0
	for _, c := range d.convs {
		if c.answered && !c.handedOff {
			d.Deflected++
		}
	}
	d.FirstResponse, d.QueueWait, d.Resolution = median(d.claims), median(d.waits), median(d.resolves)
	d.CSATBot, d.CSATBotN = mean(d.botScores), len(d.botScores)
	d.CSATHuman, d.CSATHumanN = mean(d.humanScores), len(d.humanScores)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

func (s *Server) stats(r *http.Request) (*stats, error) {
	f := s.filterOf(r)
	evs, err := s.st.Events(r.Context(), f.since(), f.until.Add(time.Minute))
	if err != nil {
		return nil, err
	}
	st := &stats{Filter: f, Total: *newDay("total"), Reasons: map[string]int{},
		ByLang: map[string]*dayStats{}, ByChannel: map[string]*dayStats{}}
	days := map[string]*dayStats{}
	for d := f.since(); !d.After(f.until); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		days[k] = newDay(k)
		st.Days = append(st.Days, days[k])
	}
	langs, chans := map[string]bool{}, map[string]bool{}
	for _, e := range evs {
		if e.Lang != "" {
			langs[e.Lang] = true
		}
		if e.Channel != "" {
			chans[e.Channel] = true
		}
		by := func(m map[string]*dayStats, k string) {
			if k == "" {
				k = "?"
			}
			if m[k] == nil {
				m[k] = newDay(k)
			}
			m[k].add(e)
		}
		// Breakdowns by language and channel ignore the other filter of the same kind.
		if f.Channel == "" || e.Channel == f.Channel {
			by(st.ByLang, e.Lang)
		}
		if f.Lang == "" || e.Lang == f.Lang {
			by(st.ByChannel, e.Channel)
		}
		if !f.match(e) {
			continue
		}
		if d := days[e.At.UTC().Format(time.DateOnly)]; d != nil {
			d.add(e)
		}
		st.Total.add(e)
		if e.Type == "handoff" {
			st.Reasons[cmp.Or(string(e.Reason), "unknown")]++
		}
	}
	for _, d := range st.Days {
		d.finish()
	}
	st.Total.finish()
	for _, m := range []map[string]*dayStats{st.ByLang, st.ByChannel} {
		for _, d := range m {
			d.finish()
		}
	}
	st.Langs, st.Channels = sortedSet(langs), sortedSet(chans)
	return st, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) analytics(w http.ResponseWriter, r *http.Request, u User) {
	st, err := s.stats(r)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	type row struct {
		Key           string  `json:"key"`
		Conversations int     `json:"conversations"`
		Deflection    float64 `json:"deflection"`
		Handoffs      int     `json:"handoffs"`
		CSATBot       float64 `json:"csat_bot"`
		CSATHuman     float64 `json:"csat_human"`
	}
	rows := func(m map[string]*dayStats) []row {
		out := []row{}
		for k, d := range m {
			out = append(out, row{k, d.Conversations, d.Deflection(), d.Handoffs, d.CSATBot, d.CSATHuman})
		}
		slices.SortFunc(out, func(a, b row) int { return cmp.Compare(b.Conversations, a.Conversations) })
		return out
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"days": st.Filter.Days, "channel": st.Filter.Channel, "lang": st.Filter.Lang,
		"total": st.Total, "deflection": st.Total.Deflection(), "reasons": st.Reasons,
		"by_lang": rows(st.ByLang), "by_channel": rows(st.ByChannel),
		"langs": st.Langs, "channels": st.Channels,
	})
}

// chart renders one chart as SVG (server-side; the page shows it in <img>).
func (s *Server) chart(w http.ResponseWriter, r *http.Request, u User) {
	st, err := s.stats(r)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	var labels []string
	for _, d := range st.Days {
		labels = append(labels, d.Day[5:]) // MM-DD
	}
	perDay := func(f func(*dayStats) float64) []float64 {
		out := make([]float64, len(st.Days))
		for i, d := range st.Days {
			out[i] = f(d)
		}
		return out
	}
	var svg string
	switch strings.TrimSuffix(r.PathValue("name"), ".svg") {
	case "conversations":
		svg = barChart("Conversations per day", labels, perDay(func(d *dayStats) float64 { return float64(d.Conversations) }), "")
	case "deflection":
		svg = barChart("Deflection rate (resolved without a human)", labels, perDay(func(d *dayStats) float64 { return 100 * d.Deflection() }), "%")
	case "handoffs":
		keys := make([]string, 0, len(st.Reasons))
		for k := range st.Reasons {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(st.Reasons[b], st.Reasons[a]), cmp.Compare(a, b)) })
		vals := make([]float64, len(keys))
		for i, k := range keys {
			vals[i] = float64(st.Reasons[k])
		}
		svg = hbarChart("Handoffs by reason", keys, vals, "")
	case "first-response":
		svg = barChart("Time to first human response (median, minutes)", labels, perDay(func(d *dayStats) float64 { return d.FirstResponse / 60 }), "m")
	case "queue-wait":
		svg = barChart("Queue wait (median, minutes)", labels, perDay(func(d *dayStats) float64 { return d.QueueWait / 60 }), "m")
	case "resolution":
		svg = barChart("Resolution time (median, minutes)", labels, perDay(func(d *dayStats) float64 { return d.Resolution / 60 }), "m")
	case "csat":
		svg = hbarChart("CSAT (mean of 1-5)", []string{
			fmt.Sprintf("bot (%d ratings)", st.Total.CSATBotN), fmt.Sprintf("humans (%d ratings)", st.Total.CSATHumanN)},
			[]float64{st.Total.CSATBot, st.Total.CSATHuman}, "")
	case "languages", "channels":
		m := st.ByLang
		title := "Conversations by language"
		if r.PathValue("name") == "channels.svg" || r.PathValue("name") == "channels" {
			m, title = st.ByChannel, "Conversations by channel"
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Or(cmp.Compare(m[b].Conversations, m[a].Conversations), cmp.Compare(a, b))
		})
		vals := make([]float64, len(keys))
		for i, k := range keys {
			vals[i] = float64(m[k].Conversations)
		}
		svg = hbarChart(title, keys, vals, "")
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(svg))
}

func esc(s string) string { return html.EscapeString(s) }

func fmtNum(v float64, unit string) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64) + unit
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + unit
}

// barChart draws vertical bars, one per label.
func barChart(title string, labels []string, vals []float64, unit string) string {
	const w, h, left, top, bottom = 720, 240, 40, 30, 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, esc(title))
	fmt.Fprintf(&b, `<text x="%d" y="18" font-family="sans-serif" font-size="14" font-weight="bold" fill="#222">%s</text>`, left, esc(title))
	top_ := 0.0
	for _, v := range vals {
		top_ = max(top_, v)
	}
	if top_ == 0 {
		top_ = 1
	}
	plotH := float64(h - top - bottom)
	n := max(len(vals), 1)
	bw := float64(w-left-10) / float64(n)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, left, h-bottom, w-10, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="10" fill="#555" text-anchor="end">%s</text>`, left-4, top+8, esc(fmtNum(top_, unit)))
	for i, v := range vals {
		bh := plotH * v / top_
		x := float64(left) + float64(i)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2f6fde"><title>%s: %s</title></rect>`,
			x+bw*0.15, float64(h-bottom)-bh, bw*0.7, bh, esc(labels[i]), esc(fmtNum(v, unit)))
		if v > 0 && bw >= 22 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-family="sans-serif" font-size="10" fill="#222" text-anchor="middle">%s</text>`,
				x+bw/2, float64(h-bottom)-bh-3, esc(fmtNum(v, unit)))
		}
		if n <= 16 || i%((n+15)/16) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-family="sans-serif" font-size="10" fill="#555" text-anchor="middle">%s</text>`,
				x+bw/2, h-bottom+14, esc(labels[i]))
		}
	}
	if len(vals) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="12" fill="#777">no data yet</text>`, left+10, h/2)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// hbarChart draws horizontal bars, one per label.
func hbarChart(title string, labels []string, vals []float64, unit string) string {
	const w, left, row = 720, 190, 26
	h := 40 + max(len(vals), 1)*row + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, esc(title))
	fmt.Fprintf(&b, `<text x="10" y="18" font-family="sans-serif" font-size="14" font-weight="bold" fill="#222">%s</text>`, esc(title))
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	if top == 0 {
		top = 1
	}
	for i, v := range vals {
		y := 34 + i*row
		bw := float64(w-left-70) * v / top
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="12" fill="#222" text-anchor="end">%s</text>`, left-8, y+14, esc(labels[i]))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="#2f9e6e"/>`, left, y+2, bw)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-family="sans-serif" font-size="12" fill="#222">%s</text>`, float64(left)+bw+6, y+15, esc(fmtNum(v, unit)))
	}
	if len(vals) == 0 {
		fmt.Fprintf(&b, `<text x="10" y="52" font-family="sans-serif" font-size="12" fill="#777">no data yet</text>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// unansweredGroup is similar questions the bot could not answer.
type unansweredGroup struct {
	Text    string         `json:"text"` // the most recent wording
	Texts   []string       `json:"texts"`
	Count   int            `json:"count"`
	Lang    string         `json:"lang"`
	Reasons map[string]int `json:"reasons"`
	Last    time.Time      `json:"last"`
	tokens  map[string]bool
	langs   map[string]int
}

// similarity is the Jaccard index of two token sets.
func similarity(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	in := 0
	for t := range a {
		if b[t] {
			in++
		}
	}
	return float64(in) / float64(len(a)+len(b)-in)
}

// contentTokens are the normalised tokens of text that carry meaning: words
// of four letters or more (short ones are mostly "do", "you", "can", "the"
// in every language), or all words when there are none such.
func contentTokens(text string) map[string]bool {
	all := nlp.Tokens(text)
	out := map[string]bool{}
	for _, t := range all {
		if utf8.RuneCountInString(t) >= 4 {
			out[t] = true
		}
	}
	if len(out) == 0 {
		for _, t := range all {
			out[t] = true
		}
	}
	return out
}

// groupUnanswered groups the texts of "unanswered" events, newest first,
// by shared content tokens (Jaccard >= 0.5 with a group's first text).
func groupUnanswered(evs []bot.Event) []*unansweredGroup {
	var groups []*unansweredGroup
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Type != "unanswered" || strings.TrimSpace(e.Text) == "" {
			continue
		}
		toks := contentTokens(e.Text)
		var best *unansweredGroup
		bestSim := 0.0
		norm := nlp.Normalize(e.Text)
		for _, g := range groups {
			sim := similarity(toks, g.tokens)
			if nlp.Normalize(g.Text) == norm {
				sim = 1
			}
			if sim > bestSim {
				best, bestSim = g, sim
			}
		}
		if best == nil || bestSim < 0.5 {
			best = &unansweredGroup{Text: e.Text, Reasons: map[string]int{}, Last: e.At, tokens: toks, langs: map[string]int{}}
			groups = append(groups, best)
		}
		best.Count++
		best.Reasons[string(e.Reason)]++
		if e.Lang != "" {
			best.langs[e.Lang]++
		}
		if len(best.Texts) < 20 && !slices.Contains(best.Texts, e.Text) {
			best.Texts = append(best.Texts, e.Text)
		}
	}
	for _, g := range groups {
		n := 0
		for l, c := range g.langs {
			if c > n || c == n && l < g.Lang {
				g.Lang, n = l, c
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b *unansweredGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), b.Last.Compare(a.Last))
	})
	return groups
}

func (s *Server) unanswered(w http.ResponseWriter, r *http.Request, u User) {
	f := s.filterOf(r)
	if r.URL.Query().Get("days") == "" {
		f.Days = 30
	}
	evs, err := s.st.Events(r.Context(), f.since(), f.until.Add(time.Minute))
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	var keep []bot.Event
	for _, e := range evs {
		if e.Type == "unanswered" && f.match(e) {
			keep = append(keep, e)
		}
	}
	groups := groupUnanswered(keep)
	if len(groups) > 200 {
		groups = groups[:200]
	}
	if groups == nil {
		groups = []*unansweredGroup{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": f.Days, "total": len(keep), "groups": groups})
}
