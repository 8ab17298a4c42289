package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/handoff/handofftest"
	"github.com/supportbot/supportbot/internal/redistest"
)

// announced signals every card the desk announces.
type announced struct {
	*handofftest.Workspace
	cards chan handoff.Card
}

func (w announced) Announce(ctx context.Context, c handoff.Card) (map[string]string, error) {
	refs, err := w.Workspace.Announce(ctx, c)
	w.cards <- c
	return refs, err
}

// The production path on Redis (stream inbox, atomic commit, outbox): a
// customer is answered, and "human" queues the conversation with its card
// posted, in order with the turn that handed it off.
func TestRedisProductionPathAnswersAndHandsOff(t *testing.T) {
	srv := redistest.Start(t)
	t.Setenv("REDIS_URL", srv.URL())
	cfg, err := loadConfig(testConfig(t, "[store]\nkind = \"redis\"\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store.DataDir = t.TempDir() // the model cache
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	fake := channeltest.NewFake("fake")
	a.engine.Add(fake)
	ws := announced{handofftest.NewWorkspace("test"), make(chan handoff.Card, 8)}
	a.desk.AddWorkspace(ws)
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	fake.Say("room", "ann", "how long does shipping take?", nil)
	if p := fake.Next(t); !strings.Contains(p.Text, "business day") {
		t.Fatalf("answer %q", p.Text)
	}
	fake.Say("room", "ann", "human", nil)
	if p := fake.Next(t); !strings.Contains(p.Text, "queue") {
		t.Errorf("handoff reply %q, want the queue position", p.Text)
	}
	select {
	case c := <-ws.cards:
		if c.Reason != bot.ReasonRequested || len(c.Last) < 3 {
			t.Errorf("card reason %s with %d messages", c.Reason, len(c.Last))
		}
	case <-time.After(channeltest.Wait):
		t.Fatal("no card announced")
	}
	c, err := a.st.Conversation(ctx, bot.Address{Channel: "fake", Room: "room"}.ConversationID())
	if err != nil || c.State != bot.StateQueued {
		t.Errorf("conversation %+v, %v; want queued", c, err)
	}
}
