package discord

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/fakediscord"
)

// A question in a support channel gets its own thread, started from the
// message; the answer lands there, with typing first and no pings; later
// messages in the thread are the same conversation.
func TestSupportChannelQuestionAnsweredInThread(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	st := runEngine(t, newAdapter(t, fd, testConfig()), echo)
	connected(t, fd, 1)

	id := fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "Where is my order?"})
	p := waitPost(t, fd, "answer in the thread", func(p fakediscord.Post) bool { return p.ChannelID == id })
	if p.Content != "echo: Where is my order?" {
		t.Errorf("answer = %q", p.Content)
	}
	if !p.AllowedMentions.None() {
		t.Errorf("allowed_mentions = %+v, want parse []", p.AllowedMentions)
	}
	th := fd.Threads()
	if len(th) != 1 || th[0].ID != id || th[0].ParentID != support || !strings.Contains(th[0].Name, "Where is my order?") {
		t.Fatalf("threads = %+v, want one from message %s in %s", th, id, support)
	}
	if !slices.Contains(fd.Typing(), id) {
		t.Errorf("typing = %v, want the thread %s", fd.Typing(), id)
	}
	if n := len(fd.PostsTo(support)); n != 0 {
		t.Errorf("%d posts in the support channel itself, want 0", n)
	}

	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: id, Author: alice, Content: "It is late"})
	waitPost(t, fd, "second answer", func(p fakediscord.Post) bool { return p.Content == "echo: It is late" && p.ChannelID == id })
	if n := len(fd.Threads()); n != 1 {
		t.Errorf("%d threads, want the conversation to stay in one", n)
	}
	conv := bot.Address{Channel: "discord", Space: guild, Room: id}.ConversationID()
	got := transcriptTexts(t, st, conv)
	want := []string{"customer:Where is my order?", "bot:echo: Where is my order?", "customer:It is late", "bot:echo: It is late"}
	if !slices.Equal(got, want) {
		t.Errorf("transcript of %s = %q, want %q", conv, got, want)
	}
}

func TestDirectMessage(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	runEngine(t, newAdapter(t, fd, testConfig()), echo)
	connected(t, fd, 1)
	fd.Message(fakediscord.Msg{ChannelID: "90001", Author: alice, Content: "hello from a DM"})
	p := waitPost(t, fd, "DM answer", func(p fakediscord.Post) bool { return p.ChannelID == "90001" })
	if p.Content != "echo: hello from a DM" || !p.AllowedMentions.None() {
		t.Errorf("post = %q %+v", p.Content, p.AllowedMentions)
	}
	if n := len(fd.Threads()); n != 0 {
		t.Errorf("%d threads for a DM", n)
	}
}

