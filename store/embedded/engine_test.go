package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/store/embedded"
)

// TestOneWritePerTurn: a customer talking to the bot costs one durable
// write per message. The removal of the reply sent from the outbox rides
// with the next turn's commit instead of a write (and a sync) of its own,
// and nothing is left in the outbox once the store is closed.
func TestOneWritePerTurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), embedded.FileName)
	st, err := embedded.Open(path, embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	embedded.SetLaterWait(st, time.Hour) // only the next write or Close commits a removal
	ch := channeltest.NewFake("fake")
	eng := bot.New(bot.Config{}, st, bot.HandlerFunc(func(_ context.Context, t *bot.Turn) error {
		t.Reply(bot.Reply{Text: "echo " + t.Msg.Text})
		return nil
	}), slog.New(slog.DiscardHandler))
	eng.Add(ch)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- eng.Run(ctx) }()

	before := st.Commits()
	const n = 20
	for i := range n {
		ch.Say("room1", "cust", fmt.Sprint("m", i), nil)
		if p := ch.Next(t); p.Text != fmt.Sprint("echo m", i) {
			t.Fatalf("reply %d: %q", i, p.Text)
		}
	}
	if got := st.Commits() - before; got != n {
		t.Errorf("%d durable writes for %d turns, want %d", got, n, n)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = embedded.Open(path, embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := bot.Address{Channel: "fake", Room: "room1"}.ConversationID()
	if out, err := st.Outbox(ctx, id, 0); err != nil || len(out) != 0 {
		t.Errorf("outbox after close: %v, %v", out, err)
	}
	if marks, err := st.OutboxPending(ctx, time.Now().Add(time.Hour), 0); err != nil || len(marks) != 0 {
		t.Errorf("outbox marks after close: %v, %v", marks, err)
	}
	if tr, err := st.Transcript(ctx, id, 0); err != nil || len(tr) != 2*n {
		t.Errorf("transcript: %d messages, %v; want %d", len(tr), err, 2*n)
	}
	if posts := ch.Posts(); len(posts) != n {
		t.Errorf("%d replies sent, want %d (each once)", len(posts), n)
	}
}
