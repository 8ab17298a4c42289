package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

// flakyCommit fails the first CommitTurn as an unreachable store would.
type flakyCommit struct {
	*embedded.Store
	fails atomic.Int32
}

func (f *flakyCommit) CommitTurn(ctx context.Context, t *bot.TurnCommit) error {
	if f.fails.Add(-1) >= 0 {
		return fmt.Errorf("flaky: %w", bot.ErrUnavailable)
	}
	return f.Store.CommitTurn(ctx, t)
}

// The dedupe key is recorded by the turn's commit: a turn whose commit
// failed leaves it unrecorded, so the platform's redelivery is answered
// (once), and a later retry is dropped as a duplicate.
func TestDedupeKeyRecordedOnlyByTheCommit(t *testing.T) {
	es, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := &flakyCommit{Store: es}
	st.fails.Store(1)
	fake := channeltest.NewFake("fake")
	outcomes := make(chan bot.Outcome, 16)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	eng := bot.New(bot.Config{}, st, bot.HandlerFunc(echo), log,
		bot.WithObserver(func(_ bot.Inbound, o bot.Outcome, _ time.Duration) { outcomes <- o }))
	eng.Add(fake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); <-done; es.Close() }()
	next := func() bot.Outcome {
		t.Helper()
		select {
		case o := <-outcomes:
			return o
		case <-time.After(channeltest.Wait):
			t.Fatal("no outcome")
		}
		return ""
	}
	in := fake.Say("room", "ann", "where is my order?", nil)
	if o := next(); o != bot.StoreError {
		t.Fatalf("first delivery: %s, want %s", o, bot.StoreError)
	}
	fake.Resend(in)
	if o := next(); o != bot.Handled {
		t.Fatalf("redelivery after a failed commit: %s, want %s", o, bot.Handled)
	}
	fake.Resend(in)
	if o := next(); o != bot.Duplicate {
		t.Fatalf("retry after the commit: %s, want %s", o, bot.Duplicate)
	}
	if n := len(fake.Posts()); n != 1 {
		t.Errorf("customer got %d replies, want 1", n)
	}
}
