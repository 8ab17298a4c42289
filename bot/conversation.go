package bot

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// State is who owns a conversation. There is exactly one owner at a time.
type State string

const (
	StateBot      State = "bot"      // the bot answers
	StateQueued   State = "queued"   // waiting for a human; the bot only reports the queue
	StateAgent    State = "agent"    // a human holds it; the bot stays silent
	StateResolved State = "resolved" // closed; the next customer message starts fresh with the bot
)

// Reason is why a conversation was handed to a human (or handed back).
type Reason string

const (
	ReasonRequested         Reason = "requested"
	ReasonLowConfidence     Reason = "low_confidence"
	ReasonRepeatedFailure   Reason = "repeated_failure"
	ReasonNegativeSentiment Reason = "negative_sentiment"
	ReasonComplaint         Reason = "complaint"
	ReasonIntentRule        Reason = "intent_rule"
	ReasonOutOfScope        Reason = "out_of_scope"
	ReasonLLMUngrounded     Reason = "llm_ungrounded"
	ReasonReleased          Reason = "released"    // agent put it back in the queue
	ReasonTransferred       Reason = "transferred" // agent moved it to another agent or skill
	ReasonResolved          Reason = "resolved"
	ReasonAbandoned         Reason = "abandoned" // customer left the queue
	ReasonReopened          Reason = "reopened"
)

// ErrIllegalTransition is returned (wrapped) by Conversation.Transition.
var ErrIllegalTransition = errors.New("bot: illegal state transition")

var transitions = map[State][]State{
	StateBot:      {StateQueued, StateAgent},
	StateQueued:   {StateAgent, StateBot, StateResolved},
	StateAgent:    {StateQueued, StateAgent, StateResolved},
	StateResolved: {StateBot},
}

// CSAT is the customer's rating of a conversation.
type CSAT struct {
	Score   int       `json:"score"` // 1..5
	Comment string    `json:"comment,omitempty"`
	ByAgent bool      `json:"by_agent"` // a human resolved the conversation
	At      time.Time `json:"at"`
}

// Handoff records one transfer of ownership.
type Handoff struct {
	From   State     `json:"from"`
	To     State     `json:"to"`
	Reason Reason    `json:"reason"`
	Agent  string    `json:"agent,omitempty"`
	At     time.Time `json:"at"`
}

// Conversation is the context the Store keeps between messages. The
// transcript is stored separately (Store.Append) so it is never rewritten.
type Conversation struct {
	ID         ConversationID    `json:"id"`
	Address    Address           `json:"address"` // where replies to the customer go
	Customer   Customer          `json:"customer"`
	State      State             `json:"state"`
	Lang       string            `json:"lang,omitempty"` // sticky customer language
	Agent      string            `json:"agent,omitempty"`
	Skill      string            `json:"skill,omitempty"`
	Priority   int               `json:"priority,omitempty"` // higher is served first
	Reason     Reason            `json:"reason,omitempty"`   // reason of the last handoff
	Intent     string            `json:"intent,omitempty"`   // last detected intent
	Score      float64           `json:"score,omitempty"`    // its confidence
	Misses     int               `json:"misses,omitempty"`   // consecutive unanswered turns
	Tried      []string          `json:"tried,omitempty"`    // intents/FAQ entries the bot answered
	Sentiment  float64           `json:"sentiment,omitempty"`
	History    []Handoff         `json:"history,omitempty"`
	CSAT       *CSAT             `json:"csat,omitempty"`
	AwaitCSAT  bool              `json:"await_csat,omitempty"`
	Data       map[string]string `json:"data,omitempty"` // adapter and handler extras (thread IDs, card ts)
	Created    time.Time         `json:"created"`
	Updated    time.Time         `json:"updated"`
	Queued     time.Time         `json:"queued,omitempty"`
	Claimed    time.Time         `json:"claimed,omitempty"`
	FirstReply time.Time         `json:"first_reply,omitempty"` // first bot or agent reply
	Resolved   time.Time         `json:"resolved,omitempty"`
	// Inbound is the Delivery.Seq of the last inbound entry a turn committed
	// (durable inbox only): a redelivered entry at or before it is skipped.
	Inbound string `json:"inbound,omitempty"`
	Version int64  `json:"version"` // owned by the Store; see Store.SaveConversation
}

// Clone returns a deep copy of c: changing one never changes the other.
func (c *Conversation) Clone() *Conversation {
	d := *c
	d.Tried = slices.Clone(c.Tried)
	d.History = slices.Clone(c.History)
	if c.CSAT != nil {
		x := *c.CSAT
		d.CSAT = &x
	}
	d.Data = maps.Clone(c.Data)
	return &d
}

// NewConversation starts a conversation owned by the bot.
func NewConversation(addr Address, cust Customer, now time.Time) *Conversation {
	return &Conversation{ID: addr.ConversationID(), Address: addr, Customer: cust,
		State: StateBot, Created: now, Updated: now}
}

// Transition moves the conversation to state to, recording reason. It
// returns an error wrapping ErrIllegalTransition if the move is not allowed,
// and requires a reason for every handoff to a human.
func (c *Conversation) Transition(to State, reason Reason, agent string, now time.Time) error {
	ok := false
	for _, s := range transitions[c.State] {
		ok = ok || s == to
	}
	if !ok {
		return fmt.Errorf("%w: %s → %s (%s)", ErrIllegalTransition, c.State, to, c.ID)
	}
	if (to == StateQueued || to == StateAgent) && reason == "" {
		return fmt.Errorf("%w: %s → %s needs a reason code", ErrIllegalTransition, c.State, to)
	}
	c.History = append(c.History, Handoff{From: c.State, To: to, Reason: reason, Agent: agent, At: now})
	switch to {
	case StateQueued:
		if c.State == StateBot {
			c.Reason = reason
		}
		c.Queued, c.Agent = now, ""
	case StateAgent:
		if c.State == StateBot {
			c.Reason = reason
		}
		c.Agent, c.Claimed = agent, now
	case StateResolved:
		c.Resolved = now
	case StateBot:
		c.Agent, c.Misses, c.Skill, c.Priority = "", 0, "", 0
	}
	c.State = to
	return nil
}

// Set stores an extra value in c.Data.
func (c *Conversation) Set(k, v string) {
	if c.Data == nil {
		c.Data = map[string]string{}
	}
	c.Data[k] = v
}
