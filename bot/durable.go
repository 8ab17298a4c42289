package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ---- retryable send errors

// ErrRetryable marks a Channel.Send failure worth retrying later: the
// platform rate-limited the bot (429), failed on its side (5xx) or could
// not be reached. Adapters wrap it (usually through RetryAfter); the
// engine's outbox then keeps the reply and retries with backoff, in order.
var ErrRetryable = errors.New("bot: retryable send failure")

// RetryAfter is a retryable send error with the platform's hint of when to
// try again (0: no hint). It wraps ErrRetryable and Err.
type RetryAfter struct {
	After time.Duration
	Err   error
	// Reason is RetryRateLimit for a platform's rate limit (RateLimited),
	// "" for a failure on the platform's side.
	Reason string
}

// Why a send is retried (RetryReason), for metrics.
const (
	RetryRateLimit = "429"
	RetryServer    = "5xx"
	RetryNetwork   = "network"
)

func (e *RetryAfter) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
	}
	return fmt.Sprint(e.Err)
}

// Unwrap makes errors.Is(e, ErrRetryable) true and exposes Err.
func (e *RetryAfter) Unwrap() []error { return []error{ErrRetryable, e.Err} }

// Retryable wraps err as a RetryAfter with hint after; nil stays nil.
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryAfter{After: after, Err: err}
}

// RateLimited is Retryable for a platform's rate limit (HTTP 429 or its
// equivalent): RetryReason reports RetryRateLimit.
func RateLimited(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryAfter{After: after, Err: err, Reason: RetryRateLimit}
}

// RetryReason says why a send that failed with a retryable err is retried:
// RetryRateLimit, RetryNetwork or RetryServer.
func RetryReason(err error) string {
	var ra *RetryAfter
	if errors.As(err, &ra) {
		if ra.Reason != "" {
			return ra.Reason
		}
		return RetryServer
	}
	return RetryNetwork
}

// IsRetryable reports whether a send that failed with err should be tried
// again later: err wraps ErrRetryable, or is a network failure (refused,
// reset, timed out) that says nothing about the reply itself.
func IsRetryable(err error) bool {
	var ne net.Error
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrRetryable), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	case errors.As(err, &ne):
		return true
	}
	return false
}

// retryHint is the platform's hint in err, 0 if none.
func retryHint(err error) time.Duration {
	var ra *RetryAfter
	if errors.As(err, &ra) {
		return ra.After
	}
	return 0
}

// ---- the outbox

// Outgoing is one committed reply waiting in its conversation's outbox until
// the channel accepts it.
type Outgoing struct {
	// Key is unique within the conversation (the reply's transcript message
	// ID); OutboxDone names the entry by it. It is also Reply.Key.
	Key   string    `json:"key"`
	To    Address   `json:"to"`
	Reply Reply     `json:"reply"`
	At    time.Time `json:"at"` // when the turn committed it
}

// OutboxMark says that a conversation's outbox had entries committed; the
// sweeper uses marks to find outboxes a crashed replica left behind.
type OutboxMark struct {
	Conv ConversationID
	Seq  int64 // grows with every commit of Conv; OutboxForget compares it
}

// OutboxStore commits a turn atomically and keeps each conversation's
// replies, in order, until they are sent. store/embedded (one bbolt
// transaction) and store/redisstore (one Lua script on the conversation's
// Cluster slot) implement it; store/storetest checks the contract.
type OutboxStore interface {
	// Commit does what SaveConversation(c) (same version check: an error
	// wrapping ErrConflict and nothing written on a mismatch), Append(c.ID,
	// msgs...) and adding out to the end of c's outbox would do, all or
	// nothing. It marks c's outbox (OutboxPending) when out is not empty.
	Commit(ctx context.Context, c *Conversation, msgs []Message, out []Outgoing) error
	// Outbox returns up to n entries from the head of id's outbox, oldest
	// first; an empty outbox is an empty slice, not an error.
	Outbox(ctx context.Context, id ConversationID, n int) ([]Outgoing, error)
	// OutboxDone removes the head entry of id's outbox if its Key is key; it
	// is a no-op otherwise (someone else removed it), so it is idempotent.
	OutboxDone(ctx context.Context, id ConversationID, key string) error
	// OutboxPending lists up to n marks made before before (oldest first).
	OutboxPending(ctx context.Context, before time.Time, n int) ([]OutboxMark, error)
	// OutboxForget removes m if no commit marked m.Conv again since m was
	// listed. Call it after finding the outbox empty.
	OutboxForget(ctx context.Context, m OutboxMark) error
}

