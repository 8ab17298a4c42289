package bot

import (
	"context"
	"log/slog"
	"time"
)

// Turn is one inbound message being handled, with its conversation loaded.
// Handlers change Conv in place; the engine saves it (and appends the
// customer message and every reply to the transcript) when the chain returns.
type Turn struct {
	Conv *Conversation
	Msg  Message
	// Now is the engine's clock at the start of the turn.
	Now time.Time
	// Log carries the conversation ID on every line.
	Log *slog.Logger

	replies []Reply
	notes   []Message
	events  []Event
}

// Reply queues r for the customer; it is sent after the conversation is saved.
func (t *Turn) Reply(r Reply) {
	if r.Lang == "" {
		r.Lang = t.Conv.Lang
	}
	t.replies = append(t.replies, r)
}

// Replies returns the replies queued so far.
func (t *Turn) Replies() []Reply { return t.replies }

// Note appends an internal message (role system or agent) to the transcript
// without sending it to the customer.
func (t *Turn) Note(m Message) { t.notes = append(t.notes, m) }

// Record queues an analytics event; the engine stores it after the turn.
func (t *Turn) Record(e Event) {
	if e.At.IsZero() {
		e.At = t.Now
	}
	if e.Conv == "" {
		e.Conv = t.Conv.ID
	}
	if e.Customer == "" {
		e.Customer = t.Conv.Customer.ID
	}
	if e.Channel == "" {
		e.Channel = t.Conv.Address.Channel
	}
	if e.Lang == "" {
		e.Lang = t.Conv.Lang
	}
	if t.events == nil {
		t.events = make([]Event, 0, 2) // most turns record two: the message and what came of it
	}
	t.events = append(t.events, e)
}

// A Handler handles one turn. It returns an error only when the turn failed;
// the engine then logs it once and sends the configured apology.
type Handler interface {
	Handle(ctx context.Context, t *Turn) error
}

// HandlerFunc lets an ordinary function be a Handler.
type HandlerFunc func(ctx context.Context, t *Turn) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, t *Turn) error { return f(ctx, t) }

// Middleware wraps a Handler.
type Middleware func(Handler) Handler

// Chain applies mws to h so that mws[0] is outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
