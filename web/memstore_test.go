package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// memStore is a minimal in-memory bot.Store for the channel's unit tests.
type memStore struct {
	mu    sync.Mutex
	convs map[bot.ConversationID]bot.Conversation
	msgs  map[bot.ConversationID][]bot.Message
	seen  map[string]bool
}

func newMemStore() *memStore {
	return &memStore{convs: map[bot.ConversationID]bot.Conversation{}, msgs: map[bot.ConversationID][]bot.Message{}, seen: map[string]bool{}}
}

func (s *memStore) Conversation(_ context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, bot.ErrNotFound)
	}
	return &c, nil
}

func (s *memStore) SaveConversation(_ context.Context, c *bot.Conversation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.convs[c.ID].Version != c.Version {
		return bot.ErrConflict
	}
	c.Version++
	s.convs[c.ID] = *c
	return nil
}

func (s *memStore) CustomerConversations(context.Context, string) ([]bot.ConversationID, error) {
	return nil, nil
}

func (s *memStore) Append(_ context.Context, id bot.ConversationID, msgs ...bot.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[id] = append(s.msgs[id], msgs...)
	return nil
}

func (s *memStore) Transcript(_ context.Context, id bot.ConversationID, n int) ([]bot.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if n > 0 && len(m) > n {
		m = m[len(m)-n:]
	}
	return append([]bot.Message{}, m...), nil
}

func (s *memStore) FirstSeen(_ context.Context, key string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return false, nil
	}
	s.seen[key] = true
	return true, nil
}
