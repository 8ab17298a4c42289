package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Config tunes the Engine. Zero values take the defaults in SetDefaults.
type Config struct {
	HandlerTimeout  time.Duration // per turn; default 10s
	ShutdownTimeout time.Duration // wait for turns in flight; default 15s
	DedupeTTL       time.Duration // how long platform IDs are remembered; default 24h
	MaxText         int           // bytes kept of one customer message; default 4000
	Sorry           string        // sent when a turn fails
	// Unavailable is sent, at most once per conversation and outage, when
	// an inbound event cannot be stored (durable inbox unreachable); the
	// event is kept and handled once the store is back.
	Unavailable string
	// MaxTurns bounds the turns run at once (one goroutine each); the
	// conversations beyond it wait their turn in order. Default 1024.
	MaxTurns int
}

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 10 * time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 15 * time.Second
	}
	if c.DedupeTTL <= 0 {
		c.DedupeTTL = 24 * time.Hour
	}
	if c.MaxText <= 0 {
		c.MaxText = 4000
	}
	if c.MaxTurns <= 0 {
		c.MaxTurns = 1024
	}
	if c.Sorry == "" {
		c.Sorry = "Sorry, something went wrong on our side. Please try again, or write \"human\" to reach a person."
	}
	if c.Unavailable == "" {
		c.Unavailable = "Sorry, we have a technical problem right now. Your message is saved; we will answer shortly."
	}
}

// Outcome says what the engine did with one inbound event.
type Outcome string

const (
	Handled    Outcome = "handled"
	Duplicate  Outcome = "duplicate" // a platform retry of an event already seen
	Ignored    Outcome = "ignored"   // empty after cleaning
	Truncated  Outcome = "truncated" // handled, with a note that it was cut
	Failed     Outcome = "failed"    // the handler failed; the customer got the apology
	Rejected   Outcome = "rejected"  // the engine is shutting down; not acked
	StoreError Outcome = "store_error"
)

// Observer is told about every inbound event the engine finishes (metrics, tests).
type Observer func(in Inbound, o Outcome, took time.Duration)

// Engine receives messages from Channels, keeps each conversation in a
// Store, runs the Handler chain one message at a time per conversation
// (conversations run in parallel), saves, and sends the replies.
type Engine struct {
	cfg     Config
	st      Store
	events  EventLog // optional: st, if it implements EventLog
	log     *slog.Logger
	now     func() time.Time
	h       Handler
	chans   map[string]Channel
	observe Observer
	sendObs OutboxObserver
	dur     Durable
	inbox   Inbox         // nil: in-process mailboxes
	obs     OutboxStore   // st, if it implements OutboxStore
	tc      TurnCommitter // st, if it implements TurnCommitter
	ob      *outbox
	spill   *spill
	pq      putQueue

	mu      sync.Mutex
	boxes   map[ConversationID]*mailbox
	closed  bool
	workers sync.WaitGroup // drains of mailboxes in progress
	pool    sync.WaitGroup // the goroutines that drain them, busy or idle
	// idle hands a mailbox to a goroutine waiting for one (unbuffered);
	// idleN counts them. Reusing goroutines spares each turn growing a
	// new goroutine's stack to the router's depth.
	idle  chan drainJob
	idleN atomic.Int32
	quit  chan struct{} // closed by Shutdown: idle goroutines exit
	calm  chan struct{} // closed (and replaced) when no mailbox has work; guarded by mu
	// running counts the goroutines draining a mailbox (cfg.MaxTurns at
	// most); ready holds the mailboxes waiting for one. Guarded by mu.
	running int
	ready   []drainJob
	doSeq   atomic.Uint64 // numbers Do turns, so their replies get unique message IDs
}

type job struct {
	in   Inbound
	ctx  context.Context
	fn   func(context.Context, *Turn) error
	done chan error // buffered 1
	at   time.Time
	cut  bool   // the customer's text was truncated
	seq  string // Delivery.Seq of an inbox entry; "" for the in-process path
	// dedupe is the platform key the commit records (TurnCommitter), "" if
	// it was recorded before the turn or there is none.
	dedupe string
	// outcome, for inbox entries, receives the result instead of Ack.
	outcome chan Outcome // buffered 1
	// conv, if loaded, is the conversation read with the inbox entry
	// (Delivery.Conv); the turn's first attempt uses it.
	conv   *Conversation
	loaded bool
}