// /support is registered on connect; ask opens a thread in a support
// channel, human and status reach the handler as requests, and outside
// support channels the answer goes to DMs. Every ack is ephemeral and
// pings nobody.
func TestSlashCommand(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	runEngine(t, newAdapter(t, fd, testConfig()), echo)
	connected(t, fd, 1)
	if err := fd.Wait(wait, func() bool { return len(fd.Commands()) > 0 }); err != nil {
		t.Fatal("/support not registered")
	}
	if c := fd.Commands()[0]; c.AppID != fd.AppID || c.GuildID != "" || !slices.Equal(c.Names, []string{"support"}) {
		t.Errorf("commands = %+v", c)
	}
	for _, sub := range []string{`"ask"`, `"human"`, `"status"`, `"question"`} {
		if !strings.Contains(string(fd.Commands()[0].Raw), sub) {
			t.Errorf("command definition lacks %s", sub)
		}
	}

	// ask in the support channel: a new thread with the customer in it.
	iid := fd.Command(fakediscord.Cmd{GuildID: guild, ChannelID: support, User: alice, Sub: "ask",
		Options: map[string]string{"question": "How do refunds work?"}})
	p := waitPost(t, fd, "answer to /support ask", func(p fakediscord.Post) bool { return p.Content == "echo: How do refunds work?" })
	th := fd.Threads()
	if len(th) != 1 || p.ChannelID != th[0].ID || th[0].ParentID != support {
		t.Fatalf("answer in %s, threads %+v", p.ChannelID, th)
	}
	if m := fd.ThreadMembers(); len(m) != 1 || m[0] != (fakediscord.ThreadMember{ThreadID: th[0].ID, UserID: alice.ID}) {
		t.Errorf("thread members = %+v", m)
	}
	cb, err := fd.WaitCallback(wait, iid)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Type != 4 || cb.Data == nil || cb.Data.Flags&64 == 0 || !cb.Data.AllowedMentions.None() || !strings.Contains(cb.Data.Content, "<#"+th[0].ID+">") {
		t.Errorf("ack = %s", cb.Raw)
	}

	// human in the thread: the handler sees the request.
	fd.Command(fakediscord.Cmd{GuildID: guild, ChannelID: th[0].ID, User: alice, Sub: "human"})
	waitPost(t, fd, "queue answer", func(p fakediscord.Post) bool {
		return p.ChannelID == th[0].ID && strings.Contains(p.Content, "number 1 in the queue")
	})

	// status in some other channel: the answer goes to a DM.
	fd.Command(fakediscord.Cmd{GuildID: guild, ChannelID: other, User: alice, Sub: "status"})
	p = waitPost(t, fd, "status answer", func(p fakediscord.Post) bool { return strings.Contains(p.Content, "Nobody is waiting") })
	if dm, ok := fd.DMChannel(alice.ID); !ok || p.ChannelID != dm {
		t.Errorf("status answered in %s, want alice's DM (%s)", p.ChannelID, dm)
	}
	if n := len(fd.Threads()); n != 1 {
		t.Errorf("%d threads, want 1", n)
	}
}

// Suggestions are buttons; a click is acked with a deferred update and
// delivered as the customer's message with the button's value.
func TestButtonClickDelivered(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	st := runEngine(t, newAdapter(t, fd, testConfig()), echo)
	connected(t, fd, 1)
	id := fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "suggest"})
	p := waitPost(t, fd, "suggestion", func(p fakediscord.Post) bool { return p.ChannelID == id })
	if got := p.CustomIDs(); !slices.Equal(got, []string{"sb:returns", "sb:refund status"}) {
		t.Fatalf("buttons = %v", got)
	}
	if p.Components[0].Components[0].Label != "Returns" {
		t.Errorf("label = %q", p.Components[0].Components[0].Label)
	}
	iid := fd.Click(fakediscord.Click{GuildID: guild, ChannelID: id, User: alice, MessageID: p.ID, CustomID: "sb:refund status"})
	waitPost(t, fd, "answer to the click", func(p fakediscord.Post) bool { return p.Content == "echo: refund status" && p.ChannelID == id })
	cb, err := fd.WaitCallback(wait, iid)
	if err != nil || cb.Type != 6 {
		t.Errorf("ack = %+v, %v; want a deferred update (6)", cb, err)
	}
	conv := bot.Address{Channel: "discord", Space: guild, Room: id}.ConversationID()
	if got := transcriptTexts(t, st, conv); !slices.Contains(got, "customer:refund status") {
		t.Errorf("transcript = %q", got)
	}
}

// A dropped connection is resumed; Discord replays events (here also some
// already seen), and the customer still gets exactly one answer each.
func TestResumeNoDuplicateReply(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	runEngine(t, newAdapter(t, fd, testConfig()), echo)
	connected(t, fd, 1)
	first := fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "first"})
	waitPost(t, fd, "first answer", func(p fakediscord.Post) bool { return p.Content == "echo: first" })

	fd.SetResumeOverlap(100) // replay everything on RESUME, as at-least-once delivery may
	if fd.Drop() != 1 {
		t.Fatal("no connection to drop")
	}
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: first, Author: alice, Content: "while away"})
	waitPost(t, fd, "answer to the missed message", func(p fakediscord.Post) bool { return p.Content == "echo: while away" })
	if fd.Resumes() != 1 || len(fd.Identifies()) != 1 {
		t.Errorf("resumes = %d, identifies = %d; want the session resumed", fd.Resumes(), len(fd.Identifies()))
	}
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: first, Author: alice, Content: "after"})
	waitPost(t, fd, "answer after resume", func(p fakediscord.Post) bool { return p.Content == "echo: after" })
	for _, c := range []string{"echo: first", "echo: while away", "echo: after"} {
		if n := countPosts(fd, first, c); n != 1 {
			t.Errorf("%q posted %d times, want once", c, n)
		}
	}
}

