package bot

import (
	"strings"
	"time"
)

// Address says where a message came from or where a reply goes.
type Address struct {
	Channel string `json:"channel"`          // adapter name: "cli", "web", "slack", "discord"
	Space   string `json:"space,omitempty"`  // workspace, guild or site; "" if none
	Room    string `json:"room"`             // platform channel or DM ID
	Thread  string `json:"thread,omitempty"` // thread anchor; "" if none
}

// ConversationID is the stable Store key of a conversation.
type ConversationID string

// ConversationID derives the key from the address. It is stable across
// restarts and shards because it uses only platform IDs.
func (a Address) ConversationID() ConversationID {
	parts := []string{a.Channel, a.Space, a.Room, a.Thread}
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, ":", "_")
	}
	return ConversationID(strings.Join(parts, ":"))
}

// Role says who wrote a message.
type Role string

const (
	RoleCustomer Role = "customer"
	RoleBot      Role = "bot"
	RoleAgent    Role = "agent"
	RoleSystem   Role = "system" // notes, state changes: never shown to the customer
)

// Customer identifies the person asking. ID is "<channel>:<platform user ID>"
// unless the adapter knows a cross-channel identity (e.g. a verified email).
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Choice is a button offered with a reply; pressing it sends Value back as a message.
type Choice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Message is one chat message, whatever the platform.
type Message struct {
	ID       string            `json:"id"`               // platform message or event ID; dedupe key
	From     Address           `json:"from"`             // where it was written
	Customer Customer          `json:"customer"`         // the customer of the conversation
	Role     Role              `json:"role"`             // who wrote it
	Author   string            `json:"author,omitempty"` // display name (agent name for RoleAgent)
	Text     string            `json:"text"`
	Lang     string            `json:"lang,omitempty"` // language of Text when known
	Original string            `json:"original,omitempty"`
	Choices  []Choice          `json:"choices,omitempty"`
	Kind     ReplyKind         `json:"kind,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	At       time.Time         `json:"at"`
}

// ReplyKind tells a channel how to render an outbound message.
type ReplyKind string

const (
	KindAnswer  ReplyKind = "answer"  // a knowledge-base answer
	KindSuggest ReplyKind = "suggest" // "did you mean…" with Choices
	KindQueue   ReplyKind = "queue"   // position and ETA while waiting for a human
	KindAgent   ReplyKind = "agent"   // a human agent's words (Author is the agent's name)
	KindCSAT    ReplyKind = "csat"    // the satisfaction question, Choices 1..5
	KindNotice  ReplyKind = "notice"  // status, apologies, hand-back notes
)

// Reply is what a handler or the desk sends to a customer.
type Reply struct {
	Text    string            `json:"text"`
	Kind    ReplyKind         `json:"kind,omitempty"`
	Author  string            `json:"author,omitempty"` // agent display name for KindAgent
	Lang    string            `json:"lang,omitempty"`
	Choices []Choice          `json:"choices,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
	// Original is what the author wrote before translation (an agent's
	// reply in the agent's language); the transcript keeps it, the
	// customer is not sent it.
	Original string `json:"original,omitempty"`
}