type mailbox struct {
	jobs []*job
	// one is the first backing array of jobs: most mailboxes never hold
	// more than the job they were made for.
	one [1]*job
}

// drainJob is a mailbox to drain.
type drainJob struct {
	id ConversationID
	b  *mailbox
}

// maxIdle bounds the goroutines kept waiting for a mailbox, and idleFor how
// long each waits before it exits. They wait only while some conversation
// has work: when none has, they all exit.
const (
	maxIdle = 1024
	idleFor = 2 * time.Second
)

// Option configures an Engine.
type Option func(*Engine)

// WithClock replaces time.Now (tests use a fake clock).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithObserver registers fn to be called after every inbound event.
func WithObserver(fn Observer) Option { return func(e *Engine) { e.observe = fn } }

// New returns an Engine that handles every turn with h. Channels are added
// with Add before Run. New does no I/O.
func New(cfg Config, st Store, h Handler, log *slog.Logger, opts ...Option) *Engine {
	cfg.SetDefaults()
	e := &Engine{cfg: cfg, st: st, log: log, now: time.Now,
		chans: map[string]Channel{}, boxes: map[ConversationID]*mailbox{}, ob: newOutbox(), idle: make(chan drainJob), quit: make(chan struct{}), calm: make(chan struct{})}
	e.dur.setDefaults()
	e.SetHandler(h)
	if el, ok := st.(EventLog); ok {
		e.events = el
	}
	if obs, ok := st.(OutboxStore); ok {
		e.obs = obs
	}
	if tc, ok := st.(TurnCommitter); ok {
		e.tc = tc
	}
	for _, o := range opts {
		o(e)
	}
	e.spill = newSpill(e.dur.Spill)
	e.pq.slots = make(chan struct{}, e.dur.PutQueue)
	return e
}

// SetHandler sets the handler, wrapped in Logging, Recover and Timeout
// middleware; call it before Run.
func (e *Engine) SetHandler(h Handler) {
	if h == nil {
		h = HandlerFunc(func(context.Context, *Turn) error { return nil })
	}
	e.h = Chain(h, Logging(), Recover(), Timeout(e.cfg.HandlerTimeout))
}

// Add registers a channel; call it before Run.
func (e *Engine) Add(ch Channel) { e.chans[ch.Name()] = ch }

// Channel returns the channel registered under name.
func (e *Engine) Channel(name string) (Channel, bool) {
	ch, ok := e.chans[name]
	return ch, ok
}

// Run listens on every channel until ctx is canceled, then stops accepting
// events and waits up to ShutdownTimeout for turns in flight. It returns the
// first channel error, or nil after a clean shutdown. With an Inbox it also
// consumes the inbox (turns in flight finish; entries not yet handled stay
// in the inbox for another replica), and with an OutboxStore it retries
// failed sends and sweeps outboxes left behind.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(e.chans)+1)
	var listeners, background sync.WaitGroup
	for _, ch := range e.chans {
		listeners.Go(func() {
			if err := ch.Listen(ctx, e.Deliver); err != nil {
				errc <- fmt.Errorf("%s: %w", ch.Name(), err)
				cancel()
			}
		})
	}
	// hard is canceled ShutdownTimeout after ctx: it bounds the turns the
	// inbox consumer still runs.
	hard, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	if e.obs != nil {
		background.Go(func() { e.runOutbox(ctx) })
	}
	if e.inbox != nil {
		background.Go(func() { e.runSpill(ctx) })
		background.Go(func() {
			if err := e.inbox.Consume(ctx, func(_ context.Context, d Delivery) error { return e.consume(hard, d) }); err != nil {
				errc <- fmt.Errorf("inbox: %w", err)
				cancel()
			}
		})
	}
	<-ctx.Done()
	listeners.Wait()
	stop := time.AfterFunc(e.cfg.ShutdownTimeout, hardCancel)
	background.Wait()
	stop.Stop()
	err := e.Shutdown(context.Background())
	select {
	case cerr := <-errc:
		return cerr
	default:
		return err
	}
}

