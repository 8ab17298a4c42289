package discord

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/supportbot/supportbot/bot"
)

// Sentinel errors. Listen and Send wrap them with %w.
var (
	// ErrNoToken: New was given an empty token.
	ErrNoToken = errors.New("discord: no bot token (set DISCORD_TOKEN)")
	// ErrUnauthorized: Discord rejected the token (REST 401 or gateway close 4004).
	ErrUnauthorized = errors.New("discord: token rejected")
	// ErrGateway: the gateway closed with a code that retrying cannot fix
	// (invalid shard, sharding required, invalid or disallowed intents).
	ErrGateway = errors.New("discord: gateway refused the session")
	// ErrRateLimited: a REST call was still rate limited after retrying.
	ErrRateLimited = errors.New("discord: rate limited")
	// ErrListening: Listen was called while already listening.
	ErrListening = errors.New("discord: already listening")
	// ErrAddress: Send was given an address without a room.
	ErrAddress = errors.New("discord: address has no room")
)

// Leaser is what the adapter needs of bot.Leaser: a lease per shard, so
// exactly one replica holds the gateway session of a shard.
type Leaser interface {
	// Lease acquires or renews name for owner for ttl and reports whether
	// owner holds it after the call.
	Lease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Unlease gives name up if owner holds it.
	Unlease(ctx context.Context, name, owner string) error
}

// restAPI is the part of *discordgo.Session the adapter calls over REST.
// Every call gets discordgo.WithContext(ctx).
type restAPI interface {
	User(userID string, options ...discordgo.RequestOption) (*discordgo.User, error)
	Channel(channelID string, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	ChannelMessageSendComplex(channelID string, data *discordgo.MessageSend, options ...discordgo.RequestOption) (*discordgo.Message, error)
	MessageThreadStartComplex(channelID, messageID string, data *discordgo.ThreadStart, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	ThreadStartComplex(channelID string, data *discordgo.ThreadStart, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	ThreadMemberAdd(threadID, memberID string, options ...discordgo.RequestOption) error
	ChannelTyping(channelID string, options ...discordgo.RequestOption) error
	UserChannelCreate(recipientID string, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	InteractionRespond(interaction *discordgo.Interaction, resp *discordgo.InteractionResponse, options ...discordgo.RequestOption) error
	ApplicationCommandBulkOverwrite(appID, guildID string, commands []*discordgo.ApplicationCommand, options ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error)
}

// gateway is one gateway session. The adapter makes a fresh one for every
// lease term (so a new term IDENTIFYs) and reopens it itself after a drop
// (Open then RESUMEs). Handlers are called synchronously on the reader.
type gateway interface {
	AddHandler(handler any) func()
	Open() error
	Close() error
}

// Channel is the Discord adapter: a bot.Channel (Name "discord") and a
// bot.Typer. Customers write in the threads of support channels, in DMs and
// with /support; see the package doc.
type Channel struct {
	cfg   Config
	rest  restAPI
	dial  func(d *websocket.Dialer) gateway
	lease Leaser
	log   *slog.Logger

	support map[string]bool
	guilds  map[string]bool
	kinds   kindCache

	self       atomic.Value // string: the bot's user ID
	appID      atomic.Value // string
	listening  atomic.Bool
	registered bool // commands registered; only the Listen goroutine touches it

	ready     chan struct{}
	readyOnce sync.Once
}

var (
	_ bot.Channel = (*Channel)(nil)
	_ bot.Typer   = (*Channel)(nil)
	_ bot.Readier = (*Channel)(nil)
)

// Ready implements bot.Readier: it is closed once this replica has a
// gateway session (Discord said READY), or stands by because another
// replica holds its shard's lease, which is as healthy: the shard is served.
func (c *Channel) Ready() <-chan struct{} { return c.ready }

func (c *Channel) setReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// Option configures a Channel.
type Option func(*options)

type options struct {
	client *http.Client
	lease  Leaser
}

// WithHTTPClient sets the HTTP client of every discordgo session (tests
// pass a client that rewrites discord.com to a local fake).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLeaser makes the adapter hold a lease per shard in l (a bot.Leaser,
// e.g. the store) before it opens the gateway, so that across replicas
// exactly one gateway session runs per shard. Without it the adapter
// connects at once.
func WithLeaser(l Leaser) Option { return func(o *options) { o.lease = l } }

// New returns the adapter for the bot token (DISCORD_TOKEN, without "Bot ").
// cfg gets SetDefaults. New does no I/O: Listen connects.
func New(cfg Config, token string, log *slog.Logger, opts ...Option) (*Channel, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 20 * time.Second}
	}
	cfg.SetDefaults()
	session := func() *discordgo.Session {
		s, _ := discordgo.New("Bot " + token) // never fails
		s.Client = o.client
		s.ShouldRetryOnRateLimit = false // we wait on retry-after ourselves, ctx-aware
		s.ShouldReconnectOnError = false // we reconnect ourselves, so no goroutine outlives Listen
		s.SyncEvents = true              // handlers run on the reader; they only enqueue
		s.StateEnabled = false
		s.Identify.Intents = Intents
		s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
		return s
	}
	dial := func(d *websocket.Dialer) gateway {
		s := session()
		s.Dialer = d
		return s
	}
	return newChannel(cfg, session(), dial, o.lease, log), nil
}

// newChannel is New with the discordgo session(s) injected.
func newChannel(cfg Config, rest restAPI, dial func(*websocket.Dialer) gateway, lease Leaser, log *slog.Logger) *Channel {
	cfg.SetDefaults()
	if log == nil {
		log = slog.Default()
	}
	c := &Channel{cfg: cfg, rest: rest, dial: dial, lease: lease, log: log.With("channel", "discord"),
		support: set(cfg.SupportChannels), guilds: set(cfg.Guilds), ready: make(chan struct{})}
	c.self.Store("")
	c.appID.Store(cfg.AppID)
	c.kinds.m = map[string]kind{}
	return c
}

func set(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return "discord" }

// connTracker hands out a websocket.Dialer whose connections can all be
// closed at once, so a blocked Open (dial, HELLO, READY) ends when ctx
// does. New connections get a read deadline until Open succeeds, so a
// gateway that accepts but never says HELLO or READY cannot hang Open.
type connTracker struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
	shut  bool
}

// openTimeout bounds the gateway handshake (HELLO, IDENTIFY, READY).
const openTimeout = 30 * time.Second

type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}

func (t *connTracker) dialer() *websocket.Dialer {
	d := *websocket.DefaultDialer
	d.HandshakeTimeout = 15 * time.Second
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(openTimeout))
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.shut {
			conn.Close()
			return nil, net.ErrClosed
		}
		if t.conns == nil {
			t.conns = map[*trackedConn]struct{}{}
		}
		tc := &trackedConn{Conn: conn, t: t}
		t.conns[tc] = struct{}{}
		return tc, nil
	}
	return &d
}

// clearDeadlines lifts the handshake deadline once Open has succeeded.
func (t *connTracker) clearDeadlines() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		_ = c.SetReadDeadline(time.Time{})
	}
}

// closeAll closes every open connection and refuses new ones.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := t.conns
	t.conns, t.shut = nil, true
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}
