package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// Name is the channel and workspace name, used in bot.Address.Channel.
const Name = "slack"

// Keys of the references Announce returns (kept in Card.Refs).
const (
	RefChannel = "slack.channel"
	RefTS      = "slack.ts"
)

// Channel is the Slack adapter: a bot.Channel for customers and a
// handoff.Workspace for agents. Create it with New; it is safe for
// concurrent use.
type Channel struct {
	cfg      Config
	tok      Tokens
	log      *slog.Logger
	client   *slackgo.Client // socketmode needs the concrete client
	api      slackAPI
	httpc    *http.Client
	ping     time.Duration
	dedupe   bot.Deduper
	now      func() time.Time
	customer map[string]bool

	desk    atomic.Pointer[deskBox]
	self    atomic.Pointer[identity]
	pace    *pacer
	threads *threadIndex
	names   *nameCache
	seen    *recent // event IDs handled by this process
	echo    *recent // agent text sent from Slack, not to be relayed back

	mu        sync.Mutex
	run       *runner // the active Listen, nil when not listening
	ready     chan struct{}
	readyOnce sync.Once
}

type deskBox struct{ Desk }

// identity is who the bot is, from auth.test.
type identity struct{ UserID, BotID, TeamID string }

var (
	_ bot.Channel       = (*Channel)(nil)
	_ handoff.Workspace = (*Channel)(nil)
)

type options struct {
	apiURL string
	httpc  *http.Client
	ping   time.Duration
	docs   bot.DocStore
	dedupe bot.Deduper
	now    func() time.Time
}

// Option configures a Channel.
type Option func(*options)

// WithAPIURL points the Web API at url (it must end with "/"); tests use a
// local fake Slack.
func WithAPIURL(url string) Option { return func(o *options) { o.apiURL = url } }

// WithHTTPClient sets the HTTP client for the Web API and response URLs.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpc = c } }

// WithPingInterval sets how long Socket Mode waits for a PING from Slack
// before it reconnects (default 30s).
func WithPingInterval(d time.Duration) Option { return func(o *options) { o.ping = d } }

// WithThreadStore keeps the card-thread → conversation mapping in d too, so
// agent replies in old card threads still find their conversation after a
// restart or on another replica. Each record expires ThreadKeep after its
// card was posted.
func WithThreadStore(d bot.DocStore) Option { return func(o *options) { o.docs = d } }

// ThreadKeep is how long a card thread's record is kept in the thread
// store: twice the stores' default conversation retention (30 days after
// the last message), so it outlives the conversation it points to.
const ThreadKeep = 60 * 24 * time.Hour

// WithDeduper dedupes agent events (thread replies, clicks) across replicas
// with d; customer messages are deduped by the engine.
func WithDeduper(d bot.Deduper) Option { return func(o *options) { o.dedupe = d } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New checks cfg and tokens and builds the adapter; it does no I/O. desk
// may be nil and set later with SetDesk (the desk usually needs the
// workspace first). log may be nil.
func New(cfg Config, tok Tokens, desk Desk, log *slog.Logger, opts ...Option) (*Channel, error) {
	cfg.SetDefaults()
	check := cfg
	check.Enabled = true
	if err := errors.Join(check.Validate(), tok.check(cfg.Mode)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	o := options{httpc: &http.Client{Timeout: 15 * time.Second}, ping: 30 * time.Second, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "slack")
	copts := []slackgo.Option{slackgo.OptionHTTPClient(o.httpc), slackgo.OptionAppLevelToken(tok.App),
		slackgo.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelDebug))}
	if o.apiURL != "" {
		copts = append(copts, slackgo.OptionAPIURL(o.apiURL))
	}
	client := slackgo.New(tok.Bot, copts...)
	c := &Channel{cfg: cfg, tok: tok, log: log, client: client, api: client, httpc: o.httpc,
		ping: o.ping, dedupe: o.dedupe, now: o.now, customer: map[string]bool{},
		pace:    newPacer(cfg.PostsPerSecond),
		threads: newThreadIndex(o.docs, o.now),
		names:   newNameCache(),
		seen:    newRecent(10 * time.Minute),
		echo:    newRecent(2 * time.Minute),
		ready:   make(chan struct{}),
	}
	for _, ch := range cfg.CustomerChannels {
		c.customer[ch] = true
	}
	c.SetDesk(desk)
	return c, nil
}

// SetDesk sets the desk that agent actions go to.
func (c *Channel) SetDesk(d Desk) {
	if d == nil {
		c.desk.Store(nil)
		return
	}
	c.desk.Store(&deskBox{d})
}

// ErrNoDesk is returned for agent actions when no desk is set.
var ErrNoDesk = errors.New("slack: no handoff desk configured")

func (c *Channel) getDesk() (Desk, error) {
	if b := c.desk.Load(); b != nil {
		return b.Desk, nil
	}
	return nil, ErrNoDesk
}

// Name returns "slack".
func (c *Channel) Name() string { return Name }

// Listen checks the bot token (auth.test), then receives events until ctx
// is canceled (it returns nil) or Slack refuses the tokens (it returns an
// error). In Socket Mode it holds the websocket (reconnecting as Slack
// asks); in HTTP mode the events arrive through Handler while Listen runs.
// Every goroutine it starts has ended when it returns.
func (c *Channel) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	if err := c.auth(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	r := newRunner(ctx, deliver, c.log)
	c.mu.Lock()
	if c.run != nil {
		c.mu.Unlock()
		return errors.New("slack: Listen is already running")
	}
	c.run = r
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.run = nil
		c.mu.Unlock()
		r.stop()
	}()
	if c.cfg.Mode == ModeHTTP {
		c.log.Info("listening for Slack events over HTTP")
		c.setReady()
		<-ctx.Done()
		return nil
	}
	return c.socket(ctx, r)
}

func (c *Channel) auth(ctx context.Context) error {
	var res *slackgo.AuthTestResponse
	err := c.retry(ctx, func() error {
		var err error
		res, err = c.api.AuthTestContext(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("slack: auth test: %w", err)
	}
	c.self.Store(&identity{UserID: res.UserID, BotID: res.BotID, TeamID: res.TeamID})
	c.log.Info("authenticated", "team", res.TeamID, "bot_user", res.UserID)
	return nil
}

func (c *Channel) identity() identity {
	if p := c.self.Load(); p != nil {
		return *p
	}
	return identity{}
}

// Ready is closed once Listen first takes events: connected in Socket
// Mode, authenticated in HTTP mode (a readiness probe can use it).
func (c *Channel) Ready() <-chan struct{} { return c.ready }

func (c *Channel) setReady() { c.readyOnce.Do(func() { close(c.ready) }) }

func (c *Channel) running() *runner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.run
}
