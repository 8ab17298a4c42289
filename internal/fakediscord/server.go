// Package fakediscord is a local fake of Discord for tests: the REST
// endpoints discordgo calls for what supportbot uses, and a gateway
// websocket (HELLO, IDENTIFY → READY, heartbeats, dispatch, RESUME with
// replay, sharding), all on 127.0.0.1.
//
// Point the real discordgo client at it with Configure (a rewriting
// http.RoundTripper on Session.Client; the gateway URL comes from the fake's
// GET /api/v9/gateway). The Server records everything the bot posts
// (content, components, allowed_mentions, message_reference) and offers
// waiters built on channels, so tests never sleep:
//
//	fd := fakediscord.New(fakediscord.Options{})
//	defer fd.Close()
//	s, _ := discordgo.New("Bot " + fd.Token)
//	fd.Configure(s)
//	... fd.Message(fakediscord.Msg{ChannelID: ch, Content: "help"})
//	p, err := fd.WaitPost(5*time.Second, func(p fakediscord.Post) bool { return p.ChannelID == ch })
package fakediscord

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ErrTimeout is returned by the Wait helpers when the condition did not
// become true in time.
var ErrTimeout = errors.New("fakediscord: timed out waiting")

// Options tune a Server. Zero values take the defaults.
type Options struct {
	Token             string        // bot token without "Bot "; default "test-token"
	AppID             string        // application (and bot user) ID; default "555"
	BotName           string        // default "supportbot"
	HeartbeatInterval time.Duration // sent in HELLO; default 45s
	// NoEcho stops the fake from dispatching the bot's own posts back as
	// MESSAGE_CREATE (real Discord does echo them).
	NoEcho bool
}

// Server is a running fake Discord. All methods are safe for concurrent use.
type Server struct {
	// URL is the HTTP base URL (http://127.0.0.1:PORT).
	URL string
	// Token is the bot token the fake accepts (without the "Bot " prefix).
	Token string
	// AppID is the application ID, also the bot's user ID.
	AppID string

	opts     Options
	http     *httptest.Server
	upgrader websocket.Upgrader

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every state change
	nextID   int64
	channels map[string]*channel // by channel ID
	dms      map[string]string   // recipient user ID → DM channel ID
	sessions map[string]*gwSession
	conns    map[*gwConn]struct{}
	limits   []*limitRule
	overlap  int
	closed   bool

	posts      []Post
	callbacks  []Callback
	typing     []string
	threads    []Thread
	members    []ThreadMember
	commands   []CommandSet
	identifies []Identify
	resumes    int
	heartbeats int
	limited    int
	requests   []string
}

type channel struct {
	ID       string `json:"id"`
	Type     int    `json:"type"`
	GuildID  string `json:"guild_id,omitempty"`
	ParentID string `json:"parent_id,omitempty"`
	Name     string `json:"name,omitempty"`
	OwnerID  string `json:"owner_id,omitempty"`
}

// New starts a fake Discord on a free 127.0.0.1 port.
func New(o Options) *Server {
	if o.Token == "" {
		o.Token = "test-token"
	}
	if o.AppID == "" {
		o.AppID = "555"
	}
	if o.BotName == "" {
		o.BotName = "supportbot"
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 45 * time.Second
	}
	s := &Server{Token: o.Token, AppID: o.AppID, opts: o,
		changed: make(chan struct{}), nextID: 1 << 42,
		channels: map[string]*channel{}, dms: map[string]string{},
		sessions: map[string]*gwSession{}, conns: map[*gwConn]struct{}{}}
	s.http = httptest.NewServer(s.routes())
	s.URL = s.http.URL
	return s
}

// Close drops every gateway connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	s.http.CloseClientConnections()
	s.http.Close()
}

// Transport returns a RoundTripper that sends every request, whatever its
// host (discord.com), to this server, keeping the path.
func (s *Server) Transport() http.RoundTripper {
	u, _ := url.Parse(s.URL)
	return rewrite{target: u}
}

// Client returns an http.Client using Transport, for Session.Client.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 10 * time.Second}
}

type rewrite struct{ target *url.URL }

func (rt rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = rt.target.Scheme, rt.target.Host
	r.Host = rt.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

// ID returns a fresh snowflake-like ID.
func (s *Server) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// AddChannel registers a guild text channel (GET /channels/{id} finds it).
func (s *Server) AddChannel(guildID, channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[channelID] = &channel{ID: channelID, Type: 0, GuildID: guildID, Name: "support"}
}

// AddThread registers an existing public thread under parentID.
func (s *Server) AddThread(guildID, parentID, threadID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[threadID] = &channel{ID: threadID, Type: 11, GuildID: guildID, ParentID: parentID, Name: "thread"}
}

// guildOf returns the guild of a known channel ("" for DMs and unknown).
func (s *Server) guildOfLocked(channelID string) string {
	if c, ok := s.channels[channelID]; ok {
		return c.GuildID
	}
	return ""
}

// notifyLocked wakes every waiter; call it with s.mu held after a change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond returns true or timeout passes; cond is evaluated
// after every change of the fake's state (posts, connections, ...). cond
// must not hold locks of its own across calls; it may call the accessors.
func (s *Server) Wait(timeout time.Duration, cond func() bool) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("%w (%v)", ErrTimeout, timeout)
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg})
}

// authorized checks the bot token on REST calls.
func (s *Server) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bot "+s.Token
}

func trimAPI(p string) string {
	p = strings.TrimPrefix(p, "/api/v9")
	return strings.TrimPrefix(p, "/api/v10")
}
