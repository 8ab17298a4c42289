package discord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/supportbot/supportbot/bot"
)

// errLeaseLost ends a lease term; Listen then waits for the lease again.
var errLeaseLost = errors.New("discord: shard lease lost")

// Listen implements bot.Channel. It checks the token, then (with a Leaser)
// waits until this replica holds the lease of its shard, opens the gateway,
// registers /support (shard 0), and delivers customer messages, button
// clicks and /support commands until ctx is canceled (nil) or Discord
// refuses the token or the shard for good (ErrUnauthorized, ErrGateway).
// Dropped connections are resumed; Discord replays what was missed, and
// Inbound.Key ("discord:<message or interaction ID>") lets the engine drop
// what it already saw. Every goroutine it starts has ended when it returns.
func (c *Channel) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	if !c.listening.CompareAndSwap(false, true) {
		return ErrListening
	}
	defer c.listening.Store(false)
	if err := c.whoAmI(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	w := c.startWorkers(wctx, deliver)
	defer func() { stop(); w.stop() }()
	name := fmt.Sprintf("discord:shard:%d/%d", c.cfg.ShardID, c.cfg.ShardCount)
	for {
		if !c.acquire(ctx, name) {
			return nil
		}
		err := c.term(ctx, name, w)
		if c.lease != nil {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if uerr := c.lease.Unlease(uctx, name, c.cfg.Owner); uerr != nil {
				c.log.Warn("release shard lease", "lease", name, "err", uerr)
			}
			cancel()
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrUnauthorized), errors.Is(err, ErrGateway):
			return err
		}
		c.log.Warn("gateway session ended; waiting for the shard lease again", "lease", name, "err", err)
	}
}

// whoAmI checks the token and learns the bot's user ID (to drop its own
// messages). Transient failures are retried with backoff.
func (c *Channel) whoAmI(ctx context.Context) error {
	b := c.backoff()
	for {
		var me *discordgo.User
		err := c.call(ctx, func(o discordgo.RequestOption) (err error) {
			me, err = c.rest.User("@me", o)
			return err
		})
		if err == nil && me != nil {
			c.self.Store(me.ID)
			if c.appID.Load().(string) == "" {
				c.appID.Store(me.ID) // a bot user's ID is its application's ID
			}
			return nil
		}
		if errors.Is(err, ErrUnauthorized) || ctx.Err() != nil {
			return err
		}
		c.log.Warn("discord REST unreachable; retrying", "err", err)
		if !b.wait(ctx) {
			return ctx.Err()
		}
	}
}

// acquire waits until this replica holds the shard lease (at once without
// a Leaser). It returns false when ctx ends first.
func (c *Channel) acquire(ctx context.Context, name string) bool {
	if c.lease == nil {
		return ctx.Err() == nil
	}
	t := time.NewTimer(0)
	defer t.Stop()
	logged := false
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		held, err := c.lease.Lease(ctx, name, c.cfg.Owner, time.Duration(c.cfg.LeaseTTL))
		if held && err == nil {
			c.log.Info("holding shard lease", "lease", name, "owner", c.cfg.Owner)
			return true
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("shard lease", "lease", name, "err", err)
		} else if !logged {
			c.log.Info("another replica holds the shard; standing by", "lease", name)
			logged = true
			c.setReady()
		}
		t.Reset(time.Duration(c.cfg.LeaseRetry))
	}
}

