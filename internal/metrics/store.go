package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store"
)

// Store wraps st so that its failed calls count in store_errors_total{op,kind}.
// Not-found, conflict and claimed results are answers, not errors, and are
// not counted. Methods added to store.Store later pass through uncounted.
// Unwrap returns st.
//
// The wrapper has only store.Store's methods: give it to code that needs no
// optional capability of the backend found by type assertion (the desk, the
// router's knowledge-base watcher), and give the engine the store itself.
// The engine's store failures are counted from its outcomes (Observe).
func (m *Metrics) Store(st store.Store) store.Store {
	if m == nil || st == nil {
		return st
	}
	return &instrumented{Store: st, m: m}
}

// Unwrapper is implemented by the store Store returns.
type Unwrapper interface{ Unwrap() store.Store }

type instrumented struct {
	store.Store
	m *Metrics
}

func (s *instrumented) Unwrap() store.Store { return s.Store }

// count records err of op if it is a failure.
func (s *instrumented) count(op string, err error) {
	if err == nil || errors.Is(err, bot.ErrNotFound) || errors.Is(err, bot.ErrConflict) || errors.Is(err, bot.ErrClaimed) {
		return
	}
	kind := "other"
	switch {
	case errors.Is(err, bot.ErrUnavailable):
		kind = "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	case errors.Is(err, context.Canceled):
		return
	}
	s.m.storeErrors.WithLabelValues(op, kind).Inc()
}

func (s *instrumented) Conversation(ctx context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	c, err := s.Store.Conversation(ctx, id)
	s.count("conversation", err)
	return c, err
}

func (s *instrumented) SaveConversation(ctx context.Context, c *bot.Conversation) error {
	err := s.Store.SaveConversation(ctx, c)
	s.count("save_conversation", err)
	return err
}

func (s *instrumented) CustomerConversations(ctx context.Context, customerID string) ([]bot.ConversationID, error) {
	ids, err := s.Store.CustomerConversations(ctx, customerID)
	s.count("customer_conversations", err)
	return ids, err
}

func (s *instrumented) Append(ctx context.Context, id bot.ConversationID, msgs ...bot.Message) error {
	err := s.Store.Append(ctx, id, msgs...)
	s.count("append", err)
	return err
}

func (s *instrumented) Transcript(ctx context.Context, id bot.ConversationID, n int) ([]bot.Message, error) {
	msgs, err := s.Store.Transcript(ctx, id, n)
	s.count("transcript", err)
	return msgs, err
}

func (s *instrumented) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.Store.FirstSeen(ctx, key, ttl)
	s.count("first_seen", err)
	return ok, err
}

func (s *instrumented) RecordEvent(ctx context.Context, e bot.Event) error {
	err := s.Store.RecordEvent(ctx, e)
	s.count("record_event", err)
	return err
}

func (s *instrumented) Events(ctx context.Context, since, until time.Time) ([]bot.Event, error) {
	evs, err := s.Store.Events(ctx, since, until)
	s.count("events", err)
	return evs, err
}

func (s *instrumented) Enqueue(ctx context.Context, e handoff.Entry) error {
	err := s.Store.Enqueue(ctx, e)
	s.count("enqueue", err)
	return err
}

func (s *instrumented) Dequeue(ctx context.Context, id bot.ConversationID) error {
	err := s.Store.Dequeue(ctx, id)
	s.count("dequeue", err)
	return err
}

func (s *instrumented) Queue(ctx context.Context) ([]handoff.Entry, error) {
	q, err := s.Store.Queue(ctx)
	s.count("queue", err)
	return q, err
}

func (s *instrumented) Claim(ctx context.Context, id bot.ConversationID, agent string) error {
	err := s.Store.Claim(ctx, id, agent)
	s.count("claim", err)
	return err
}

func (s *instrumented) Unclaim(ctx context.Context, id bot.ConversationID, agent string) error {
	err := s.Store.Unclaim(ctx, id, agent)
	s.count("unclaim", err)
	return err
}

func (s *instrumented) Agents(ctx context.Context) ([]handoff.Agent, error) {
	a, err := s.Store.Agents(ctx)
	s.count("agents", err)
	return a, err
}

func (s *instrumented) Schedule(ctx context.Context, t bot.Timer) error {
	err := s.Store.Schedule(ctx, t)
	s.count("schedule", err)
	return err
}

func (s *instrumented) Due(ctx context.Context, now time.Time, n int) ([]bot.Timer, error) {
	ts, err := s.Store.Due(ctx, now, n)
	s.count("due", err)
	return ts, err
}

func (s *instrumented) Lease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	ok, err := s.Store.Lease(ctx, name, owner, ttl)
	s.count("lease", err)
	return ok, err
}

func (s *instrumented) PutDoc(ctx context.Context, d bot.Doc, expect int64) (bot.Doc, error) {
	out, err := s.Store.PutDoc(ctx, d, expect)
	s.count("put_doc", err)
	return out, err
}

func (s *instrumented) DocVersion(ctx context.Context, name string) (int64, error) {
	v, err := s.Store.DocVersion(ctx, name)
	s.count("doc_version", err)
	return v, err
}

func (s *instrumented) Ping(ctx context.Context) error {
	err := s.Store.Ping(ctx)
	s.count("ping", err)
	return err
}
