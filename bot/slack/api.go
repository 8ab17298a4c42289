package slack

import (
	"context"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// Desk is what the adapter needs of the human desk (handoff.Desk). Every
// method is safe for concurrent use; a denied agent action returns an error
// the adapter shows to that agent only.
type Desk interface {
	// Claim gives id to a. It fails with an error wrapping bot.ErrClaimed
	// when another agent holds it; claiming again by the holder succeeds.
	// The desk then calls Workspace.Update with the claimed card.
	Claim(ctx context.Context, id bot.ConversationID, a handoff.Agent) error
	// Reply sends an agent's text to the customer of id, claiming an
	// unclaimed conversation first (bot.ErrClaimed if someone else holds it).
	Reply(ctx context.Context, id bot.ConversationID, a handoff.Agent, text string) error
	// Note adds an internal note to id; the customer never sees it.
	Note(ctx context.Context, id bot.ConversationID, a handoff.Agent, text string) error
	// Release puts id back in the queue.
	Release(ctx context.Context, id bot.ConversationID, a handoff.Agent) error
	// Resolve closes id; the desk then asks the customer for a CSAT rating.
	Resolve(ctx context.Context, id bot.ConversationID, a handoff.Agent) error
	// SetStatus sets a's availability.
	SetStatus(ctx context.Context, a handoff.Agent, s handoff.Availability) error
	// Agents lists the known agents with their Active counts.
	Agents(ctx context.Context) ([]handoff.Agent, error)
	// Queue lists the waiting conversations as cards, first served first.
	Queue(ctx context.Context) ([]handoff.Card, error)
}

// slackAPI is the part of *slackgo.Client the adapter calls, so a test can
// substitute it. Every method may return *slackgo.RateLimitedError.
type slackAPI interface {
	AuthTestContext(ctx context.Context) (*slackgo.AuthTestResponse, error)
	PostMessageContext(ctx context.Context, channelID string, opts ...slackgo.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, ts string, opts ...slackgo.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, opts ...slackgo.MsgOption) (string, error)
	GetUserInfoContext(ctx context.Context, user string, opts ...slackgo.GetUserInfoOption) (*slackgo.User, error)
}

var _ slackAPI = (*slackgo.Client)(nil)