// TurnCommit is one turn's effects for TurnCommitter.CommitTurn.
type TurnCommit struct {
	Conv *Conversation
	Msgs []Message
	Out  []Outgoing
	// Dedupe, if not empty, is the inbound event's platform key, recorded
	// as by Deduper.FirstSeen(Dedupe, DedupeTTL) in the same atomic write.
	// If it is already recorded, nothing is written and CommitTurn returns
	// an error wrapping ErrDuplicate.
	Dedupe    string
	DedupeTTL time.Duration
	// Events are the turn's analytics events (EventLog), recorded with the
	// commit, in the same write where the store can.
	Events []Event
	// Head is set by CommitTurn: Out are the first entries of the outbox
	// (it was empty before), so they can be sent without reading it back.
	Head bool
	// Lease, if not empty, asks CommitTurn to take or renew that lease for
	// LeaseOwner until LeaseTTL from now (as Leaser.Lease) in the same
	// atomic write, whatever it finds; Leased reports that LeaseOwner holds
	// it. A store that cannot do it leaves Leased false.
	Lease, LeaseOwner string
	LeaseTTL          time.Duration
	Leased            bool
}

// ErrDuplicate is returned by CommitTurn when TurnCommit.Dedupe was seen.
var ErrDuplicate = errors.New("bot: inbound event already handled")

// TurnCommitter is an OutboxStore that writes a whole turn in one atomic
// write: Commit plus the dedupe key and the analytics events, so a message
// costs one durable write (one fsync, one round trip) instead of several.
// The Engine uses it when the Store implements it.
type TurnCommitter interface {
	OutboxStore
	// Seen reports whether key was recorded by FirstSeen or CommitTurn
	// within its TTL; it writes nothing.
	Seen(ctx context.Context, key string) (bool, error)
	// CommitTurn does what Commit(t.Conv, t.Msgs, t.Out) does, and records
	// t.Dedupe and t.Events, all or nothing.
	CommitTurn(ctx context.Context, t *TurnCommit) error
	// OutboxDoneLeft is OutboxDone that also reports whether entries may
	// be left in the outbox (false: it is empty now), so the sender need
	// not read it again.
	OutboxDoneLeft(ctx context.Context, id ConversationID, key string) (left bool, err error)
}

// OutboxDoneQueuer is an optional extension of TurnCommitter for a store
// of one process that applies its writes in the order they are issued
// (store/embedded's group commit). The Engine uses it, without
// Durable.Lease, for the last reply of a turn, so that the removal shares
// the next turn's durable write instead of waiting for one of its own.
type OutboxDoneQueuer interface {
	// OutboxDoneQueue does OutboxDoneLeft(id, key) without waiting for it:
	// it returns at once, the removal is applied before every write issued
	// after it returns, and result is called when it is durable (or
	// failed). result must not block.
	OutboxDoneQueue(id ConversationID, key string, result func(left bool, err error))
}

