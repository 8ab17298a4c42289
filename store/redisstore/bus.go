package redisstore

import (
	"context"
	"time"
)

// busChannel is the pub/sub channel of topic.
func (s *Store) busChannel(topic string) string { return s.p + "bus:" + topic }

// Publish sends payload to every replica subscribed to topic (Redis
// pub/sub: at most once, and only to replicas subscribed now).
func (s *Store) Publish(ctx context.Context, topic string, payload []byte) error {
	return s.wrap("publish "+topic, s.rdb.Publish(ctx, s.busChannel(topic), payload).Err())
}

// Subscribe calls fn with each payload published on topic, in order, until
// ctx is canceled; it returns nil then. ready, if not nil, is closed once
// the subscription is active. While Redis is unreachable it retries (the
// client resubscribes by itself after a dropped connection); payloads
// published meanwhile are lost.
func (s *Store) Subscribe(ctx context.Context, topic string, ready chan<- struct{}, fn func(payload []byte)) error {
	return s.subscribe(ctx, s.busChannel(topic), ready, func(p string) { fn([]byte(p)) })
}

func (s *Store) subscribe(ctx context.Context, channel string, ready chan<- struct{}, fn func(payload string)) error {
	sub := s.rdb.Subscribe(ctx, channel)
	defer sub.Close()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		_, err := sub.Receive(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("redisstore: subscribe; retrying", "channel", channel, "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	if ready != nil {
		close(ready)
	}
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			fn(m.Payload)
		}
	}
}
