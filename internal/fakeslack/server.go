package fakeslack

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Identities the fake answers with unless changed before Start.
const (
	DefaultBotToken = "xoxb-fake"
	DefaultAppToken = "xapp-fake"
	DefaultTeam     = "T0FAKE"
	DefaultBotUser  = "U0BOT"
	DefaultBotID    = "B0BOT"
	DefaultAppID    = "A0APP"
)

// Server is a fake Slack. Create it with New; it listens on 127.0.0.1.
type Server struct {
	BotToken  string // accepted bot token (xoxb-)
	AppToken  string // accepted app-level token (xapp-) for apps.connections.open
	Team      string // team ID
	BotUserID string // the bot's user ID (auth.test user_id)
	BotID     string // the bot's bot ID (auth.test bot_id)

	srv      *httptest.Server
	ping     time.Duration
	upgrader websocket.Upgrader
	wg       sync.WaitGroup // websocket goroutines

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every recorded change
	seq       int64         // ts and ID counter
	posts     []Post
	messages  map[string]Post // channel+"/"+ts → latest version
	acks      []Ack
	conns     []*conn
	connects  int
	users     map[string]User
	limits    map[string][]int // method → pending Retry-After seconds
	calls     map[string]int
	responses map[string]responseTarget
	closed    bool
}

type responseTarget struct{ channel, user string }

// User is a workspace member known to users.info.
type User struct {
	ID       string
	Name     string // handle
	RealName string
	IsBot    bool
}

// Option configures a Server.
type Option func(*Server)

// WithPingInterval sets how often the fake PINGs each websocket; 0 disables
// pings (then give the socketmode client a long OptionPingInterval).
func WithPingInterval(d time.Duration) Option { return func(s *Server) { s.ping = d } }

// New starts a fake Slack on 127.0.0.1. Call Close when done.
func New(opts ...Option) *Server {
	s := &Server{
		BotToken: DefaultBotToken, AppToken: DefaultAppToken, Team: DefaultTeam,
		BotUserID: DefaultBotUser, BotID: DefaultBotID,
		ping:     100 * time.Millisecond,
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		changed:  make(chan struct{}), messages: map[string]Post{}, users: map[string]User{},
		limits: map[string][]int{}, calls: map[string]int{}, responses: map[string]responseTarget{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.api)
	mux.HandleFunc("GET /api/{method}", s.api)
	mux.HandleFunc("POST /response/{id}", s.response)
	mux.HandleFunc("GET /link/", s.socket)
	s.srv = httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakeslack: listen: %v", err))
	}
	s.srv.Listener = l
	s.srv.Start()
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the value for slackgo.OptionAPIURL (it ends with "/").
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Close disconnects every websocket and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.srv.Close()
	s.wg.Wait()
}

// AddUser makes users.info know u. Unknown IDs get a generated profile.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// RateLimit makes the next n calls of method (e.g. "chat.postMessage")
// answer HTTP 429 with Retry-After: retryAfter (whole seconds).
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.limits[method] = append(s.limits[method], int(retryAfter/time.Second))
	}
}

// Calls reports how many times method was called, rate-limited calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// NewTS mints a unique message timestamp.
func (s *Server) NewTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextTS()
}

func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", 1700000000+s.seq/1000000, s.seq%1000000)
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%06d", prefix, s.seq)
}

// notify wakes every waiter; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code string) {
	writeJSON(w, map[string]any{"ok": false, "error": code})
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token := r.Form.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	s.mu.Lock()
	s.calls[method]++
	if q := s.limits[method]; len(q) > 0 {
		s.limits[method] = q[1:]
		s.notify()
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(q[0]))
		http.Error(w, `{"ok":false,"error":"ratelimited"}`, http.StatusTooManyRequests)
		return
	}
	s.mu.Unlock()
	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
	}
	if token != want {
		fail(w, "invalid_auth")
		return
	}
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "url": "https://fake.slack.test/", "team": "Fake",
			"user": "supportbot", "team_id": s.Team, "user_id": s.BotUserID, "bot_id": s.BotID})
	case "apps.connections.open":
		s.mu.Lock()
		ticket := s.nextID("t")
		s.mu.Unlock()
		u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + ticket
		writeJSON(w, map[string]any{"ok": true, "url": u})
	case "users.info":
		s.usersInfo(w, r.Form.Get("user"))
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		s.chat(w, method, r.Form)
	default:
		fail(w, "unknown_method")
	}
}

func (s *Server) usersInfo(w http.ResponseWriter, id string) {
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if !ok {
		u = User{ID: id, Name: strings.ToLower(id), RealName: "User " + id}
	}
	writeJSON(w, map[string]any{"ok": true, "user": map[string]any{
		"id": u.ID, "team_id": s.Team, "name": u.Name, "real_name": u.RealName, "is_bot": u.IsBot,
		"profile": map[string]any{"real_name": u.RealName, "display_name": u.Name},
	}})
}

func (s *Server) chat(w http.ResponseWriter, method string, f url.Values) {
	p := Post{Method: method, Channel: f.Get("channel"), ThreadTS: f.Get("thread_ts"),
		User: f.Get("user"), Text: f.Get("text"), Broadcast: f.Get("reply_broadcast") == "true", Form: f}
	if b := f.Get("blocks"); b != "" {
		p.Blocks = json.RawMessage(b)
	}
	if p.Channel == "" {
		fail(w, "channel_not_found")
		return
	}
	if strings.HasPrefix(p.Channel, "U") { // posting to a user opens the app's DM with them
		p.Channel = "D" + p.Channel[1:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "chat.update":
		p.TS = f.Get("ts")
		if _, ok := s.messages[p.Channel+"/"+p.TS]; !ok {
			fail(w, "message_not_found")
			return
		}
	default:
		p.TS = s.nextTS()
	}
	if method != "chat.postEphemeral" {
		if method == "chat.update" {
			p.ThreadTS = s.messages[p.Channel+"/"+p.TS].ThreadTS
		}
		s.messages[p.Channel+"/"+p.TS] = p
	}
	s.posts = append(s.posts, p)
	s.notify()
	if method == "chat.postEphemeral" {
		writeJSON(w, map[string]any{"ok": true, "message_ts": p.TS})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS, "text": p.Text,
		"message": map[string]any{"type": "message", "text": p.Text, "ts": p.TS, "thread_ts": p.ThreadTS,
			"user": s.BotUserID, "bot_id": s.BotID}})
}

// response records a POST to a response_url handed out with a slash
// command or an interaction.
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text            string          `json:"text"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.responses[r.PathValue("id")]
	if !ok {
		http.Error(w, "no such response_url", http.StatusNotFound)
		return
	}
	s.posts = append(s.posts, Post{Method: MethodResponse, Channel: t.channel, User: t.user, Text: m.Text,
		Blocks: m.Blocks, ResponseType: m.ResponseType, TS: s.nextTS()})
	s.notify()
	_, _ = w.Write([]byte("ok"))
}

// responseURL mints a response_url that records to channel and user.
func (s *Server) responseURL(channel, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("r")
	s.responses[id] = responseTarget{channel, user}
	return s.srv.URL + "/response/" + id
}