// Shutdown stops accepting events and waits for turns in flight, at most
// ShutdownTimeout or until ctx is done.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		close(e.quit)
	}
	e.closed = true
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.workers.Wait()
		e.pool.Wait() // idle goroutines exit at once: quit is closed
		close(done)
	}()
	t := time.NewTimer(e.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return errors.New("bot: shutdown timed out with turns in flight")
}

// Deliver hands one inbound event to the engine. It returns at once; the
// event is handled in order with the other events of its conversation. It
// is the deliver callback given to Channel.Listen, and is safe for
// concurrent use.
func (e *Engine) Deliver(ctx context.Context, in Inbound) {
	if e.inbox != nil {
		e.put(ctx, in)
		return
	}
	e.enqueue(&job{in: in, ctx: context.WithoutCancel(ctx), at: e.now()})
}

// Do runs fn as a turn of conversation id, in order with its messages: the
// desk uses it for agent replies, claims and resolves. The conversation must
// exist (else an error wrapping ErrNotFound). fn's replies are sent and its
// changes saved as for a customer message. Do waits for the result.
func (e *Engine) Do(ctx context.Context, id ConversationID, fn func(context.Context, *Turn) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan error, 1), at: e.now()}
	// The ID makes the transcript IDs of fn's replies ("<ID>-r<n>") unique.
	j.in = Inbound{Msg: Message{Role: RoleSystem, ID: fmt.Sprintf("do%d-%d", j.at.UnixNano(), e.doSeq.Add(1))}}
	j.in.Msg.From.Room = string(id) // routing key only; see convID
	if !e.enqueue(j) {
		return errors.New("bot: engine is shutting down")
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *job) convID() ConversationID {
	if j.fn != nil {
		return ConversationID(j.in.Msg.From.Room)
	}
	return j.in.Msg.From.ConversationID()
}

func (e *Engine) enqueue(j *job) bool {
	id := j.convID()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		if e.observe != nil && j.fn == nil {
			e.observe(j.in, Rejected, 0)
		}
		return false
	}
	if b, ok := e.boxes[id]; ok {
		if len(b.jobs) > 0 {
			j.loaded = false // the jobs ahead of it may change the conversation
		}
		b.jobs = append(b.jobs, j)
		return true
	}
	b := &mailbox{}
	b.jobs = append(b.one[:0], j)
	e.boxes[id] = b
	e.workers.Add(1)
	e.start(drainJob{id, b})
	return true
}

// start hands w to an idle goroutine of the pool, or to a new one, or
// queues it if cfg.MaxTurns goroutines are busy; e.mu is held. Bounding
// them bounds memory (a turn's stack grows to the router's depth) and
// keeps a burst from leaving the runtime thousands of dead goroutines,
// which every garbage collection visits for the life of the process.
func (e *Engine) start(w drainJob) {
	if e.running >= e.cfg.MaxTurns {
		e.ready = append(e.ready, w)
		return
	}
	e.running++
	select {
	case e.idle <- w:
	default:
		e.pool.Go(func() { e.worker(w) })
	}
}

// runHere runs j in the calling goroutine if its conversation has no
// mailbox, else queues it as enqueue does. It reports false if the engine
// is shutting down. Running in place spares the turn two goroutine
// hand-offs (the inbox consumer waits for the turn anyway).
func (e *Engine) runHere(j *job) bool {
	id := j.convID()
	e.mu.Lock()
	if _, busy := e.boxes[id]; busy || e.closed {
		e.mu.Unlock()
		return e.enqueue(j)
	}
	b := &mailbox{} // jobs queued while j runs wait in it
	e.boxes[id] = b
	e.workers.Add(1)
	e.mu.Unlock()
	e.run(id, j)
	e.mu.Lock()
	if len(b.jobs) > 0 {
		e.start(drainJob{id, b})
		e.mu.Unlock()
		return true
	}
	e.retire(id)
	e.mu.Unlock()
	e.workers.Done()
	return true
}

