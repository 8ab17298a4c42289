package redisstore

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
)

// cmdNames records the commands a client sends, pipelined or not.
type cmdNames struct {
	mu    sync.Mutex
	names []string
}

func (c *cmdNames) add(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cmd := range cmds {
		c.names = append(c.names, cmd.Name())
	}
}

func (c *cmdNames) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *cmdNames) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.add(cmd); return next(ctx, cmd) }
}
func (c *cmdNames) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.add(cmds...); return next(ctx, cmds) }
}

// On one server a batch's conversations come in the round trip of its
// read: the turns get them as stored, with no GET of their own.
func TestBatchGetsItsConversationsWithTheRead(t *testing.T) {
	ctx := context.Background()
	s, err := New(ctx, Options{URL: redistest.Start(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
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
