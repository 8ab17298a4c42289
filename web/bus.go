package web

import (
	"bytes"
	"context"
)

// Bus carries events between replicas (redisstore.Store). Publish reaches
// every replica's Subscribe of the topic, at most once. Subscribe calls fn
// with each payload, in order, until ctx is canceled, closing ready (if not
// nil) once it listens; it retries by itself while the bus is unreachable.
type Bus interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string, ready chan<- struct{}, fn func(payload []byte)) error
}

// peers is one component's end of a Bus topic: what it publishes carries
// its ID, and Subscribe hands it only what the other replicas published.
// The zero value (no Bus) publishes nothing and listens to nothing.
type peers struct {
	bus   Bus
	topic string
	self  string
}

func newPeers(bus Bus, topic string) peers { return peers{bus: bus, topic: topic, self: newID()} }

func (p peers) publish(ctx context.Context, payload []byte) error {
	if p.bus == nil {
		return nil
	}
	return p.bus.Publish(ctx, p.topic, append([]byte(p.self+"\n"), payload...))
}

// listen runs fn on the other replicas' payloads until ctx is canceled.
// Without a Bus it only closes ready and waits.
func (p peers) listen(ctx context.Context, ready chan<- struct{}, fn func(payload []byte)) error {
	if p.bus == nil {
		if ready != nil {
			close(ready)
		}
		<-ctx.Done()
		return nil
	}
	return p.bus.Subscribe(ctx, p.topic, ready, func(b []byte) {
		if from, payload, ok := bytes.Cut(b, []byte{'\n'}); ok && string(from) != p.self {
			fn(payload)
		}
	})
}
