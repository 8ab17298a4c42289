package redisstore

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/reccache/reccachetest"
)

// The conversation read back after a commit, served from the cache of
// decoded records (by Conversation and with an inbox entry), is exactly
// what decoding the stored record gives; a record another process wrote
// is decoded again.
func TestRecordCacheServesWhatDecodingGives(t *testing.T) {
	ctx := context.Background()
	s := serverStore(t)
	now := time.Now() // with a monotonic reading, in time.Local
	c := reccachetest.Conversation(now)
	if err := s.CommitTurn(ctx, &bot.TurnCommit{Conv: c}); err != nil {
		t.Fatal(err)
	}
	key := s.convKeys(c.ID)[0]
	raw, err := s.rdb.Get(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	want, err := decodeConv([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s.recs.GetString(c.ID, raw) == nil {
		t.Fatal("the committed record is not cached")
	}
	got, err := s.Conversation(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("from the cache:\n%#v\ndecoded:\n%#v", got, want)
	}
	convs := map[bot.ConversationID]*conv{c.ID: {ds: []bot.Delivery{{Seq: "1-0"}}}}
	s.NewInbox(InboxOptions{}).prefetch(ctx, convs, []bot.ConversationID{c.ID}, map[string]any{"1-0": raw})
	if d := convs[c.ID].ds[0]; !d.Loaded || !reflect.DeepEqual(d.Conv, want) {
		t.Fatalf("with the inbox entry (loaded %v):\n%#v\ndecoded:\n%#v", d.Loaded, d.Conv, want)
	}

	// Written by another process: decoded again. (That readers get their
	// own copies is the cache's, tested with the embedded store.)
	other := *got
	other.Intent = "other"
	rec, err := encodeConv(&other, other.Version+1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.Set(ctx, key, rec, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Conversation(ctx, c.ID); got.Intent != "other" || got.Version != other.Version+1 {
		t.Fatalf("after another write: intent %q, version %d", got.Intent, got.Version)
	}
}
