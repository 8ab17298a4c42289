package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

// TestIdleWorkersExit: the goroutines that run turns are reused from one
// turn to the next, and exit when the engine stops: after a burst of
// conversations nothing is left running (synctest fails the test if a
// goroutine of the bubble never exits).
func TestIdleWorkersExit(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st, err := embedded.Open(filepath.Join(dir, "bot.db"), embedded.Options{SweepEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
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