// retire removes id's empty mailbox; e.mu is held. It returns e.calm, or nil
// if no mailbox has work left (calm is closed then, so that the goroutines
// waiting for work exit: an idle engine keeps none).
func (e *Engine) retire(id ConversationID) (calm chan struct{}) {
	delete(e.boxes, id)
	if len(e.boxes) == 0 {
		close(e.calm)
		e.calm = make(chan struct{})
		return nil
	}
	return e.calm
}

// worker drains mailboxes: w, then those handed to it while it waits, until
// it has waited idleFor or enough others wait.
func (e *Engine) worker(w drainJob) {
	var t *time.Timer
	for {
		calm := e.drain(w.id, w.b)
		e.workers.Done()
		e.mu.Lock()
		if len(e.ready) > 0 {
			w = e.ready[0]
			e.ready[0] = drainJob{}
			e.ready = e.ready[1:]
			e.mu.Unlock()
			continue
		}
		e.running--
		e.mu.Unlock()
		if calm == nil { // no conversation has work: nothing to wait for
			return
		}
		if e.idleN.Add(1) > maxIdle {
			e.idleN.Add(-1)
			return
		}
		if t == nil {
			t = time.NewTimer(idleFor)
		} else {
			t.Reset(idleFor)
		}
		select {
		case w = <-e.idle:
			e.idleN.Add(-1)
		case <-t.C:
			e.idleN.Add(-1)
			return
		case <-calm:
			e.idleN.Add(-1)
			t.Stop()
			return
		case <-e.quit:
			e.idleN.Add(-1)
			t.Stop()
			return
		}
	}
}

// drain runs the jobs of one conversation in order and returns when its
// mailbox is empty, with what retire returns.
func (e *Engine) drain(id ConversationID, b *mailbox) (calm chan struct{}) {
	for {
		e.mu.Lock()
		if len(b.jobs) == 0 {
			calm = e.retire(id)
			e.mu.Unlock()
			return calm
		}
		j := b.jobs[0]
		b.jobs[0] = nil
		b.jobs = b.jobs[1:]
		e.mu.Unlock()
		e.run(id, j)
	}
}

func (e *Engine) run(id ConversationID, j *job) {
	log := convLogger(e.log, id)
	if j.fn != nil {
		j.done <- e.turn(j.ctx, id, j, log)
		return
	}
	o := e.inbound(id, j, log)
	if e.observe != nil {
		e.observe(j.in, o, e.now().Sub(j.at))
	}
	if j.outcome != nil {
		j.outcome <- o
		return
	}
	if o != StoreError && j.in.Ack != nil {
		j.in.Ack()
	}
}

// Clean makes customer text safe to handle: valid UTF-8, no NUL or control
// characters (newlines and tabs kept), trimmed, at most max bytes. It
// reports whether the text was cut.
func Clean(s string, max int) (string, bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]), true
}

func (e *Engine) inbound(id ConversationID, j *job, log *slog.Logger) Outcome {
	m := &j.in.Msg
	text, cut := Clean(m.Text, e.cfg.MaxText)
	if text == "" {
		log.Debug("ignored empty message", "key", j.in.Key)
		return Ignored
	}
	m.Text, j.cut = text, cut
	if m.Role == "" {
		m.Role = RoleCustomer
	}
	if m.At.IsZero() {
		m.At = e.now()
	}
	if j.in.Key != "" && j.seq == "" && e.tc != nil {
		// The key is recorded by the turn's commit, in the same write; a
		// turn that fails to commit leaves it unrecorded, so the platform's
		// redelivery is handled.
		key := "in:" + j.in.Key
		seen, err := e.tc.Seen(j.ctx, key)
		if err != nil {
			log.Error("dedupe", "err", err)
			return StoreError
		}
		if seen {
			log.Info("dropped duplicate", "key", j.in.Key)
			return Duplicate
		}
		j.dedupe = key
	} else if j.in.Key != "" && j.seq == "" { // an inbox dedupes in Put
		first, err := e.st.FirstSeen(j.ctx, "in:"+j.in.Key, e.cfg.DedupeTTL)
		if err != nil {
			log.Error("dedupe", "err", err)
			return StoreError
		}
		if !first {
			log.Info("dropped duplicate", "key", j.in.Key)
			return Duplicate
		}
	}
	if ch, ok := e.chans[m.From.Channel].(Typer); ok {
		if err := ch.Typing(j.ctx, m.From); err != nil {
			log.Debug("typing", "err", err)
		}
	}
	err := e.turn(j.ctx, id, j, log)
	switch {
	case errors.Is(err, errRedelivered):
		log.Info("dropped redelivered inbox entry", "seq", j.seq)
		return Duplicate
	case errors.Is(err, ErrDuplicate):
		log.Info("dropped duplicate", "key", j.in.Key)
		return Duplicate
	case errors.Is(err, ErrUnavailable):
		return StoreError
	case err != nil:
		return Failed
	case cut:
		return Truncated
	}
	return Handled
}

