package handoff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Sentinel errors of the Desk. Methods wrap them with %w; check with errors.Is.
var (
	// ErrNotHolder: the agent does not hold the conversation.
	ErrNotHolder = errors.New("handoff: agent does not hold this conversation")
	// ErrNotWaiting: the conversation is neither waiting for nor held by a
	// human (the bot owns it, or it was resolved).
	ErrNotWaiting = errors.New("handoff: conversation is not waiting for or held by a human")
	// ErrUnknownAgent: no agent has that ID (SetStatus adds agents).
	ErrUnknownAgent = errors.New("handoff: unknown agent")
	// ErrAgentUnavailable: the agent is away or off.
	ErrAgentUnavailable = errors.New("handoff: agent is not available")
	// ErrEmpty: an agent's reply or note has no text.
	ErrEmpty = errors.New("handoff: empty message")
)

// Runner runs fn as a turn of conversation id, ordered with the customer's
// messages, and saves and sends what fn did; *bot.Engine implements it. fn
// may run more than once when the conversation changed concurrently, and
// nothing fn did is kept when it returns an error.
type Runner interface {
	Do(ctx context.Context, id bot.ConversationID, fn func(context.Context, *bot.Turn) error) error
}

// Selector picks the agent for a waiting conversation in Assign routing, or
// returns nil when nobody fits. It must not modify agents.
type Selector interface {
	Select(agents []Agent, e Entry) *Agent
}

// Summarizer writes a short summary of a conversation for the card (e.g.
// an LLM). The desk falls back to its offline extractive summary when it
// fails or is slow.
type Summarizer interface {
	Summarize(ctx context.Context, msgs []bot.Message) (string, error)
}

// Request is the router's reason to hand a conversation to a human.
type Request struct {
	Reason   bot.Reason // default bot.ReasonRequested
	Skill    string     // team or skill needed, "" for anyone
	Topic    string     // short subject shown on the card (e.g. the intent's title)
	Priority int        // at least this priority; complaints and anger raise it
}

// Priorities the desk gives by itself; Request.Priority may ask for more.
const (
	PriorityNormal    = 0
	PriorityUpset     = 1 // negative sentiment
	PriorityComplaint = 2
)

// KindNote marks an agent's internal note in the transcript (role system).
const KindNote bot.ReplyKind = "note"

// Desk is the human side of the bot: it queues conversations handed over by
// the router, routes them to agents, relays while a human holds them,
// resolves them and asks for CSAT. It is safe for concurrent use; several
// replicas may run desks on one shared store.
type Desk struct {
	set    atomic.Pointer[settings]
	st     Store
	conv   bot.Store
	events bot.EventLog
	timers bot.TimerStore
	leaser bot.Leaser
	run    Runner
	log    *slog.Logger
	now    func() time.Time
	sel    Selector
	sum    Summarizer
	tr     *translation // WithTranslator; nil: no translation
	owner  string

	mu      sync.RWMutex
	ws      []Workspace
	closing bool
	wg      sync.WaitGroup // goroutines started by later

	kick chan struct{}
	eta  etaCache
	sums summaryCache
}

// Option configures a Desk.
type Option func(*Desk)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(d *Desk) { d.now = now } }

// WithSelector replaces LeastLoaded in Assign routing.
func WithSelector(s Selector) Option { return func(d *Desk) { d.sel = s } }

// WithWorkspaces adds workspaces.
func WithWorkspaces(ws ...Workspace) Option {
	return func(d *Desk) { d.ws = append(d.ws, ws...) }
}

// WithSummarizer makes cards use s for the summary.
func WithSummarizer(s Summarizer) Option { return func(d *Desk) { d.sum = s } }

// WithLeaser sets the lease that lets one replica at a time run the queue
// loop (assignment and position updates). By default the desk uses st if it
// implements bot.Leaser, else it assumes it is the only replica.
func WithLeaser(l bot.Leaser) Option { return func(d *Desk) { d.leaser = l } }

// WithOwner names this replica in leases (default: random).
func WithOwner(name string) Option { return func(d *Desk) { d.owner = name } }

