package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/supportbot/supportbot/bot"
)

// cmdNames records the commands a client sends, pipelined or not; a read
// that returned stream entries is "xreadgroup+".
type cmdNames struct {
	mu    sync.Mutex
	names []string
}

func (c *cmdNames) add(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cmd := range cmds {
		name := cmd.Name()
		if r, ok := cmd.(*redis.XStreamSliceCmd); ok && len(r.Val()) > 0 && len(r.Val()[0].Messages) > 0 {
			name += "+"
		}
		c.names = append(c.names, name)
	}
}

func (c *cmdNames) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *cmdNames) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { err := next(ctx, cmd); c.add(cmd); return err }
}
func (c *cmdNames) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		c.add(cmds...)
		return err
	}
}

// On one server a batch's conversations come in the round trip of its
// read: the turns get them as stored, with no GET of their own.
func TestBatchGetsItsConversationsWithTheRead(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	old := bot.NewConversation(bot.Address{Channel: "web", Room: "old"}, bot.Customer{ID: "ann"}, time.Now())
	old.Lang = "nb"
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: old}); err != nil {
		t.Fatal(err)
	}
	ib := s.NewInbox(InboxOptions{Partitions: 1})
	for _, in := range []bot.Inbound{
		{Key: "1", Msg: bot.Message{ID: "1", From: old.Address, Text: "hei"}},
		{Key: "2", Msg: bot.Message{ID: "2", From: bot.Address{Channel: "web", Room: "new"}, Text: "hi"}},
		{Key: "3", Msg: bot.Message{ID: "3", From: old.Address, Text: "igjen"}},
	} {
		if _, err := ib.Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := readConvsScript.Load(ctx, s.rdb).Err(); err != nil {
		t.Fatal(err)
	}
	names := &cmdNames{}
	s.rdb.AddHook(names)

	got := make(chan bot.Delivery, 3)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ib.Consume(cctx, func(_ context.Context, d bot.Delivery) error { got <- d; return nil })
	}()
	byText := map[string]bot.Delivery{}
	for range 3 {
		d := <-got
		byText[d.In.Msg.Text] = d
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := byText["hei"]; !d.Loaded || d.Conv == nil || d.Conv.Lang != "nb" || d.Conv.Customer.ID != "ann" {
		t.Errorf("first entry of the stored conversation: loaded %v, conv %+v", d.Loaded, d.Conv)
	}
	if d := byText["hi"]; !d.Loaded || d.Conv != nil {
		t.Errorf("entry of a new conversation: loaded %v, conv %+v, want loaded with none", d.Loaded, d.Conv)
	}
	if d := byText["igjen"]; d.Loaded {
		t.Error("the second entry of a conversation in the batch came with a copy; only the first should")
	}
	names.mu.Lock()
	defer names.mu.Unlock()
	for _, n := range names.names {
		if n == "get" {
			t.Errorf("commands %s: a GET of its own, want the conversations from the read's script", strings.Join(names.names, " "))
			break
		}
	}
}

// A replica that works alone claims each entry in its put's script and
// hands it to the partition worker: no read of its own, the conversation
// comes with the claim, and a conversation's entries keep their order.
func TestAloneReplicaClaimsWithThePut(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	ib := s.NewInbox(InboxOptions{Partitions: 2, Replica: "solo", Block: time.Hour, ClaimPoll: time.Hour}) // no poll during the test
	got := make(chan bot.Delivery, 16)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ib.Consume(cctx, func(_ context.Context, d bot.Delivery) error { got <- d; return nil })
	}()
	room := bot.Address{Channel: "web", Room: "r"}
	if _, err := ib.Put(ctx, bot.Inbound{Key: "0", Msg: bot.Message{ID: "0", From: room, Text: "0"}}); err != nil {
		t.Fatal(err)
	}
	<-got // handled: the worker has left its first read and takes claims
	names := &cmdNames{}
	s.rdb.AddHook(names)
	var ins []bot.Inbound
	for i := 1; i <= 5; i++ {
		ins = append(ins, bot.Inbound{Key: fmt.Sprint(i), Msg: bot.Message{ID: fmt.Sprint(i), From: room, Text: fmt.Sprint(i)}})
	}
	if _, err := ib.PutAll(ctx, ins[:2]); err != nil {
		t.Fatal(err)
	}
	for _, in := range ins[2:] {
		if _, err := ib.Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var texts []string
	for range 5 {
		d := <-got
		texts = append(texts, d.In.Msg.Text)
		if d.In.Msg.Text == "1" && !d.Loaded {
			t.Error("the first claimed entry came without its conversation")
		}
	}
	names.mu.Lock()
	sent := names.names
	names.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(texts) != "[1 2 3 4 5]" {
		t.Errorf("handled %v, want [1 2 3 4 5]", texts)
	}
	for _, n := range sent {
		if n == "xreadgroup+" || n == "get" {
			t.Errorf("commands %s: a %s of its own, want the entries from the puts' claims", strings.Join(sent, " "), n)
			break
		}
	}
	if n, err := s.rdb.XPending(ctx, ib.streamKey(ib.Partition(room.ConversationID())), inboxGroup).Result(); err != nil || n.Count != 0 {
		t.Errorf("pending after stop: %+v, %v; want all acked", n, err)
	}
}