// OutboxLeaser is an optional extension of Durable.Lease for a Leaser that
// is also the OutboxStore: the outbox lock is taken with the first read of
// the outbox, and given back with the removal of its last entry, in one
// step (one Redis round trip) each.
type OutboxLeaser interface {
	// LeaseOutbox is Lease(name, owner, ttl) and, if owner holds it then,
	// Outbox(id, n): head is not nil when ok.
	LeaseOutbox(ctx context.Context, name, owner string, ttl time.Duration, id ConversationID, n int) (ok bool, head []Outgoing, err error)
	// OutboxDoneUnlease is OutboxDone(id, key) that, when the outbox is
	// empty after it, also does Unlease(name, owner). left is false when
	// the outbox is empty; unleased reports that the lease was given back.
	OutboxDoneUnlease(ctx context.Context, id ConversationID, key, name, owner string) (left, unleased bool, err error)
}

// OutboxDoneBatcher is an optional extension of OutboxLeaser: the removal
// of the last reply of a turn, sent from memory, and the release of the
// outbox lock with it are queued, and the store runs the queued removals of
// many conversations in one round trip.
type OutboxDoneBatcher interface {
	// OutboxDoneUnleaseQueue does OutboxDoneUnlease(id, key, name, owner)
	// soon, without waiting: result is called when it ran (or failed) and
	// must not block.
	OutboxDoneUnleaseQueue(id ConversationID, key, name, owner string, result func(left, unleased bool, err error))
	// FlushDone runs the queued removals now and returns when they ran.
	FlushDone(ctx context.Context)
}

// ---- the inbox

// Delivery is one inbound event taken from an Inbox.
type Delivery struct {
	In Inbound
	// Seq is the entry's position, "<ms>-<n>" as a Redis stream ID. The
	// entries of one conversation have increasing Seq (SeqAfter) across
	// redeliveries, so a turn records the last Seq it committed
	// (Conversation.Inbound) and skips an entry at or before it.
	Seq string
	// Conv, if Loaded, is the conversation as the Inbox read it with the
	// entry (nil: none is stored), so the turn need not load it. A copy
	// made stale by another write fails the commit's version check, and the
	// turn runs again on a fresh load, as after any concurrent change.
	Conv   *Conversation
	Loaded bool
}

// Inbox is the durable queue between Channel.Listen and the turns, used by
// an Engine with several replicas (WithInbox). Without one the Engine keeps
// its in-process mailboxes (the embedded store is single-process).
type Inbox interface {
	// Put stores in (without its Ack) durably. When it returns nil the event
	// may be acknowledged to the platform. dup reports that in.Key was Put
	// before (within the dedupe TTL): nothing was stored. An unreachable
	// backend gives an error wrapping ErrUnavailable.
	Put(ctx context.Context, in Inbound) (dup bool, err error)
	// Consume calls handle for stored entries until ctx is canceled, then
	// waits for the handle calls in flight and returns nil (or the error that
	// stopped it for good). Entries of one conversation are handled one at a
	// time in Put order, also across replicas; other conversations in
	// parallel. An entry is removed once handle returns nil; on an error it
	// is retried with backoff, and an entry whose consumer died is handed
	// to another consumer: handle must be idempotent (see Delivery.Seq).
	Consume(ctx context.Context, handle func(ctx context.Context, d Delivery) error) error
}

// InboxBatcher is an optional extension of Inbox: several events stored in
// one round trip. The Engine uses it for the events that queued while its
// previous store was in flight.
type InboxBatcher interface {
	// PutAll does Put for each of ins, in order. On an error any of them
	// may have been stored: they are Put again later, and those with a Key
	// are then recognised as duplicates.
	PutAll(ctx context.Context, ins []Inbound) (dup []bool, err error)
}

// SeqAfter reports whether stream position a is after b ("" is before
// everything). Malformed positions compare as text.
func SeqAfter(a, b string) bool {
	if b == "" {
		return a != ""
	}
	am, an, aok := splitSeq(a)
	bm, bn, bok := splitSeq(b)
	if !aok || !bok {
		return a > b
	}
	return am > bm || am == bm && an > bn
}

func splitSeq(s string) (uint64, uint64, bool) {
	ms, n, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(n, 10, 64)
	return a, b, err1 == nil && err2 == nil
}
