package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/privacy"
)

// ExportCustomer returns everything kept about customer: its live
// conversations (record, transcript, claim, queue entry), the timers of all
// its conversations, and the analytics events of those conversations or
// naming the customer (bot.Event.Customer, set by bot.Turn.Record). It reads the customer index,
// each conversation's keys, and scans the timers and the event days (on
// every master of a Cluster). A customer with nothing stored gets an empty
// CustomerData and no error.
func (s *Store) ExportCustomer(ctx context.Context, customer string) (privacy.CustomerData, error) {
	d := privacy.CustomerData{CustomerID: customer}
	ids, err := s.rdb.ZRange(ctx, s.p+"cust:"+customer, 0, -1).Result()
	if err != nil {
		return d, s.wrap("export customer", err)
	}
	set := map[bot.ConversationID]bool{}
	for _, raw := range ids {
		id := bot.ConversationID(raw)
		set[id] = true
		c, err := s.Conversation(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
		if err != nil {
			return d, err
		}
		conv := privacy.Conversation{Record: c}
		if conv.Transcript, err = s.Transcript(ctx, id, 0); err != nil {
			return d, err
		}
		if conv.Holder, err = s.Holder(ctx, id); err != nil {
			return d, err
		}
		b, err := s.rdb.HGet(ctx, s.queueKey(), raw).Bytes()
		switch {
		case err == nil:
			conv.Queue = new(handoff.Entry)
			if err := json.Unmarshal(b, conv.Queue); err != nil {
				return d, fmt.Errorf("redisstore: export customer: queue entry: %w", err)
			}
		case !errors.Is(err, redis.Nil):
			return d, s.wrap("export customer", err)
		}
		d.Conversations = append(d.Conversations, conv)
	}
	if err := s.customerTimers(ctx, set, func(_ string, t bot.Timer) { d.Timers = append(d.Timers, t) }); err != nil {
		return d, err
	}
	err = s.customerEvents(ctx, customer, set, func(_, _ string, e bot.Event) { d.Events = append(d.Events, e) })
	return d, err
}

// DeleteCustomer removes everything kept about customer: each conversation
// of its index (the record, transcript, claim and outbox keys under
// {conv:ID}, and its outbox mark), its
// queue entry and place in any agent's held set, its timers and analytics
// events, and the customer index. Deleting an unknown customer is not an
// error. It is idempotent, so a call that failed half-way can be repeated.
func (s *Store) DeleteCustomer(ctx context.Context, customer string) error {
	idx := s.p + "cust:" + customer
	ids, err := s.rdb.ZRange(ctx, idx, 0, -1).Result()
	if err != nil {
		return s.wrap("delete customer", err)
	}
	set := map[bot.ConversationID]bool{}
	members := make([]any, len(ids))
	for i, raw := range ids {
		set[bot.ConversationID(raw)] = true
		members[i] = raw
		o, om := s.outKeys(bot.ConversationID(raw))
		if err := s.rdb.Del(ctx, append(s.convKeys(bot.ConversationID(raw)), o, om)...).Err(); err != nil {
			return s.wrap("delete customer", err)
		}
	}
	if len(ids) > 0 {
		if err := s.rdb.ZRem(ctx, s.marksKey(), members...).Err(); err != nil {
			return s.wrap("delete customer", err)
		}
		if err := s.rdb.HDel(ctx, s.queueKey(), ids...).Err(); err != nil {
			return s.wrap("delete customer", err)
		}
		if err := s.scan(ctx, globEscape(s.heldKey(""))+"*", func(key string) error {
			return s.rdb.SRem(ctx, key, members...).Err()
		}); err != nil {
			return s.wrap("delete customer", err)
		}
		var timers []string
		if err := s.customerTimers(ctx, set, func(k string, _ bot.Timer) { timers = append(timers, k) }); err != nil {
			return err
		}
		if len(timers) > 0 {
			k := s.timerKeys()
			if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZRem(ctx, k[0], toAny(timers)...)
				p.HDel(ctx, k[1], timers...)
				return nil
			}); err != nil {
				return s.wrap("delete customer", err)
			}
		}
	}
	events := map[string][]any{}
	if err := s.customerEvents(ctx, customer, set, func(key, member string, _ bot.Event) {
		events[key] = append(events[key], member)
	}); err != nil {
		return err
	}
	for key, ms := range events {
		if err := s.rdb.ZRem(ctx, key, ms...).Err(); err != nil {
			return s.wrap("delete customer", err)
		}
	}
	if err := s.deleteInboxEntries(ctx, customer, set); err != nil {
		return s.wrap("delete customer", err)
	}
	return s.wrap("delete customer", s.rdb.Del(ctx, idx).Err())
}