// NewDesk returns a desk. cfg is defaulted (call cfg.Validate first to
// report mistakes; invalid business hours fall back to always open). st,
// conv, events and timers are usually one store.Store. run is the
// bot.Engine whose handler chain includes d.Gate. NewDesk does no I/O.
func NewDesk(cfg Config, st Store, conv bot.Store, events bot.EventLog, timers bot.TimerStore, run Runner, log *slog.Logger, opts ...Option) *Desk {
	cfg.SetDefaults()
	if log == nil {
		log = slog.Default()
	}
	d := &Desk{st: st, conv: conv, events: events, timers: timers, run: run,
		log: log.With("component", "handoff"), now: time.Now, sel: LeastLoaded{},
		kick: make(chan struct{}, 1)}
	if l, ok := st.(bot.Leaser); ok {
		d.leaser = l
	}
	for _, o := range opts {
		o(d)
	}
	if d.owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		d.owner = "desk-" + hex.EncodeToString(b[:])
	}
	h, err := cfg.Hours.compile()
	if err != nil {
		d.log.Error("invalid business hours; the desk is always open", "err", err)
		h = &schedule{loc: time.UTC, always: true, holidays: map[string]bool{}}
	}
	d.set.Store(&settings{cfg: cfg, hours: h})
	return d
}

// settings is the configuration in use, swapped whole by SetConfig.
type settings struct {
	cfg   Config
	hours *schedule
}

func (d *Desk) conf() *Config { return &d.set.Load().cfg }

// Config returns the desk's configuration, defaults filled (workspaces read
// EscalationGroup and ManagerChannel from it).
func (d *Desk) Config() Config { return d.set.Load().cfg }

// SetConfig changes the configuration of a running desk (an admin edited
// business hours, SLA times or routing). cfg is defaulted and validated; on
// error nothing changes. Tick keeps its old value until Run restarts;
// timers already scheduled keep their times.
func (d *Desk) SetConfig(cfg Config) error {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	h, err := cfg.Hours.compile()
	if err != nil {
		return err
	}
	d.set.Store(&settings{cfg: cfg, hours: h})
	d.poke()
	return nil
}

// AddWorkspace adds a workspace; safe to call while the desk runs.
func (d *Desk) AddWorkspace(w Workspace) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ws = append(d.ws, w)
}

func (d *Desk) workspaces() []Workspace {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return append([]Workspace(nil), d.ws...)
}

// Open reports whether the team is within business hours at t, and when it
// opens next (t itself when open).
func (d *Desk) Open(t time.Time) (bool, time.Time) {
	next := d.set.Load().hours.Next(t)
	return !next.IsZero() && !next.After(t), next
}

// poke wakes Run's queue loop (assignment, positions) without waiting.
func (d *Desk) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// sideTimeout bounds work the desk does outside a customer's turn.
const sideTimeout = 30 * time.Second

// errPeek ends a turn that only looked at the conversation, so nothing is saved.
var errPeek = errors.New("handoff: peek")

// later runs fn in a goroutine owned by the desk. Code running inside a
// turn (Handoff, Gate) uses it to act on the outside world once its changes
// are saved: fn starts with a turn of the same conversation (d.peek or
// d.run.Do), which the engine queues behind the turn in progress. Run waits
// for these goroutines before it returns.
func (d *Desk) later(id bot.ConversationID, what string, fn func(ctx context.Context) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		d.log.Warn("desk stopped; dropped follow-up work", "conversation", id, "what", what)
		return
	}
	d.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sideTimeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			d.log.Warn("follow-up work failed", "conversation", id, "what", what, "err", err)
		}
	})
}

// peek returns the conversation as saved after every turn queued before it.
func (d *Desk) peek(ctx context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	var snap *bot.Conversation
	err := d.run.Do(ctx, id, func(_ context.Context, t *bot.Turn) error {
		snap = cloneConv(t.Conv)
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		return nil, err
	}
	return snap, nil
}

// cloneConv copies c deeply enough that later turns cannot change it.
func cloneConv(c *bot.Conversation) *bot.Conversation {
	cp := *c
	cp.Data = maps.Clone(c.Data)
	cp.Tried = slices.Clone(c.Tried)
	cp.History = slices.Clone(c.History)
	if c.CSAT != nil {
		cs := *c.CSAT
		cp.CSAT = &cs
	}
	return &cp
}

// record stores an analytics event outside a turn.
func (d *Desk) record(ctx context.Context, e bot.Event) {
	if d.events == nil {
		return
	}
	if e.At.IsZero() {
		e.At = d.now()
	}
	if err := d.events.RecordEvent(ctx, e); err != nil {
		d.log.Warn("record event", "type", e.Type, "err", err)
	}
}
