package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
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