// Relayed agent text with @everyone, @here, user and role mentions shows
// the agent's name and pings nobody.
func TestAgentReplyNeverPings(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	ch := newAdapter(t, fd, testConfig())
	to := bot.Address{Channel: "discord", Space: guild, Room: "80001"}
	evil := "@everyone @here <@123> <@&456> <@!789> please look"
	if err := ch.Send(context.Background(), to, bot.Reply{Kind: bot.KindAgent, Author: "Alice_*B*", Text: evil}); err != nil {
		t.Fatal(err)
	}
	p := fd.Posts()[0]
	if want := `**Alice\_\*B\*** (support): ` + evil; p.Content != want {
		t.Errorf("content = %q, want %q", p.Content, want)
	}
	if !p.AllowedMentions.None() || !strings.Contains(string(p.Raw), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("allowed_mentions = %s", p.Raw)
	}
}

func TestLongReplySplit(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	ch := newAdapter(t, fd, testConfig())
	var b strings.Builder
	for i := range 40 {
		b.WriteString(strings.Repeat("Ærlig talt, dette er en lang setning om returer. ", 3))
		if i%5 == 4 {
			b.WriteString("\n\n")
		}
	}
	text := b.String()
	r := bot.Reply{Text: text, Choices: []bot.Choice{{Label: "Yes", Value: "yes"}}}
	if err := ch.Send(context.Background(), bot.Address{Channel: "discord", Room: "80002"}, r); err != nil {
		t.Fatal(err)
	}
	posts := fd.Posts()
	if len(posts) < 3 {
		t.Fatalf("%d posts for %d characters", len(posts), len([]rune(text)))
	}
	var joined []string
	for i, p := range posts {
		if n := len([]rune(p.Content)); n > maxContent {
			t.Errorf("part %d has %d characters", i, n)
		}
		if (len(p.Components) > 0) != (i == len(posts)-1) {
			t.Errorf("part %d components = %v; buttons belong on the last part", i, p.Components)
		}
		if !p.AllowedMentions.None() {
			t.Errorf("part %d may ping", i)
		}
		joined = append(joined, p.Content)
	}
	if strings.Join(strings.Fields(strings.Join(joined, " ")), " ") != strings.Join(strings.Fields(text), " ") {
		t.Error("parts do not add up to the text")
	}
}

// A 429 is waited out (retry-after) and the post goes through; a long
// retry-after never outlives the caller's context.
func TestRateLimitRetried(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	ch := newAdapter(t, fd, testConfig())
	to := bot.Address{Channel: "discord", Room: "80003"}
	fd.RateLimit("POST", "/messages", 2, 30*time.Millisecond)
	if err := ch.Send(context.Background(), to, bot.Reply{Text: "after the limit"}); err != nil {
		t.Fatal(err)
	}
	if fd.RateLimited() != 2 || len(fd.Posts()) != 1 || fd.Posts()[0].Content != "after the limit" {
		t.Errorf("429s = %d, posts = %+v", fd.RateLimited(), fd.Posts())
	}

	fd.RateLimit("POST", "/messages", 1, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ch.Send(ctx, to, bot.Reply{Text: "too late"})
	if !errors.Is(err, ErrRateLimited) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrRateLimited and the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v with a 100ms context", d)
	}
	// The bucket is now exhausted for a minute: the next Send must not
	// sleep in discordgo beyond its context either.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if err := ch.Send(ctx2, to, bot.Reply{Text: "still too late"}); !errors.Is(err, ErrRateLimited) {
		t.Errorf("err = %v, want ErrRateLimited", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Send took %v with a 100ms context", d)
	}
}

