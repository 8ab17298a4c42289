package reccache

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/reccache/reccachetest"
)

// TestBoundedAndShared checks that a full cache stays within size while
// workers put and get records concurrently, and that every hit is a copy
// of what was put for that conversation.
func TestBoundedAndShared(t *testing.T) {
	var r Cache
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range size {
				id := bot.ConversationID(fmt.Sprintf("c%d-%d", w, i))
				c := reccachetest.Conversation(now)
				c.ID = id
				rec := []byte("rec of " + string(id))
				r.Put(id, rec, c)
				if got := r.Get(id, rec); got != nil && got.ID != id {
					t.Errorf("Get(%s) = a record of %s", id, got.ID)
				}
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range r.shards {
		n += len(r.shards[i].m)
	}
	if n > size || n < size/2 {
		t.Errorf("%d entries cached after %d puts, want at most %d and most of them", n, 4*size, size)
	}
	id := bot.ConversationID("new")
	c := reccachetest.Conversation(now)
	c.ID = id
	r.Put(id, []byte("rec of "+string(id)), c)
	if r.Get(id, []byte("rec of "+string(id))) == nil {
		t.Errorf("a record put into the full cache is not cached")
	}
	if r.Get(id, []byte("another record")) != nil {
		t.Errorf("a record other than the stored one was served")
	}
}
