package embedded

import (
	"bytes"
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/privacy"
)

// customerKeys returns the customer index keys of customer and the
// conversation IDs they name, expired conversations included.
func customerKeys(tx *bolt.Tx, customer string) (keys [][]byte, ids []bot.ConversationID) {
	prefix := append([]byte(customer), 0)
	c := tx.Bucket(bCust).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
		ids = append(ids, bot.ConversationID(k[len(prefix)+8:]))
	}
	return keys, ids
}

// ExportCustomer returns everything kept about customer: its live
// conversations with transcripts, claims and queue entries, the timers of
// all its conversations, and the analytics events of those conversations or
// naming the customer (bot.Event.Customer). A customer with nothing
// stored gets an empty CustomerData and no error.
func (s *Store) ExportCustomer(ctx context.Context, customer string) (privacy.CustomerData, error) {
	d := privacy.CustomerData{CustomerID: customer}
	err := s.settled("export customer", func(tx *bolt.Tx) error {
		_, ids := customerKeys(tx, customer)
		set := map[bot.ConversationID]bool{}
		for _, id := range ids {
			set[id] = true
			b, err := s.conv(tx, id, false)
			if err != nil {
				return err
			}
			if b == nil || len(b.h.rec) == 0 {
				continue
			}
			c := privacy.Conversation{Record: new(bot.Conversation), Transcript: []bot.Message{}, Holder: string(b.Get(kHolder))}
			if err := json.Unmarshal(b.h.rec, c.Record); err != nil {
				return err
			}
			vals, err := lastMsgs(tx, []byte(id), b, 0)
			if err != nil {
				return err
			}
			for _, v := range vals {
				var msg bot.Message
				if err := json.Unmarshal(v, &msg); err != nil {
					return err
				}
				c.Transcript = append(c.Transcript, msg)
			}
			if v := tx.Bucket(bQueue).Get([]byte(id)); v != nil {
				c.Queue = new(handoff.Entry)
				if err := json.Unmarshal(v, c.Queue); err != nil {
					return err
				}
			}
			d.Conversations = append(d.Conversations, c)
		}
		if err := tx.Bucket(bTimers).ForEach(func(_, v []byte) error {
			var t bot.Timer
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if set[t.Conv] {
				d.Timers = append(d.Timers, t)
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bEvents).ForEach(func(_, v []byte) error {
			var e bot.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if set[e.Conv] || e.Customer == customer {
				d.Events = append(d.Events, e)
			}
			return nil
		})
	})
	return d, err
}

// DeleteCustomer removes everything kept about customer, in one
// transaction: its conversations (records, transcripts, outboxes, claims
// and the agents' held index), their queue entries, timers and analytics
// events, and the customer index itself; and empties the write log, which
// held their writes. Deleting an unknown customer is
// not an error.
func (s *Store) DeleteCustomer(ctx context.Context, customer string) error {
	return s.exclusive("delete customer", func(tx *bolt.Tx) error {
		keys, ids := customerKeys(tx, customer)
		set := map[bot.ConversationID]bool{}
		for _, id := range ids {
			set[id] = true
			if err := purge(tx, []byte(id)); err != nil {
				return err
			}
			if err := tx.Bucket(bQueue).Delete([]byte(id)); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := tx.Bucket(bCust).Delete(k); err != nil {
				return err
			}
		}
		// Claims whose conversation is already gone can still sit in
		// the held index; drop every entry naming one of the conversations.
		var held [][]byte
		_ = tx.Bucket(bHeld).ForEach(func(k, _ []byte) error {
			if i := bytes.IndexByte(k, 0); i >= 0 && set[bot.ConversationID(k[i+1:])] {
				held = append(held, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range held {
			if err := tx.Bucket(bHeld).Delete(k); err != nil {
				return err
			}
		}
		var timers []string
		if err := tx.Bucket(bTimers).ForEach(func(k, v []byte) error {
			var t bot.Timer
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if set[t.Conv] {
				timers = append(timers, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range timers {
			if err := cancelTimer(tx, k); err != nil {
				return err
			}
		}
		var events [][]byte
		if err := tx.Bucket(bEvents).ForEach(func(k, v []byte) error {
			var e bot.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if set[e.Conv] || e.Customer == customer {
				events = append(events, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range events {
			if err := tx.Bucket(bEvents).Delete(k); err != nil {
				return err
			}
		}
		return nil
	}, s.scrubLog)
}

// Dump calls fn with every key and value in the file, in every bucket at
// every depth, as "bucket/sub/key" and the raw value. Tests use it to prove
// that a deleted customer left nothing behind.
func (s *Store) Dump(fn func(path string, value []byte)) error {
	return s.settled("dump", func(tx *bolt.Tx) error {
		var walk func(prefix string, b *bolt.Bucket) error
		walk = func(prefix string, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				p := prefix + "/" + string(k)
				if v == nil {
					if sub := b.Bucket(k); sub != nil {
						fn(p, nil)
						return walk(p, sub)
					}
				}
				fn(p, v)
				return nil
			})
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fn(string(name), nil)
			return walk(string(name), b)
		})
	})
}
