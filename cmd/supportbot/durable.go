package main

import (
	"context"
	"log/slog"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/redisstore"
)

// durable returns the engine options of durable work (docs/reliability.md):
// with the Redis store, the partitioned stream inbox and the outbox lock
// across replicas; with the embedded store none (in-process mailboxes; the
// outbox is used because the store implements bot.OutboxStore).
func durable(st store.Store, cfg store.RedisConfig, log *slog.Logger) []bot.Option {
	rs, ok := st.(*redisstore.Store)
	if !ok {
		return nil
	}
	ib := rs.NewInbox(cfg.Inbox())
	log.Info("durable inbox on Redis streams", "replica", ib.Replica())
	return []bot.Option{bot.WithDurable(bot.Durable{Inbox: ib, Lease: st, Replica: ib.Replica()})}
}

// watchDocs reloads the knowledge base and notices as soon as any replica
// publishes a new version (Redis pub/sub); the router's polling stays as
// the fallback for a lost notice. With the embedded store it only waits.
func (a *app) watchDocs(ctx context.Context) error {
	rs, ok := a.st.(*redisstore.Store)
	if !ok {
		<-ctx.Done()
		return nil
	}
	return rs.WatchDocs(ctx, nil, func(name string, version int64) {
		if err := a.router.Sync(ctx, a.st); err != nil && ctx.Err() == nil {
			a.log.Warn("knowledge base sync on notice", "doc", name, "version", version, "err", err)
		}
	})
}