// term runs one gateway session while this replica holds the lease: it
// opens (IDENTIFY), reopens after drops (RESUME), renews the lease, and
// closes when ctx ends or the lease is lost.
func (c *Channel) term(ctx context.Context, name string, w *workers) error {
	tr := &connTracker{}
	gw := c.dial(tr.dialer())
	down := make(chan struct{}, 1)
	defer c.handlers(gw, w, down)()

	var renew <-chan time.Time
	if c.lease != nil {
		tk := time.NewTicker(time.Duration(c.cfg.LeaseTTL) / 3)
		defer tk.Stop()
		renew = tk.C
	}
	lastRenew := time.Now()
	retry := time.NewTimer(0)
	defer retry.Stop()
	b := c.backoff()
	connected := false
	closeGW := func() {
		if connected {
			_ = gw.Close() // sends close 1000 so Discord ends the session; sleeps 1s (discordgo)
			connected = false
		}
		tr.closeAll()
	}
	defer closeGW()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-renew:
			held, err := c.lease.Lease(ctx, name, c.cfg.Owner, time.Duration(c.cfg.LeaseTTL))
			switch {
			case err == nil && held:
				lastRenew = time.Now()
			case err == nil:
				return errLeaseLost
			case time.Since(lastRenew) > time.Duration(c.cfg.LeaseTTL):
				return fmt.Errorf("%w: %w", errLeaseLost, err)
			default:
				c.log.Warn("renew shard lease", "lease", name, "err", err)
			}
		case <-down:
			if connected {
				connected = false
				// Not at once: discordgo's heartbeat goroutine of the lost
				// connection may still fail its write and Close the session,
				// which would close a connection opened in the meantime
				// (and the next one's heartbeat the one after, and so on).
				d := b.next()
				c.log.Warn("gateway connection lost; resuming", "in", d)
				retry.Reset(d)
			}
		case <-retry.C:
			err := c.open(ctx, gw, tr)
			switch {
			case err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen):
				connected = true
				b.reset()
				c.register(ctx)
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				if fatal := gatewayFatal(err); fatal != nil {
					return fatal
				}
				d := b.next()
				c.log.Warn("gateway connect failed; retrying", "err", err, "in", d)
				retry.Reset(d)
			}
		}
	}
}

// open runs gw.Open, ending it early (by closing its connection) if ctx ends.
func (c *Channel) open(ctx context.Context, gw gateway, tr *connTracker) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			tr.closeAll()
		case <-done:
		}
	})
	err := gw.Open()
	close(done)
	wg.Wait()
	if err == nil {
		tr.clearDeadlines()
	}
	return err
}

// handlers registers the gateway event handlers and returns a function
// removing them. They run on discordgo's reader and only enqueue.
func (c *Channel) handlers(gw gateway, w *workers, down chan<- struct{}) func() {
	rm := []func(){
		gw.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
			if m == nil || m.Message == nil {
				c.log.Warn("malformed MESSAGE_CREATE dropped")
				return
			}
			w.enqueue(m.ChannelID, m)
		}),
		gw.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
			if i == nil || i.Interaction == nil {
				c.log.Warn("malformed INTERACTION_CREATE dropped")
				return
			}
			w.enqueue(i.ChannelID, i)
		}),
		gw.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
			if r == nil {
				return
			}
			if r.User != nil && r.User.ID != "" {
				c.self.Store(r.User.ID)
			}
			if r.Application != nil && r.Application.ID != "" && c.cfg.AppID == "" {
				c.appID.Store(r.Application.ID)
			}
			c.log.Info("gateway ready", "session_shard", r.Shard)
			c.setReady()
		}),
		gw.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
			select {
			case down <- struct{}{}:
			default:
			}
		}),
	}
	return func() {
		for _, f := range rm {
			f()
		}
	}
}

// gatewayFatal maps gateway close codes that retrying cannot fix to
// ErrUnauthorized or ErrGateway; it returns nil for the others.
func gatewayFatal(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		if errors.Is(err, discordgo.ErrWSShardBounds) {
			return fmt.Errorf("%w: %w", ErrGateway, err)
		}
		return nil
	}
	switch ce.Code {
	case 4004:
		return fmt.Errorf("%w: gateway: %v", ErrUnauthorized, ce)
	case 4010, 4011, 4012, 4013, 4014:
		return fmt.Errorf("%w: %v", ErrGateway, ce)
	}
	return nil
}

// backoff doubles from Config.Backoff up to a minute.
type backoff struct{ first, cur time.Duration }

func (c *Channel) backoff() *backoff {
	d := time.Duration(c.cfg.Backoff)
	return &backoff{first: d, cur: d}
}

func (b *backoff) reset() { b.cur = b.first }

func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur = min(2*b.cur, time.Minute)
	return d
}

// wait sleeps the next delay; false if ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