// Bots, the bot itself (Discord echoes its posts), webhooks, system
// messages and channels that are not for support are ignored.
func TestIgnoresBotsSelfAndOtherChannels(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	ch := newAdapter(t, fd, testConfig())
	in := listen(t, ch)
	connected(t, fd, 1)
	if err := ch.Send(context.Background(), bot.Address{Channel: "discord", Room: "90002"}, bot.Reply{Text: "my own words"}); err != nil {
		t.Fatal(err)
	}
	fd.Message(fakediscord.Msg{ChannelID: "90002", Author: fakediscord.User{ID: fd.AppID, Name: "supportbot"}, Content: "own, unflagged"})
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: fakediscord.User{ID: "7", Bot: true}, Content: "a bot"})
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, WebhookID: "9", Content: "a webhook"})
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Type: 7, Content: "joined"})
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: other, Author: alice, Content: "off topic"})
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "  "})
	fd.Message(fakediscord.Msg{GuildID: guild, ChannelID: support, Author: alice, Content: "<@" + fd.AppID + "> marker"})
	i := next(t, in)
	if i.Msg.Text != "marker" || i.Key != "discord:"+i.Msg.ID || i.Msg.Customer.ID != "discord:"+alice.ID {
		t.Errorf("delivered %+v, want only the customer's marker", i)
	}
	select {
	case extra := <-in:
		t.Errorf("extra delivery %q", extra.Msg.Text)
	default:
	}
}

// Malformed gateway events are logged and dropped; the adapter keeps going.
func TestMalformedEventsDropped(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	in := listen(t, newAdapter(t, fd, testConfig()))
	connected(t, fd, 1)
	for _, raw := range []string{
		`{"op":0,"t":"MESSAGE_CREATE","s":100,"d":{"id":5,"author":"nobody","content":["x"]}}`,
		`{"op":0,"t":"MESSAGE_CREATE","s":101,"d":null}`,
		`{"op":0,"t":"MESSAGE_CREATE","s":102,"d":{"id":"1","channel_id":"90003","content":"no author"}}`,
		`{"op":0,"t":"INTERACTION_CREATE","s":103,"d":{"id":"2","type":3,"data":"oops"}}`,
		`{"op":0,"t":"INTERACTION_CREATE","s":104,"d":{"id":"3","type":2,"token":"t","channel_id":"90003","user":{"id":"1"},"data":{"name":"support","options":[null]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","s":105,"d":{"id":"4","type":3,"token":"t","channel_id":"90003","user":{"id":"1"}}}`,
		`not json`,
	} {
		fd.DispatchRaw([]byte(raw))
	}
	fd.Message(fakediscord.Msg{ChannelID: "90003", Author: alice, Content: "still here"})
	if i := next(t, in); i.Msg.Text != "still here" {
		t.Errorf("delivered %q", i.Msg.Text)
	}
}

func TestBadTokenFails(t *testing.T) {
	t.Parallel()
	fd := newFake(t)
	ch, err := New(testConfig(), "wrong", testLog(t), WithHTTPClient(fd.Client()))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ch.Listen(context.Background(), func(context.Context, bot.Inbound) {}) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Listen = %v, want ErrUnauthorized", err)
		}
	case <-time.After(wait):
		t.Fatal("Listen hangs on a bad token")
	}
	if isReady(ch) {
		t.Error("ready with a token Discord refused: /readyz would pass")
	}
	if _, err := New(testConfig(), "", nil); !errors.Is(err, ErrNoToken) {
		t.Errorf("New without token = %v", err)
	}
}

// Listen owns every goroutine it starts: when it returns, none of the
// adapter's goroutines is left (discordgo's reader and heartbeat end with
// the session's Close).
func TestListenLeavesNoGoroutines(t *testing.T) {
	fd := newFake(t)
	ch := newAdapter(t, fd, testConfig(), WithLeaser(newStore(t)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	in := make(chan bot.Inbound, 1)
	go func() { done <- ch.Listen(ctx, func(_ context.Context, i bot.Inbound) { in <- i }) }()
	connected(t, fd, 1)
	fd.Drop() // exercise the resume path too
	if err := fd.Wait(wait, func() bool { return fd.Resumes() == 1 && fd.Connected() == 1 }); err != nil {
		t.Fatal("no resume")
	}
	fd.Message(fakediscord.Msg{ChannelID: "90009", Author: alice, Content: "after resume"})
	next(t, in)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen = %v", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, "supportbot/bot/discord.(*") && !strings.Contains(g, "TestListenLeavesNoGoroutines") {
			t.Errorf("goroutine left behind:\n%s", g)
		}
	}
}
