package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

// openStore opens an embedded store in dir (inside the test's bubble).
func openStore(t *testing.T, dir string) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(dir, "bot.db"), embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestIdleWorkersExit: the goroutines that run turns are reused from one
// turn to the next, and exit when the engine stops: after a burst of
// conversations nothing is left running (synctest fails the test if a
// goroutine of the bubble never exits).
func TestIdleWorkersExit(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t, dir)
		defer st.Close()
		fake := channeltest.NewFake("fake")
		eng := bot.New(bot.Config{}, st, bot.HandlerFunc(func(_ context.Context, t *bot.Turn) error {
			t.Reply(bot.Reply{Text: "ok " + t.Msg.Text})
			return nil
		}), slog.New(slog.DiscardHandler))
		eng.Add(fake)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		const rooms, turns = 20, 3
		for k := range turns {
			for r := range rooms {
				fake.Say(fmt.Sprint("room", r), "cust", fmt.Sprint(k), nil)
			}
			for range rooms {
				fake.Next(t)
			}
		}
		if n := len(fake.Posts()); n != rooms*turns {
			t.Fatalf("%d replies, want %d", n, rooms*turns)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestIdleEngineKeepsNoGoroutine: an engine that is never run nor shut
// down (a desk driving it with Do, as handoff's tests do) keeps no
// goroutine once no conversation has work, even after many turns at once.
func TestIdleEngineKeepsNoGoroutine(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t, dir)
		defer st.Close()
		eng := bot.New(bot.Config{}, st, nil, slog.New(slog.DiscardHandler))
		ctx := context.Background()
		const rooms = 10
		for r := range rooms {
			c := bot.NewConversation(bot.Address{Channel: "fake", Room: fmt.Sprint("room", r)}, bot.Customer{ID: "fake:c"}, time.Now())
			if err := st.SaveConversation(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		errs := make(chan error, 50)
		for i := range 50 {
			id := bot.Address{Channel: "fake", Room: fmt.Sprint("room", i%rooms)}.ConversationID()
			go func() {
				errs <- eng.Do(ctx, id, func(_ context.Context, t *bot.Turn) error {
					t.Conv.Set("k", fmt.Sprint(i))
					return nil
				})
			}()
		}
		for range 50 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestMaxTurnsBoundsTheTurnsAtOnce: with more conversations waiting than
// Config.MaxTurns, only MaxTurns turns run at once; the others wait their
// turn in order, and every message is answered.
func TestMaxTurnsBoundsTheTurnsAtOnce(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t, dir)
		defer st.Close()
		var mu sync.Mutex
		var in, most int
		var started []string
		release := make(chan struct{})
		h := bot.HandlerFunc(func(_ context.Context, tn *bot.Turn) error {
			mu.Lock()
			in++
			most = max(most, in)
			started = append(started, tn.Msg.Text)
			mu.Unlock()
			<-release
			mu.Lock()
			in--
			mu.Unlock()
			tn.Reply(bot.Reply{Text: "ok " + tn.Msg.Text})
			return nil
		})
		fake := channeltest.NewFake("fake")
		eng := bot.New(bot.Config{MaxTurns: 2}, st, h, slog.New(slog.DiscardHandler))
		eng.Add(fake)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		const rooms = 6
		for r := range rooms {
			fake.Say(fmt.Sprint("room", r), "cust", fmt.Sprint(r), nil)
			synctest.Wait() // each is delivered before the next
		}
		mu.Lock()
		if in != 2 || fmt.Sprint(started) != "[0 1]" {
			t.Errorf("%d turns running (%v), want 2: [0 1]", in, started)
		}
		mu.Unlock()
		for range rooms {
			release <- struct{}{}
			fake.Next(t)
			// The reply is sent before its worker takes the next waiting
			// conversation: let it, before the next release.
			synctest.Wait()
		}
		if most != 2 {
			t.Errorf("%d turns ran at once, want at most 2", most)
		}
		if fmt.Sprint(started) != "[0 1 2 3 4 5]" {
			t.Errorf("turns started in the order %v, want the order the conversations came in", started)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
