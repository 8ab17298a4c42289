package handoff

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/supportbot/supportbot/bot"
)

// summaryWindow is how many recent messages the summary reads.
const summaryWindow = 40

// summaryTimeout bounds a Summarizer call; the extractive summary is used after it.
const summaryTimeout = 5 * time.Second

// summary returns the card's summary of msgs: the Summarizer's (cached per
// transcript length) if one is set and answers in time, else Extract's.
func (d *Desk) summary(ctx context.Context, c *bot.Conversation, msgs []bot.Message) string {
	if d.sum == nil || len(msgs) == 0 {
		return Extract(msgs, 3)
	}
	key := sumKey{c.ID, len(msgs), msgs[len(msgs)-1].At}
	if s, ok := d.sums.get(key); ok {
		return s
	}
	sctx, cancel := context.WithTimeout(ctx, summaryTimeout)
	defer cancel()
	s, err := d.sum.Summarize(sctx, msgs)
	if err != nil || strings.TrimSpace(s) == "" {
		d.log.Warn("summarizer failed; using the extractive summary", "conversation", c.ID, "err", err)
		return Extract(msgs, 3)
	}
	d.sums.put(key, s)
	return s
}

type sumKey struct {
	id   bot.ConversationID
	n    int
	last time.Time
}

// summaryCache keeps recent Summarizer results so that re-rendering a card
// does not call it again.
type summaryCache struct {
	mu sync.Mutex
	m  map[sumKey]string
}

func (s *summaryCache) get(k sumKey) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return v, ok
}

func (s *summaryCache) put(k sumKey, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) > 1000 {
		s.m = map[sumKey]string{}
	}
	s.m[k] = v
}

// Extract is the offline summary: the customer's n most informative
// messages (many distinct content words, numbers such as order IDs,
// questions; greetings, button presses and requests for a human score
// nothing), shortened, in the order they were written.
func Extract(msgs []bot.Message, n int) string {
	type cand struct {
		i     int
		score int
		text  string
	}
	var cands []cand
	for i, m := range msgs {
		if m.Role != bot.RoleCustomer {
			continue
		}
		if s := informative(m.Text); s > 0 {
			cands = append(cands, cand{i, s, m.Text})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return b.score - a.score })
	cands = cands[:min(n, len(cands))]
	slices.SortFunc(cands, func(a, b cand) int { return a.i - b.i })
	parts := make([]string, len(cands))
	for i, c := range cands {
		parts[i] = shorten(c.text, 160)
	}
	return strings.Join(parts, " / ")
}

// informative scores one customer message; 0 means it says nothing.
func informative(text string) int {
	t := strings.TrimSpace(text)
	if t == "" || (!strings.ContainsRune(t, ' ') && strings.Contains(t, ":")) { // button value
		return 0
	}
	words := strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	seen := map[string]bool{}
	content, numbers := 0, 0
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		switch {
		case strings.ContainsFunc(w, unicode.IsDigit):
			numbers++
		case len([]rune(w)) > 2 && !stopwords[w]:
			content++
		}
	}
	if content < 2 && numbers == 0 {
		return 0
	}
	score := min(content, 25) + 3*min(numbers, 3)
	if strings.Contains(t, "?") {
		score += 2
	}
	return score
}

// stopwords are function words and chat filler in the desk's languages.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		the and for you are but not was with have this that what when can please thanks thank hello
		human agent person someone real talk speak help want need would could just there here they
		them their then than from your yes okay any all get got has had did does how who why
		og det som jeg har for med til den ikke kan vil meg deg hei takk hva når hvor menneske
		och att det som jag har för med till den inte kan vill mig dig hej tack vad när var människa
		ali što sta kako koji koja koje ima nije sam ste smo može moze mogu hvala zdravo molim čovek covek`) {
		m[w] = true
	}
	return m
}()
