package discord

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/fakediscord"
)

// wait bounds every wait on the fake.
const wait = 10 * time.Second

const (
	guild    = "4194304"  // 1 << 22: shard 1 of 2, shard 0 of 1
	guild0   = "8388608"  // 2 << 22: shard 0 of 2
	support  = "70000001" // the support channel
	other    = "70000002" // a guild channel that is not for support
	support0 = "70000003" // a support channel in guild0
)

var alice = fakediscord.User{ID: "4242", Name: "alice"}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newFake starts a fake Discord with one guild, a support channel and
// another channel.
func newFake(t testing.TB) *fakediscord.Server {
	fd := fakediscord.New(fakediscord.Options{})
	t.Cleanup(fd.Close)
	fd.AddChannel(guild, support)
	fd.AddChannel(guild0, support0)
	fd.AddChannel(guild, other)
	return fd
}

func testConfig() Config {
	return Config{Enabled: true, SupportChannels: []string{support, support0}, Backoff: Duration(50 * time.Millisecond),
		LeaseTTL: Duration(3 * time.Second), LeaseRetry: Duration(20 * time.Millisecond)}
}

// newAdapter returns the real adapter (real discordgo) pointed at fd.
func newAdapter(t testing.TB, fd *fakediscord.Server, cfg Config, opts ...Option) *Channel {
	t.Helper()
	ch, err := New(cfg, fd.Token, testLog(t), append([]Option{WithHTTPClient(fd.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// listen runs Listen until the test ends and returns the deliveries.
func listen(t testing.TB, ch *Channel) <-chan bot.Inbound {
	t.Helper()
	in := make(chan bot.Inbound, 256)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Listen(ctx, func(_ context.Context, i bot.Inbound) { in <- i }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Listen = %v after cancel, want nil", err)
			}
		case <-time.After(wait):
			t.Errorf("Listen still running %v after cancel", wait)
		}
	})
	return in
}

func next(t testing.TB, in <-chan bot.Inbound) bot.Inbound {
	t.Helper()
	select {
	case i := <-in:
		return i
	case <-time.After(wait):
		t.Fatalf("nothing delivered within %v", wait)
	}
	return bot.Inbound{}
}

func connected(t testing.TB, fd *fakediscord.Server, n int) {
	t.Helper()
	if err := fd.WaitConnected(wait, n); err != nil {
		t.Fatalf("gateway: %v connections, want %d: %v", fd.Connected(), n, err)
	}
}

func waitPost(t testing.TB, fd *fakediscord.Server, what string, match func(fakediscord.Post) bool) fakediscord.Post {
	t.Helper()
	p, err := fd.WaitPost(wait, match)
	if err != nil {
		t.Fatalf("no post %s: %v; posts: %+v", what, err, fd.Posts())
	}
	return p
}

// echo is the tiny handler of the tests: it answers "echo: <text>", offers
// buttons for "suggest", and answers the /support human and status requests.
var echo = bot.HandlerFunc(func(_ context.Context, t *bot.Turn) error {
	switch {
	case t.Msg.Meta["request"] == "human":
		t.Reply(bot.Reply{Kind: bot.KindQueue, Text: "You are number 1 in the queue."})
	case t.Msg.Meta["request"] == "status":
		t.Reply(bot.Reply{Kind: bot.KindQueue, Text: "Nobody is waiting."})
	case t.Msg.Text == "suggest":
		t.Reply(bot.Reply{Kind: bot.KindSuggest, Text: "Did you mean…",
			Choices: []bot.Choice{{Label: "Returns", Value: "returns"}, {Label: "Refund status", Value: "refund status"}}})
	default:
		t.Reply(bot.Reply{Kind: bot.KindAnswer, Text: "echo: " + t.Msg.Text})
	}
	return nil
})

// runEngine runs a real bot.Engine with ch and h on an in-memory store
// until the test ends.
func runEngine(t testing.TB, ch *Channel, h bot.Handler) *memStore {
	t.Helper()
	st := newMemStore()
	e := bot.New(bot.Config{}, st, h, testLog(t))
	e.Add(ch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("engine: %v", err)
			}
		case <-time.After(wait):
			t.Error("engine did not stop")
		}
	})
	return st
}

// memStore is a small in-memory bot.Store and Leaser for these tests.
type memStore struct {
	mu     sync.Mutex
	convs  map[bot.ConversationID]bot.Conversation
	msgs   map[bot.ConversationID][]bot.Message
	seen   map[string]bool
	leases map[string]string
	tries  map[string]int // failed Lease calls per owner
	change chan struct{}
}

func newMemStore() *memStore {
	return &memStore{convs: map[bot.ConversationID]bot.Conversation{}, msgs: map[bot.ConversationID][]bot.Message{},
		seen: map[string]bool{}, leases: map[string]string{}, tries: map[string]int{}, change: make(chan struct{})}
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
	if old := s.convs[c.ID]; old.Version != c.Version {
		return bot.ErrConflict
	}
	c.Version++
	s.convs[c.ID] = *c
	return nil
}

func (s *memStore) CustomerConversations(_ context.Context, cust string) ([]bot.ConversationID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []bot.ConversationID
	for id, c := range s.convs {
		if c.Customer.ID == cust {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *memStore) Append(_ context.Context, id bot.ConversationID, m ...bot.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[id] = append(s.msgs[id], m...)
	return nil
}

func (s *memStore) Transcript(_ context.Context, id bot.ConversationID, n int) ([]bot.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if n > 0 && len(m) > n {
		m = m[len(m)-n:]
	}
	return slices.Clone(m), nil
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

func (s *memStore) Lease(_ context.Context, name, owner string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if h, ok := s.leases[name]; ok && h != owner {
		s.tries[owner]++
		return false, nil
	}
	s.leases[name] = owner
	return true, nil
}

func (s *memStore) Unlease(_ context.Context, name, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases[name] == owner {
		delete(s.leases, name)
	}
	s.notify()
	return nil
}

func (s *memStore) notify() { close(s.change); s.change = make(chan struct{}) }

// waitFor waits until cond (called under the store's lock) holds.
func (s *memStore) waitFor(t testing.TB, what string, cond func(*memStore) bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		s.mu.Lock()
		ok, ch := cond(s), s.change
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (s *memStore) transcriptTexts(id bot.ConversationID) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs[id] {
		out = append(out, string(m.Role)+":"+m.Text)
	}
	return out
}

func countPosts(fd *fakediscord.Server, channelID, content string) int {
	n := 0
	for _, p := range fd.PostsTo(channelID) {
		if strings.Contains(p.Content, content) {
			n++
		}
	}
	return n
}
