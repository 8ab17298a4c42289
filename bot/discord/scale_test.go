package discord

import (
	"context"
	"testing"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/fakediscord"
)

// Two replicas configured for the same shard: only the lease holder opens
// a gateway session; when it stops, the other takes over.
func TestShardLeaseOneSessionPerShard(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	st := newLeaseSpy(t)
	cfgA, cfgB := testConfig(), testConfig()
	cfgA.Owner, cfgB.Owner = "replica-a", "replica-b"
	a := newAdapter(t, fd, cfgA, WithLeaser(st))
	b := newAdapter(t, fd, cfgB, WithLeaser(st))

	if isReady(a) || isReady(b) {
		t.Fatal("/readyz would pass before Listen connected")
	}
	ctxA, stopA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { doneA <- a.Listen(ctxA, func(context.Context, bot.Inbound) {}) }()
	connected(t, fd, 1)
	waitReady(t, a, "replica a, connected")
	inB := listen(t, b)
	st.waitFor(t, "replica b to try the lease twice", func(s *leaseSpy) bool { return s.refused["replica-b"] >= 2 })
	waitReady(t, b, "replica b, standing by while a serves the shard")
	if n := len(fd.Identifies()); n != 1 {
		t.Fatalf("%d gateway sessions for one shard, want 1", n)
	}

	stopA()
	if err := <-doneA; err != nil {
		t.Fatalf("a.Listen = %v", err)
	}
	if err := fd.Wait(wait, func() bool { return len(fd.Identifies()) == 2 && fd.Connected() == 1 }); err != nil {
		t.Fatalf("replica b did not take over: identifies %d, connected %d", len(fd.Identifies()), fd.Connected())
	}
	st.waitFor(t, "b to hold the lease", func(s *leaseSpy) bool { return s.granted[[2]string{"discord:shard:0/1", "replica-b"}] > 0 })
	if !leased(t, st, "discord:shard:0/1") {
		t.Fatal("nobody holds the lease after b took it")
	}
	fd.Message(fakediscord.Msg{ChannelID: "91001", Author: alice, Content: "to b"})
	if i := next(t, inB); i.Msg.Text != "to b" {
		t.Errorf("b delivered %q", i.Msg.Text)
	}
}

// With two shards each replica identifies with its shard and gets only its
// guilds' events (DMs go to shard 0); the conversation key does not depend
// on the shard.
func TestShardsSplitGuilds(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	st := newStore(t)
	cfg0, cfg1 := testConfig(), testConfig()
	cfg0.ShardCount, cfg1.ShardCount, cfg1.ShardID = 2, 2, 1
	in0 := listen(t, newAdapter(t, fd, cfg0, WithLeaser(st)))
	in1 := listen(t, newAdapter(t, fd, cfg1, WithLeaser(st)))
	connected(t, fd, 2)
	shards := map[[2]int]bool{}
	for _, id := range fd.Identifies() {
		shards[id.Shard] = true
	}
	if !shards[[2]int{0, 2}] || !shards[[2]int{1, 2}] {
		t.Fatalf("identified shards %v, want 0/2 and 1/2", shards)
	}
	for _, name := range []string{"discord:shard:0/2", "discord:shard:1/2"} {
		if !leased(t, st, name) {
			t.Errorf("lease %s is not held", name)
		}
	}

	id1 := fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "guild on shard 1"})
	id0 := fd.Message(fakediscord.Msg{GuildID: guild0, ChannelID: support0, Author: alice, Content: "guild on shard 0"})
	fd.Message(fakediscord.Msg{ChannelID: "91002", Author: alice, Content: "a DM"})
	got1 := next(t, in1)
	got0, dm := next(t, in0), next(t, in0)
	if got1.Msg.Text != "guild on shard 1" || got0.Msg.Text != "guild on shard 0" || dm.Msg.Text != "a DM" {
		t.Fatalf("shard 1 got %q; shard 0 got %q, %q", got1.Msg.Text, got0.Msg.Text, dm.Msg.Text)
	}
	if want := bot.ConversationID("discord:" + guild + ":" + id1 + ":"); got1.Msg.From.ConversationID() != want {
		t.Errorf("key %s, want %s (platform IDs only)", got1.Msg.From.ConversationID(), want)
	}
	if want := bot.ConversationID("discord:" + guild0 + ":" + id0 + ":"); got0.Msg.From.ConversationID() != want {
		t.Errorf("key %s, want %s", got0.Msg.From.ConversationID(), want)
	}
	if err := fd.Wait(wait, func() bool { return len(fd.Commands()) > 0 }); err != nil || len(fd.Commands()) != 1 {
		t.Errorf("commands registered %d times, want once (by shard 0)", len(fd.Commands()))
	}
}
