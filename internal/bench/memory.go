package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/store/redisstore"
)

// converse has convs conversations of turns customer messages each (and
// the bot's answers: 2*turns messages) through the engine, 100 at a time.
func converse(r *rig, texts []string, first, convs, turns int) error {
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	for c := range convs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for k := range turns {
				done := make(chan struct{})
				r.ch.Say(first+c, texts[(c*turns+k)%len(texts)], func() { close(done) })
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					select {
					case errc <- fmt.Errorf("conversation %d: turn %d not handled", c, k):
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

func roomID(room int) bot.ConversationID {
	return bot.Address{Channel: "load", Room: "r" + strconv.Itoa(room)}.ConversationID()
}

// transcriptText sums the text bytes of id's transcript and counts its messages.
func transcriptText(st store.Store, id bot.ConversationID) (int64, int, error) {
	msgs, err := st.Transcript(context.Background(), id, 0)
	var n int64
	for _, m := range msgs {
		n += int64(len(m.Text))
	}
	return n, len(msgs), err
}

type redisMemResult struct {
	convs, msgs int
	overhead    float64 // MEMORY USAGE of the conversation's keys minus text, per conversation
	withDedupe  float64 // plus its messages' dedupe keys and its customer-index entry
	text        float64
}

// benchRedisMemory measures MEMORY USAGE (all samples) of conversations of
// 20 messages (10 from the customer, 10 answers).
func benchRedisMemory(srv *redisServer, snap *intents.Snapshot, texts []string, convs int) (redisMemResult, error) {
	ctx := context.Background()
	st, err := redisstore.New(ctx, redisstore.Options{URL: srv.URL(), Log: quiet()})
	if err != nil {
		return redisMemResult{}, err
	}
	defer st.Close()
	r := startRig(st, snap)
	defer r.close()
	if err := converse(r, texts, 0, convs, 10); err != nil {
		return redisMemResult{}, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true})
	defer rdb.Close()
	res := redisMemResult{convs: convs}
	var over, extra, text int64
	for c := range convs {
		id := roomID(c)
		mem, err := st.MemoryUsage(ctx, id)
		if err != nil {
			return res, err
		}
		tb, n, err := transcriptText(st, id)
		if err != nil {
			return res, err
		}
		res.msgs += n
		over += mem - tb
		text += tb
		cust := st.KeyPrefix() + "cust:load:cr" + strconv.Itoa(c)
		if n, err := rdb.MemoryUsage(ctx, cust, 0).Result(); err == nil {
			extra += n
		}
	}
	// Dedupe keys: one per inbound message, all of them this run's (the
	// inbox's, or FirstSeen's without one).
	for _, pat := range []string{"{in:*}:d:*", "dd:*"} {
		iter := rdb.Scan(ctx, 0, st.KeyPrefix()+pat, 1000).Iterator()
		for iter.Next(ctx) {
			if n, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result(); err == nil {
				extra += n
			}
		}
		if err := iter.Err(); err != nil {
			return res, err
		}
	}
	res.overhead = float64(over) / float64(convs)
	res.withDedupe = float64(over+extra) / float64(convs)
	res.text = float64(text) / float64(convs)
	res.msgs /= convs
	return res, nil
}

type fileResult struct {
	convs, msgs int
	used, file  float64 // bytes per conversation: pages in use, file size
}

// benchFileBytes measures the embedded store's growth per conversation of
// 20 messages: pages in use (from bbolt's page counts) and file size.
func benchFileBytes(snap *intents.Snapshot, texts []string, convs int) (fileResult, error) {
	dir, err := os.MkdirTemp("", "supportbot-bench-file")
	if err != nil {
		return fileResult{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, embedded.FileName)
	st, err := embedded.Open(path, embedded.Options{Log: quiet()})
	if err != nil {
		return fileResult{}, err
	}
	st.Close()
	used0, file0, err := boltUsage(path)
	if err != nil {
		return fileResult{}, err
	}
	if st, err = embedded.Open(path, embedded.Options{Log: quiet()}); err != nil {
		return fileResult{}, err
	}
	r := startRig(st, snap)
	err = converse(r, texts, 0, convs, 10)
	_, msgs, _ := transcriptText(st, roomID(0))
	r.close()
	st.Close()
	if err != nil {
		return fileResult{}, err
	}
	used, file, err := boltUsage(path)
	if err != nil {
		return fileResult{}, err
	}
	return fileResult{convs: convs, msgs: msgs, used: float64(used-used0) / float64(convs), file: float64(file-file0) / float64(convs)}, nil
}

// boltUsage returns the bytes of pages in use and the file size.
func boltUsage(path string) (int64, int64, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var used int64
	err = db.View(func(tx *bolt.Tx) error {
		st := db.Stats()
		used = tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(db.Info().PageSize)
		return nil
	})
	fi, ferr := os.Stat(path)
	if ferr != nil {
		return 0, 0, ferr
	}
	return used, fi.Size(), err
}

func removeAll(dir string) { os.RemoveAll(dir) }
