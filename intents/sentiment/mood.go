package sentiment

// Handoff reasons, equal to bot.ReasonComplaint and
// bot.ReasonNegativeSentiment (this package imports nothing of the bot).
const (
	ReasonComplaint = "complaint"
	ReasonNegative  = "negative_sentiment"
)

// Mood is the sentiment of a conversation over its customer turns. It is a
// small value: keep it with the conversation (it marshals to JSON) and
// fold in each customer message with Add.
type Mood struct {
	Turns      int     `json:"turns"`
	Score      float64 `json:"score"`      // moving average of the turn scores, recent turns weigh more
	Last       float64 `json:"last"`       // score of the last turn
	Negative   int     `json:"negative"`   // consecutive negative turns up to the last one
	Frustrated int     `json:"frustrated"` // frustrated turns so far
	Complaint  bool    `json:"complaint"`  // some turn was a complaint
	Rising     bool    `json:"rising"`     // a second negative turn in a row, worse or frustrated
}

// Add returns the mood after one more customer message with result r.
func (m Mood) Add(r Result) Mood {
	prevScore, prevNeg := m.Score, m.Negative
	m.Turns++
	m.Last = r.Score
	if m.Turns == 1 {
		m.Score = r.Score
	} else {
		m.Score = 0.5*m.Score + 0.5*r.Score
	}
	if r.Label == Negative {
		m.Negative++
	} else {
		m.Negative = 0
	}
	if r.Frustrated {
		m.Frustrated++
	}
	m.Complaint = m.Complaint || r.Complaint
	// Rising frustration: a negative turn after a negative one, and
	// clearly worse than the conversation so far or newly frustrated.
	m.Rising = r.Label == Negative && prevNeg > 0 &&
		(r.Score < prevScore-0.2 || r.Frustrated)
	return m
}

// Track folds the results of a conversation's customer turns, oldest first.
func Track(results ...Result) Mood {
	var m Mood
	for _, r := range results {
		m = m.Add(r)
	}
	return m
}

// Trend compares two consecutive turns: below zero when the customer got
// more negative or newly frustrated, above zero when they calmed down. It
// is the difference of the scores, moved by 0.25 when frustration starts
// or ends.
func Trend(prev, cur Result) float64 {
	d := cur.Score - prev.Score
	switch {
	case cur.Frustrated && !prev.Frustrated:
		d -= 0.25
	case prev.Frustrated && !cur.Frustrated:
		d += 0.25
	}
	return d
}

// Handoff tells whether the mood calls for a human, and with which reason:
// ReasonComplaint once the customer complained; ReasonNegative after two
// frustrated turns, two negative turns in a row with rising frustration or
// a clearly negative average, or one very negative turn.
func (m Mood) Handoff() (reason string, ok bool) {
	switch {
	case m.Complaint:
		return ReasonComplaint, true
	case m.Frustrated >= 2,
		m.Negative >= 2 && (m.Rising || m.Score <= -0.4),
		m.Negative >= 1 && m.Last <= -0.75:
		return ReasonNegative, true
	}
	return "", false
}

// Priority is how much to raise the queue priority of the conversation:
// 2 for a complaint, 1 for a negative or frustrated customer, plus 1 while
// frustration is rising.
func (m Mood) Priority() int {
	p := 0
	switch {
	case m.Complaint:
		p = 2
	case m.Negative > 0 || m.Frustrated > 0 || m.Score <= negativeAt:
		p = 1
	}
	if m.Rising {
		p++
	}
	return p
}
