package bot

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of the Store contracts. Implementations wrap them with %w.
var (
	ErrNotFound    = errors.New("bot: not found")
	ErrConflict    = errors.New("bot: changed concurrently")
	ErrClaimed     = errors.New("bot: already claimed by someone else")
	ErrUnavailable = errors.New("bot: store unavailable")
)

// Store keeps conversations and everything hanging off them. Every
// implementation (store/embedded, store/redisstore) passes store/storetest.
// All methods are safe for concurrent use by many goroutines and replicas.
// Errors caused by the backend being unreachable wrap ErrUnavailable.
type Store interface {
	ConversationStore
	TranscriptStore
	Deduper
}

// ConversationStore keeps conversation records with optimistic concurrency.
type ConversationStore interface {
	// Conversation returns the stored conversation or an error wrapping ErrNotFound.
	Conversation(ctx context.Context, id ConversationID) (*Conversation, error)
	// SaveConversation writes c if c.Version equals the stored version (0 for
	// a new conversation), then increments c.Version. Otherwise it returns an
	// error wrapping ErrConflict and leaves the stored record unchanged. A new
	// conversation is also indexed under its customer (CustomerConversations).
	SaveConversation(ctx context.Context, c *Conversation) error
	// CustomerConversations lists a customer's conversations, oldest first.
	CustomerConversations(ctx context.Context, customerID string) ([]ConversationID, error)
}

// TranscriptStore keeps each conversation's messages, append-only.
type TranscriptStore interface {
	// Append adds messages to the end of the transcript of id. It costs the
	// same however long the transcript already is.
	Append(ctx context.Context, id ConversationID, msgs ...Message) error
	// Transcript returns the last n messages of id, oldest first (all if n <= 0).
	// A conversation with no messages returns an empty slice and no error.
	Transcript(ctx context.Context, id ConversationID, n int) ([]Message, error)
}

// Deduper remembers keys (platform message or event IDs) for a while.
type Deduper interface {
	// FirstSeen records key for ttl and reports whether this call was the first
	// to see it. Exactly one of many concurrent callers gets true.
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Doc is one version of a named, versioned document (the knowledge base,
// settings, accounts). Every write keeps the previous versions for history,
// diff and rollback.
type Doc struct {
	Name    string    `json:"name"`
	Version int64     `json:"version"`
	Data    []byte    `json:"data,omitempty"`
	Author  string    `json:"author,omitempty"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
	// Expires, when set on a write, is when the whole document (every
	// version) disappears, as if never written; a write without it keeps
	// the document for good. For records kept only as long as what they
	// point to (a Slack thread's conversation).
	Expires time.Time `json:"expires,omitzero"`
}

// DocStore keeps versioned documents. Replicas notice edits by polling
// DocVersion, which is cheap.
type DocStore interface {
	// Doc returns the latest version of name, or an error wrapping ErrNotFound.
	Doc(ctx context.Context, name string) (Doc, error)
	// DocAt returns one past version, or an error wrapping ErrNotFound.
	DocAt(ctx context.Context, name string, version int64) (Doc, error)
	// DocVersion returns the latest version number of name, 0 if none.
	DocVersion(ctx context.Context, name string) (int64, error)
	// PutDoc stores d.Data as version expect+1 if the latest version is expect,
	// else it fails with an error wrapping ErrConflict. It returns the new Doc.
	PutDoc(ctx context.Context, d Doc, expect int64) (Doc, error)
	// DocHistory lists up to limit versions of name, newest first, without Data.
	DocHistory(ctx context.Context, name string, limit int) ([]Doc, error)
}

// Event is one analytics fact: a message handled, a handoff, a claim, a CSAT.
type Event struct {
	At   time.Time      `json:"at"`
	Type string         `json:"type"`
	Conv ConversationID `json:"conv,omitempty"`
	// Customer is the Customer.ID of the conversation, so a customer's
	// events are found (export, delete) even after the conversation expired.
	Customer string            `json:"customer,omitempty"`
	Channel  string            `json:"channel,omitempty"`
	Lang     string            `json:"lang,omitempty"`
	Reason   Reason            `json:"reason,omitempty"`
	Intent   string            `json:"intent,omitempty"`
	Agent    string            `json:"agent,omitempty"`
	Value    float64           `json:"value,omitempty"` // seconds, score or rating
	Text     string            `json:"text,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
}

// EventLog is an append-only analytics log, trimmed by retention.
type EventLog interface {
	RecordEvent(ctx context.Context, e Event) error
	// Events returns the events with since <= At < until, oldest first.
	Events(ctx context.Context, since, until time.Time) ([]Event, error)
}

// Leaser hands out short exclusive leases (a Discord shard, the queue
// assigner), so that exactly one replica does a job at a time.
type Leaser interface {
	// Lease acquires or renews name for owner for ttl. It reports whether owner
	// holds the lease after the call.
	Lease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Unlease gives name up if owner holds it.
	Unlease(ctx context.Context, name, owner string) error
}

// Timer is a durable scheduled job (SLA re-notify, follow-ups).
type Timer struct {
	Key     string         `json:"key"` // unique; scheduling the same key again replaces it
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Conv    ConversationID `json:"conv,omitempty"`
	Payload string         `json:"payload,omitempty"`
}

// TimerStore keeps durable timers. Each due timer is handed to exactly one caller.
type TimerStore interface {
	Schedule(ctx context.Context, t Timer) error
	Cancel(ctx context.Context, key string) error
	// Due removes and returns up to n timers with At <= now, earliest first.
	// Concurrent callers never receive the same timer.
	Due(ctx context.Context, now time.Time, n int) ([]Timer, error)
}