// deleteInboxEntries removes the customer's messages still held in the
// inbox streams (acked entries are trimmed only approximately).
func (s *Store) deleteInboxEntries(ctx context.Context, customer string, convs map[bot.ConversationID]bool) error {
	return s.scan(ctx, globEscape(s.p)+"{in:*}:s", func(key string) error {
		for start := "-"; ; {
			msgs, err := s.rdb.XRangeN(ctx, key, start, "+", 500).Result()
			if err != nil || len(msgs) == 0 {
				return err
			}
			var gone []string
			for _, m := range msgs {
				raw, _ := m.Values["in"].(string)
				var w inWire
				if json.Unmarshal([]byte(raw), &w) == nil &&
					(w.Msg.Customer.ID == customer || convs[w.Msg.From.ConversationID()]) {
					gone = append(gone, m.ID)
				}
			}
			if len(gone) > 0 {
				if err := s.rdb.XDel(ctx, key, gone...).Err(); err != nil {
					return err
				}
			}
			if len(msgs) < 500 {
				return nil
			}
			start = "(" + msgs[len(msgs)-1].ID
		}
	})
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// customerTimers calls fn with each timer (and its key) of a conversation in set.
func (s *Store) customerTimers(ctx context.Context, set map[bot.ConversationID]bool, fn func(key string, t bot.Timer)) error {
	iter := s.rdb.HScan(ctx, s.timerKeys()[1], 0, "", 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if !iter.Next(ctx) {
			break
		}
		var t bot.Timer
		if err := json.Unmarshal([]byte(iter.Val()), &t); err != nil {
			return fmt.Errorf("redisstore: timer %q: %w", key, err)
		}
		if set[t.Conv] {
			fn(key, t)
		}
	}
	return s.wrap("customer timers", iter.Err())
}

// customerEvents calls fn with each analytics event (its day key and
// member) of a conversation in set or naming customer, scanning every day.
func (s *Store) customerEvents(ctx context.Context, customer string, set map[bot.ConversationID]bool, fn func(key, member string, e bot.Event)) error {
	err := s.scan(ctx, globEscape(s.p)+"ev:*", func(key string) error {
		iter := s.rdb.ZScan(ctx, key, 0, "", 500).Iterator()
		for iter.Next(ctx) {
			member := iter.Val()
			if !iter.Next(ctx) { // the score
				break
			}
			var e bot.Event
			if len(member) < 24 || json.Unmarshal([]byte(member[24:]), &e) != nil {
				continue
			}
			if set[e.Conv] || e.Customer == customer {
				fn(key, member, e)
			}
		}
		return iter.Err()
	})
	return s.wrap("customer events", err)
}

// scan calls fn with every key matching the glob pattern match, on every
// master when Redis is a Cluster. fn is never called concurrently.
func (s *Store) scan(ctx context.Context, match string, fn func(key string) error) error {
	each := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, match, 500).Iterator()
		for iter.Next(ctx) {
			if err := fn(iter.Val()); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return each(ctx, m)
		})
	}
	return each(ctx, s.rdb)
}

// globEscape quotes the glob metacharacters of s for SCAN MATCH.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}
