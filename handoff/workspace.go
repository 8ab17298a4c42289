package handoff

import (
	"context"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Past is one earlier conversation of the same customer.
type Past struct {
	Conv    bot.ConversationID `json:"conv"`
	Channel string             `json:"channel"`
	Outcome string             `json:"outcome"` // "bot", "agent", "abandoned", …
	CSAT    int                `json:"csat,omitempty"`
	Started time.Time          `json:"started"`
	Subject string             `json:"subject,omitempty"` // first customer message, shortened
}

// Card is everything an agent needs to help at once. The desk builds it;
// workspaces (Slack, the web inbox) render it.
type Card struct {
	Conv       bot.ConversationID `json:"conv"`
	Customer   bot.Customer       `json:"customer"`
	Platform   string             `json:"platform"`
	Lang       string             `json:"lang"`       // the customer's language
	AgentLang  string             `json:"agent_lang"` // what the agent sees (translation)
	Intent     string             `json:"intent,omitempty"`
	Confidence float64            `json:"confidence,omitempty"`
	Reason     bot.Reason         `json:"reason"`
	Tried      []string           `json:"tried,omitempty"` // what the bot already answered
	Sentiment  string             `json:"sentiment"`       // "negative", "neutral", "positive"
	History    []Past             `json:"history,omitempty"`
	Summary    string             `json:"summary"`
	Last       []bot.Message      `json:"last,omitempty"` // the last few messages, oldest first
	State      bot.State          `json:"state"`
	Agent      string             `json:"agent,omitempty"` // agent ID holding it
	AgentName  string             `json:"agent_name,omitempty"`
	Skill      string             `json:"skill,omitempty"`
	Priority   int                `json:"priority,omitempty"`
	Position   int                `json:"position,omitempty"` // 1-based queue position while queued
	Since      time.Time          `json:"since"`              // when the wait for a human began
	Topic      string             `json:"topic,omitempty"`    // the router's subject (Request.Topic)
	Contact    string             `json:"contact,omitempty"`  // email or phone left for a follow-up
	Opens      time.Time          `json:"opens,omitzero"`     // handed off after hours: when the team opens
	// Refs are the workspace's own references for this card (e.g. the Slack
	// channel and message ts), kept in the conversation's Data.
	Refs map[string]string `json:"refs,omitempty"`
}

// Workspace is where agents work: Slack, the web inbox. The desk calls it
// after each change; implementations must be safe for concurrent use and
// must escape customer text so it cannot ping or inject markup.
type Workspace interface {
	// Name is "slack" or "web".
	Name() string
	// Announce presents a new waiting conversation (to the handoff channel,
	// or to the assigned agent when c.Agent is set). It returns references
	// to keep with the conversation (merged into Card.Refs later).
	Announce(ctx context.Context, c Card) (map[string]string, error)
	// Update re-renders the card after a claim, release, transfer or resolve.
	Update(ctx context.Context, c Card) error
	// Relay shows a message of the conversation to the agents: customer
	// messages while queued or held, internal notes (Kind KindNote, role
	// system) and agent replies (role agent); both carry Meta["agent"], the
	// writer's agent ID, so a workspace may skip what was written in it.
	Relay(ctx context.Context, c Card, m bot.Message) error
	// Remind re-notifies an unclaimed card (level 1) or escalates it (level 2:
	// mention the escalation group, or the manager channel for complaints).
	Remind(ctx context.Context, c Card, level int) error
}
