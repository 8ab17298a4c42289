package discord

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/fakediscord"
	"github.com/supportbot/supportbot/store/embedded"
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

func isReady(ch *Channel) bool {
	select {
	case <-ch.Ready():
		return true
	default:
		return false
	}
}

// waitReady waits, at most wait, for ch.Ready (what /readyz checks).
func waitReady(t testing.TB, ch *Channel, who string) {
	t.Helper()
	select {
	case <-ch.Ready():
	case <-time.After(wait):
		t.Fatalf("%s: not ready after %v", who, wait)
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

// newStore opens the real embedded store (it passes store/storetest) in
// the test's temporary directory and closes it when the test ends.
func newStore(t testing.TB) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "x.db"), embedded.Options{Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// runEngine runs a real bot.Engine with ch and h on the embedded store
// until the test ends.
func runEngine(t testing.TB, ch *Channel, h bot.Handler) *embedded.Store {
	t.Helper()
	st := newStore(t)
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

// transcriptTexts reads the conversation's transcript from the store as
// "role:text" lines.
func transcriptTexts(t testing.TB, st bot.Store, id bot.ConversationID) []string {
	t.Helper()
	msgs, err := st.Transcript(context.Background(), id, 0)
	if err != nil {
		t.Fatalf("transcript of %s: %v", id, err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Role)+":"+m.Text)
	}
	return out
}

// leaseSpy is the real embedded store with its Lease calls observed: after
// delegating each call it counts the answer (refusals per owner, grants per
// lease and owner) and wakes waitFor. Everything else is the store's own.
type leaseSpy struct {
	*embedded.Store
	mu      sync.Mutex
	refused map[string]int    // owner -> Lease calls the store refused
	granted map[[2]string]int // {lease, owner} -> Lease calls the store granted
	called  chan struct{}     // closed and replaced after every Lease call
}

func newLeaseSpy(t testing.TB) *leaseSpy {
	return &leaseSpy{Store: newStore(t), refused: map[string]int{}, granted: map[[2]string]int{}, called: make(chan struct{})}
}

func (s *leaseSpy) Lease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	held, err := s.Store.Lease(ctx, name, owner, ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
	case held:
		s.granted[[2]string{name, owner}]++
	default:
		s.refused[owner]++
	}
	close(s.called)
	s.called = make(chan struct{})
	return held, err
}

// waitFor waits, at most wait, until cond (called under the spy's lock)
// holds, checking it again after every Lease call.
func (s *leaseSpy) waitFor(t testing.TB, what string, cond func(*leaseSpy) bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		s.mu.Lock()
		ok, called := cond(s), s.called
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-called:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// leased reports whether someone holds lease name in the store: a rival
// owner's Lease is refused. The probe's ttl is a nanosecond, so a probe that
// is granted (the lease was free) leaves nothing held.
func leased(t testing.TB, st bot.Leaser, name string) bool {
	t.Helper()
	got, err := st.Lease(context.Background(), name, "probe", time.Nanosecond)
	if err != nil {
		t.Fatalf("probe lease %s: %v", name, err)
	}
	return !got
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