// While a replica works alone, an entry put without a claim (by a replica
// that is not a member yet) is found by the worker's poll.
func TestAloneReplicaPollsForEntriesNotClaimed(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	ib := s.NewInbox(InboxOptions{Partitions: 1, Replica: "solo", ClaimPoll: 10 * time.Millisecond})
	got := make(chan string, 4)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ib.Consume(cctx, func(_ context.Context, d bot.Delivery) error { got <- d.In.Msg.Text; return nil })
	}()
	room := bot.Address{Channel: "web", Room: "r"}
	if _, err := ib.Put(ctx, bot.Inbound{Key: "1", Msg: bot.Message{ID: "1", From: room, Text: "mine"}}); err != nil {
		t.Fatal(err)
	}
	<-got
	other := s.NewInbox(InboxOptions{Partitions: 1, Replica: "new"})
	if _, err := other.Put(ctx, bot.Inbound{Key: "2", Msg: bot.Message{ID: "2", From: room, Text: "theirs"}}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != "theirs" {
		t.Errorf("handled %q, want the other replica's entry", m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A burst of puts into one partition is left to the worker, which is woken
// to read it at once (no poll comes during the test), in order.
func TestAloneReplicaReadsABurstAtOnce(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	ib := s.NewInbox(InboxOptions{Partitions: 1, Replica: "solo", Block: time.Hour, ClaimPoll: time.Hour, Batch: 4})
	got := make(chan string, 64)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ib.Consume(cctx, func(_ context.Context, d bot.Delivery) error { got <- d.In.Msg.Text; return nil })
	}()
	room := bot.Address{Channel: "web", Room: "r"}
	if _, err := ib.Put(ctx, bot.Inbound{Key: "first", Msg: bot.Message{ID: "first", From: room, Text: "first"}}); err != nil {
		t.Fatal(err)
	}
	<-got // the worker takes claims now
	var ins []bot.Inbound
	var want []string
	for i := range 3 * claimMax {
		ins = append(ins, bot.Inbound{Key: fmt.Sprint(i), Msg: bot.Message{ID: fmt.Sprint(i), From: room, Text: fmt.Sprint(i)}})
		want = append(want, fmt.Sprint(i))
	}
	if _, err := ib.PutAll(ctx, ins); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for range ins {
		texts = append(texts, <-got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Errorf("handled %v, want %v", texts, want)
	}
}

// A worker that gives its partition up stops claiming at once: it handles
// what it claimed before and leaves the rest to the next owner, even while
// puts go on (here each handled entry puts the next one).
func TestStoppedWorkerStopsClaiming(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	ib := s.NewInbox(InboxOptions{Partitions: 1, Replica: "solo", Block: time.Hour, ClaimPoll: time.Hour})
	room := bot.Address{Channel: "web", Room: "r"}
	put := func(text string) {
		if _, err := ib.Put(ctx, bot.Inbound{Key: text, Msg: bot.Message{ID: text, From: room, Text: text}}); err != nil {
			t.Error(err)
		}
	}
	started, release := make(chan struct{}), make(chan struct{})
	var handled []string
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ib.Consume(cctx, func(_ context.Context, d bot.Delivery) error {
			text := d.In.Msg.Text
			handled = append(handled, text) // one conversation: one at a time
			switch {
			case text == "first":
			case text == "slow":
				close(started)
				<-release
			case len(handled) < 20:
				put(fmt.Sprint("x", len(handled)))
			}
			return nil
		})
	}()
	put("first")
	put("slow")
	<-started
	cancel()
	put("x0") // claimed while "slow" runs: handled before the worker stops
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(handled) != "[first slow x0]" {
		t.Errorf("handled %v, want [first slow x0]: no claim after the stop", handled)
	}
	sum, err := s.rdb.XPending(ctx, ib.streamKey(0), inboxGroup).Result()
	if err != nil || sum.Count != 0 {
		t.Errorf("pending after the stop: %+v, %v; want none (x3 left unread for the next owner)", sum, err)
	}
}