// turn loads the conversation, runs the handler (or j.fn), appends, saves
// and sends. On a concurrent change by another replica it retries once.
func (e *Engine) turn(ctx context.Context, id ConversationID, j *job, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.HandlerTimeout)
	defer cancel()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = e.once(ctx, id, j, log)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		log.Debug("conversation changed concurrently; retrying", "attempt", attempt)
	}
	return err
}

func (e *Engine) once(ctx context.Context, id ConversationID, j *job, log *slog.Logger) error {
	m := j.in.Msg
	var c *Conversation
	var err error
	switch {
	case j.loaded && j.conv != nil:
		c = j.conv
	case j.loaded:
		err = ErrNotFound
	default:
		c, err = e.st.Conversation(ctx, id)
	}
	j.loaded = false
	switch {
	case errors.Is(err, ErrNotFound) && j.fn == nil:
		c = NewConversation(m.From, m.Customer, e.now())
	case err != nil:
		return fmt.Errorf("load %s: %w", id, err)
	}
	if j.seq != "" && !SeqAfter(j.seq, c.Inbound) {
		return errRedelivered
	}
	t := &Turn{Conv: c, Msg: m, Now: e.now(), Log: log}
	var herr error
	if j.fn != nil {
		herr = Recover()(HandlerFunc(j.fn)).Handle(ctx, t)
	} else {
		if c.Customer.Name == "" && m.Customer.Name != "" {
			c.Customer = m.Customer
		}
		if j.cut {
			t.Reply(Reply{Kind: KindNotice, Text: fmt.Sprintf("Your message was long, so I read only its first %d characters.", utf8.RuneCountInString(m.Text))})
		}
		herr = e.h.Handle(ctx, t)
		if herr != nil {
			log.Error("handle message", "err", herr)
			t.replies = append(t.replies, Reply{Kind: KindNotice, Text: e.cfg.Sorry, Lang: c.Lang})
		}
	}
	if errors.Is(herr, ErrConflict) {
		return herr
	}
	if j.fn != nil && herr != nil {
		return herr
	}
	var out []Message
	if j.fn == nil {
		m.Lang = c.Lang
		out = append(make([]Message, 0, 1+len(t.notes)+len(t.replies)), m)
	}
	out = append(out, t.notes...)
	for i, r := range t.replies {
		role, author := RoleBot, ""
		if r.Kind == KindAgent {
			role, author = RoleAgent, r.Author
		}
		out = append(out, Message{ID: replyID(m.ID, i), From: c.Address, Role: role, Author: author,
			Text: r.Text, Lang: r.Lang, Original: r.Original, Choices: r.Choices, Kind: r.Kind, Meta: r.Meta, At: t.Now})
	}
	if len(t.replies) > 0 && c.FirstReply.IsZero() {
		c.FirstReply = t.Now
	}
	c.Updated = t.Now
	if e.obs != nil {
		return e.commit(ctx, c, j, t, out, herr, log)
	}
	if err := e.st.SaveConversation(ctx, c); err != nil {
		return fmt.Errorf("save %s: %w", id, err)
	}
	if len(out) > 0 {
		if err := e.st.Append(ctx, id, out...); err != nil {
			return fmt.Errorf("append %s: %w", id, err)
		}
	}
	for _, r := range t.replies {
		if err := e.Send(ctx, c.Address, r); err != nil {
			log.Error("send reply", "err", err, "channel", c.Address.Channel)
		}
	}
	if e.events != nil {
		for _, ev := range t.events {
			if err := e.events.RecordEvent(ctx, ev); err != nil {
				log.Warn("record event", "err", err)
			}
		}
	}
	return herr
}

