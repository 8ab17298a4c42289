package discord

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/internal/fakediscord"
	"github.com/supportbot/supportbot/store/embedded"
)

// The whole bot behind Discord: the real router on the starter knowledge
// base, the handoff desk and the embedded store. A Norwegian question is
// answered in Norwegian in its thread; "human" hands off; the agent's
// reply (with an @everyone that must not ping) arrives in the thread under
// the agent's name; after the resolve the CSAT buttons are clicked and
// the rating is stored.
func TestIntegrationRouterDeskStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := testLog(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{SweepEvery: -1, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := intents.Seed(ctx, st, os.DirFS("../../kb")); err != nil {
		t.Fatal(err)
	}
	eng := bot.New(bot.Config{}, st, nil, log)
	desk := handoff.NewDesk(handoff.Config{}, st, st, st, st, eng, log)
	router := intents.New(intents.Config{}, func(ctx context.Context, t *bot.Turn, reason bot.Reason, skill, topic string, prio int) error {
		return desk.Handoff(ctx, t, handoff.Request{Reason: reason, Skill: skill, Topic: topic, Priority: prio})
	}, log)
	if err := router.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	eng.SetHandler(desk.Gate(router))
	fd := newFake(t)
	eng.Add(newAdapter(t, fd, testConfig(), WithLeaser(st)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- eng.Run(runCtx) }()
	go func() { done <- desk.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(wait):
				t.Error("engine or desk did not stop")
			}
		}
	})
	connected(t, fd, 1)

	thread := fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "hvor lang tid tar frakten?"})
	p := waitPost(t, fd, "Norwegian answer", func(p fakediscord.Post) bool { return p.ChannelID == thread })
	if !strings.Contains(p.Content, "Bestillinger lagt inn på en virkedag") || !p.AllowedMentions.None() {
		t.Errorf("answer = %q", p.Content)
	}
	id := bot.Address{Channel: "discord", Space: guild, Room: thread}.ConversationID()

	fd.Command(fakediscord.Cmd{GuildID: guild, ChannelID: thread, User: alice, Sub: "human"})
	if err := fd.Wait(wait, func() bool {
		c, err := st.Conversation(ctx, id)
		return err == nil && c.State == bot.StateQueued
	}); err != nil {
		t.Fatalf("not queued for a human; posts %+v", fd.PostsTo(thread))
	}

	kari := handoff.Agent{ID: "web:kari", Name: "Kari"}
	if err := desk.Claim(ctx, id, kari); err != nil {
		t.Fatal(err)
	}
	if err := desk.Reply(ctx, id, kari, "Hei! @everyone se her, jeg sjekker pakken din."); err != nil {
		t.Fatal(err)
	}
	p = waitPost(t, fd, "agent reply", func(p fakediscord.Post) bool { return strings.Contains(p.Content, "sjekker pakken") })
	if p.ChannelID != thread || !strings.HasPrefix(p.Content, "**Kari** (support): ") || !p.AllowedMentions.None() {
		t.Errorf("agent reply %q in %s, mentions %+v", p.Content, p.ChannelID, p.AllowedMentions)
	}

	if err := desk.Resolve(ctx, id, kari); err != nil {
		t.Fatal(err)
	}
	q := waitPost(t, fd, "CSAT question", func(p fakediscord.Post) bool { return p.ChannelID == thread && len(p.CustomIDs()) == 5 })
	five := q.CustomIDs()[4]
	fd.Click(fakediscord.Click{GuildID: guild, ChannelID: thread, User: alice, MessageID: q.ID, CustomID: five})
	if err := fd.Wait(wait, func() bool {
		c, err := st.Conversation(ctx, id)
		return err == nil && c.CSAT != nil
	}); err != nil {
		t.Fatal("CSAT not stored")
	}
	if c, _ := st.Conversation(ctx, id); c.CSAT.Score != 5 {
		t.Errorf("CSAT = %+v, want 5", c.CSAT)
	}
}
