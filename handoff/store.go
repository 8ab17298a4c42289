// Package handoff is the human desk: the queue (priority, position, ETA),
// routing to agents (broadcast-and-claim or assign through a Selector), the
// atomic claim, the relay while a human holds a conversation, resolve and CSAT.
//
// Desk is the main type. Desk.Gate sits in front of the router in the
// engine's handler chain and keeps the bot silent while a human owns the
// conversation; the router calls Desk.Handoff; workspaces (Slack, the web
// inbox) render Cards and call Claim, Reply, Note, Release, Transfer and
// Resolve, which run as turns of the conversation through the engine, in
// order with the customer's messages. Desk.Run owns the timers (SLA
// reminders, after-hours follow-ups) and the queue loop (Assign routing,
// position updates), which one replica at a time runs under a lease.
package handoff

import (
	"context"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Entry is one conversation waiting for a human.
type Entry struct {
	Conv     bot.ConversationID `json:"conv"`
	Priority int                `json:"priority"` // higher first
	Since    time.Time          `json:"since"`    // older first within a priority
	Skill    string             `json:"skill,omitempty"`
	Lang     string             `json:"lang,omitempty"`
}

// Availability of an agent.
type Availability string

const (
	On   Availability = "on"
	Away Availability = "away"
	Off  Availability = "off"
)

// Agent is a person who takes over conversations, in Slack or the web inbox.
type Agent struct {
	ID       string       `json:"id"`   // "slack:U123" or "web:alice"
	Name     string       `json:"name"` // display name shown to customers
	Status   Availability `json:"status"`
	Capacity int          `json:"capacity"` // max conversations held at once; 0 means 1
	Skills   []string     `json:"skills,omitempty"`
	Langs    []string     `json:"langs,omitempty"`
	Active   int          `json:"active"` // conversations held now (filled in by Store.Agents)
}

// Store is what the desk needs beyond bot.Store. Every implementation
// passes store/storetest. All methods are safe across goroutines and replicas.
type Store interface {
	// Enqueue adds or replaces the queue entry of e.Conv.
	Enqueue(ctx context.Context, e Entry) error
	// Dequeue removes id from the queue; a missing entry is not an error.
	Dequeue(ctx context.Context, id bot.ConversationID) error
	// Queue lists waiting conversations by priority (high first), then age.
	Queue(ctx context.Context) ([]Entry, error)

	// Claim gives id to agent atomically and removes it from the queue. If
	// another agent holds it, it fails with an error wrapping bot.ErrClaimed.
	// Claiming again by the holder succeeds.
	Claim(ctx context.Context, id bot.ConversationID, agent string) error
	// Holder returns the agent holding id, "" if none.
	Holder(ctx context.Context, id bot.ConversationID) (string, error)
	// Unclaim releases id if agent holds it.
	Unclaim(ctx context.Context, id bot.ConversationID, agent string) error
	// Held lists the conversations agent holds.
	Held(ctx context.Context, agent string) ([]bot.ConversationID, error)

	// PutAgent creates or updates an agent (Active is ignored).
	PutAgent(ctx context.Context, a Agent) error
	// Agents lists agents with Active set from their claims.
	Agents(ctx context.Context) ([]Agent, error)
}