// replyID is the transcript ID and outbox key of the i-th reply to the
// message with ID id.
func replyID(id string, i int) string { return id + "-r" + strconv.Itoa(i) }

// ErrNoChannel is returned by Send for an address whose channel is not registered.
var ErrNoChannel = errors.New("bot: no such channel")

// Send implements Sender by choosing the channel named to.Channel.
func (e *Engine) Send(ctx context.Context, to Address, r Reply) error {
	ch, ok := e.chans[to.Channel]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoChannel, to.Channel)
	}
	return ch.Send(ctx, to, r)
}

// errRedelivered: the inbox entry was committed by an earlier turn.
var errRedelivered = errors.New("bot: inbox entry already handled")

// commit writes the turn's effects with one OutboxStore.Commit (the
// conversation, its transcript messages out, the replies into the outbox and
// the inbox position), then sends the outbox and records the events.
func (e *Engine) commit(ctx context.Context, c *Conversation, j *job, t *Turn, out []Message, herr error, log *slog.Logger) error {
	var og []Outgoing
	for i, r := range t.replies {
		og = append(og, Outgoing{Key: replyID(t.Msg.ID, i), To: c.Address, Reply: r, At: t.Now})
	}
	if j.seq != "" {
		c.Inbound = j.seq
	}
	if e.tc != nil {
		return e.commitTurn(ctx, c, j, t, out, og, herr, log)
	}
	if err := e.obs.Commit(ctx, c, out, og); err != nil {
		return fmt.Errorf("commit %s: %w", c.ID, err)
	}
	if len(og) > 0 {
		e.drainAfterCommit(ctx, c.ID, log)
	}
	if e.events != nil {
		for _, ev := range t.events {
			if err := e.events.RecordEvent(ctx, ev); err != nil {
				log.Warn("record event", "err", err)
			}
		}
	}
	return herr
}

// commitTurn is commit with a TurnCommitter: the dedupe key and the events
// go into the commit's write, and the replies just committed are sent from
// memory when they head the outbox.
func (e *Engine) commitTurn(ctx context.Context, c *Conversation, j *job, t *Turn, out []Message, og []Outgoing, herr error, log *slog.Logger) error {
	tc := &TurnCommit{Conv: c, Msgs: out, Out: og, Events: t.events}
	if j.dedupe != "" {
		tc.Dedupe, tc.DedupeTTL = j.dedupe, e.cfg.DedupeTTL
	}
	// Reserve the drain of c's outbox before the commit, so that no other
	// drain of it in this process (sweeper, retry) sends between the commit
	// and the sending of its replies from memory.
	reserved := len(og) > 0 && e.reserveDrain(c.ID)
	if reserved && e.dur.Lease != nil {
		// The outbox lock with the commit: then nobody else can have sent
		// the replies before this drain, which sends them from memory.
		tc.Lease, tc.LeaseOwner, tc.LeaseTTL = "outbox:"+string(c.ID), e.dur.Replica, e.dur.LockTTL
	}
	if err := e.tc.CommitTurn(ctx, tc); err != nil {
		if reserved {
			e.releaseDrain(ctx, c.ID, log)
		}
		if errors.Is(err, ErrDuplicate) {
			return err
		}
		return fmt.Errorf("commit %s: %w", c.ID, err)
	}
	switch {
	case reserved:
		var first []Outgoing
		// Across replicas (Lease) another replica's sweeper may have sent
		// them before this one locks the outbox, unless the commit took
		// the lock: read it back then.
		if tc.Head && (e.dur.Lease == nil || tc.Leased) {
			first = og
		}
		e.drainBusy(ctx, c.ID, log, nil, first, tc.Leased)
	case len(og) > 0:
		e.drainAfterCommit(ctx, c.ID, log)
	}
	return herr
}
