package discord

import (
	"context"
	"hash/fnv"
	"runtime/debug"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/supportbot/supportbot/bot"
)

// workers handle gateway events off the reader goroutine. Events of one
// Discord channel go to the same worker, so a conversation's messages reach
// the engine in order while different channels run in parallel.
type workers struct {
	qs   []chan any
	done <-chan struct{}
	wg   sync.WaitGroup
}

func (c *Channel) startWorkers(ctx context.Context, deliver func(context.Context, bot.Inbound)) *workers {
	w := &workers{qs: make([]chan any, c.cfg.Workers), done: ctx.Done()}
	for i := range w.qs {
		q := make(chan any, 64)
		w.qs[i] = q
		w.wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-q:
					c.handle(ctx, deliver, ev)
				}
			}
		})
	}
	return w
}

// enqueue hands ev to the worker of channelID; it blocks while that worker
// is busy and its queue full (back-pressure on the gateway reader), and
// drops ev once Listen is ending.
func (w *workers) enqueue(channelID string, ev any) {
	h := fnv.New32a()
	h.Write([]byte(channelID))
	select {
	case w.qs[h.Sum32()%uint32(len(w.qs))] <- ev:
	case <-w.done:
	}
}

// stop waits for the workers; ctx must be done.
func (w *workers) stop() { w.wg.Wait() }

// handle turns one gateway event into at most one delivery. A panic (a
// malformed event discordgo half-decoded) is logged, never fatal.
func (c *Channel) handle(ctx context.Context, deliver func(context.Context, bot.Inbound), ev any) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("event handler panicked; event dropped", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	var in *bot.Inbound
	switch e := ev.(type) {
	case *discordgo.MessageCreate:
		in = c.fromMessage(ctx, e.Message)
	case *discordgo.InteractionCreate:
		in = c.fromInteraction(ctx, e.Interaction)
	}
	if in != nil {
		deliver(ctx, *in)
	}
}
