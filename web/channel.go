package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/supportbot/supportbot/bot"
)

// kindNote is handoff.KindNote: an agent's internal note, never shown to the customer.
const kindNote bot.ReplyKind = "note"

// ChannelName is the name of the web chat channel (Address.Channel).
const ChannelName = "web"

// Limits of the customer socket.
const (
	maxFrame     = 16 << 10 // bytes of one client frame
	sendBuffer   = 256      // frames queued per socket before it is dropped as too slow
	pingEvery    = 25 * time.Second
	pongWait     = 60 * time.Second
	writeWait    = 10 * time.Second
	maxClientID  = 64 // bytes of a client message ID
	recentWindow = 20 // transcript messages looked at to tell whether a reply was stored
)

// Channel is the customer chat widget as a bot.Channel. Every visitor is a
// room: Address{Channel: "web", Room: <visitor session ID>}. Customers talk
// to it over a WebSocket (ServeHTTP). Replies are not pushed as they are
// but read back from the transcript, each with its 1-based position in the
// transcript (seq), so a widget that reconnects asks for what came after
// the last seq it saw and never loses or duplicates a message. A reply the
// engine did not store (a Send outside a turn) is pushed as it is, with no seq.
//
// Channel is safe for concurrent use.
type Channel struct {
	log    *slog.Logger
	ts     bot.TranscriptStore // nil: push replies as they are (tests)
	origin func(string) bool   // allowed Origin headers of the socket; nil allows any
	peers  peers               // the other replicas' channels (no Bus: none)
	relay  chan struct{}       // closed once the bus subscription is active

	mu      sync.Mutex
	rooms   map[string]*room
	deliver func(context.Context, bot.Inbound)
	lctx    context.Context
	ready   chan struct{} // closed while Listen runs

	up websocket.Upgrader
}

// ChannelOptions configures NewChannel.
type ChannelOptions struct {
	// Transcripts is where the engine keeps messages (the store). Without it
	// the channel pushes replies as Send receives them and cannot replay.
	Transcripts bot.TranscriptStore
	// AllowOrigin, if set, decides which other sites' pages may open the
	// widget socket (the sites that embed the widget; see AllowOrigins);
	// this server's own pages always may. Nil allows any origin: the widget
	// is public, and a visitor's session ID is its only credential.
	AllowOrigin func(origin string) bool
	// Bus, if set, carries sends between replicas, so a reply sent by one
	// (the agent's, or the bot's from the replica that owns the
	// conversation) reaches a widget connected to another. Nil: one process.
	Bus Bus
	Log *slog.Logger
}

// busTopic is the web channel's topic on the Bus.
const busTopic = "web:chat"

// relayed is a Send or Typing on another replica, for the widgets here.
type relayed struct {
	Room   string     `json:"room"`
	Typing bool       `json:"typing,omitempty"`
	Reply  *bot.Reply `json:"reply,omitempty"`
}

// ErrBadOrigin is wrapped by ParseOrigins for an entry that is not an origin.
var ErrBadOrigin = errors.New("not an origin")

// ParseOrigins checks an allow-list of web origins ("https://shop.example",
// "http://localhost:3000") and returns its AllowOrigin: an exact,
// case-insensitive match. An empty list returns nil (any origin).
func ParseOrigins(list []string) (func(origin string) bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	ok := map[string]bool{}
	for _, o := range list {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%w: %q (want scheme://host[:port], e.g. \"https://shop.example.com\")", ErrBadOrigin, o)
		}
		ok[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return func(origin string) bool { return ok[strings.ToLower(origin)] }, nil
}

// NewChannel returns the web chat channel.
func NewChannel(o ChannelOptions) *Channel {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	c := &Channel{log: o.Log.With("channel", ChannelName), ts: o.Transcripts, origin: o.AllowOrigin,
		peers: newPeers(o.Bus, busTopic), relay: make(chan struct{}), rooms: map[string]*room{}, ready: make(chan struct{})}
	c.up = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096,
		CheckOrigin: func(r *http.Request) bool {
			return c.origin == nil || sameOrigin(r) || c.origin(r.Header.Get("Origin"))
		}}
	return c
}

var (
	_ bot.Channel = (*Channel)(nil)
	_ bot.Typer   = (*Channel)(nil)
)

// Name implements bot.Channel.
func (c *Channel) Name() string { return ChannelName }

// Listen implements bot.Channel: sockets deliver customer messages while
// it runs, and sends relayed from other replicas reach the sockets here.
func (c *Channel) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		if err := c.peers.listen(ctx, c.relay, c.relayed); err != nil {
			c.log.Error("relay from other replicas stopped", "err", err)
		}
	})
	c.mu.Lock()
	c.deliver, c.lctx = deliver, ctx
	close(c.ready)
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	c.deliver, c.lctx = nil, nil
	c.ready = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// deliverer waits (up to ctx) for Listen and returns its deliver func and context.
func (c *Channel) deliverer(ctx context.Context) (func(context.Context, bot.Inbound), context.Context, error) {
	for {
		c.mu.Lock()
		d, lctx, ready := c.deliver, c.lctx, c.ready
		c.mu.Unlock()
		if d != nil {
			return d, lctx, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// room is one visitor's sockets (several tabs may be open).
type room struct {
	id    string
	mu    sync.Mutex // serialises pushes to the room, so seqs go out in order
	conns map[*conn]struct{}
}

// conn is one customer socket.
type conn struct {
	ws   *websocket.Conn
	out  chan []byte
	sent int // highest transcript seq pushed; guarded by room.mu
	once sync.Once
	done chan struct{}
}

func (k *conn) push(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	select {
	case k.out <- b:
	case <-k.done:
	default: // too slow: drop the socket; the widget reconnects and replays
		k.close()
	}
}

func (k *conn) close() { k.once.Do(func() { close(k.done) }) }

// wireMsg is a message as the widget sees it.
type wireMsg struct {
	Type    string            `json:"type"` // "msg"
	Seq     int               `json:"seq,omitempty"`
	ID      string            `json:"id,omitempty"` // the client's ID of a customer message
	Role    bot.Role          `json:"role"`
	Kind    bot.ReplyKind     `json:"kind,omitempty"`
	Author  string            `json:"author,omitempty"`
	Text    string            `json:"text"`
	Choices []bot.Choice      `json:"choices,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
	At      time.Time         `json:"at,omitzero"`
}

// metaForCustomer are the Reply.Meta keys the widget may see (never "explain").
var metaForCustomer = []string{"position", "eta", "agent", "agent_name", "event", "after_hours"}

func customerMeta(m map[string]string) map[string]string {
	var out map[string]string
	for _, k := range metaForCustomer {
		if v, ok := m[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	// The agent ID is internal; only its display name goes out.
	delete(out, "agent")
	return out
}

// visible reports whether the customer may see m.
func visible(m bot.Message) bool {
	switch m.Role {
	case bot.RoleCustomer, bot.RoleBot, bot.RoleAgent:
		return m.Kind != kindNote
	}
	return false
}

func toWire(m bot.Message, seq int) wireMsg {
	w := wireMsg{Type: "msg", Seq: seq, Role: m.Role, Kind: m.Kind, Author: m.Author, Text: m.Text,
		Choices: m.Choices, Meta: customerMeta(m.Meta), At: m.At}
	if m.Role == bot.RoleCustomer {
		w.ID = m.ID
		w.Choices = nil
	}
	if m.Role != bot.RoleAgent {
		w.Author = ""
	}
	return w
}

func (c *Channel) room(id string, create bool) *room {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.rooms[id]
	if !ok && create {
		r = &room{id: id, conns: map[*conn]struct{}{}}
		c.rooms[id] = r
	}
	return r
}

func (c *Channel) leave(r *room, k *conn) {
	r.mu.Lock()
	delete(r.conns, k)
	empty := len(r.conns) == 0
	r.mu.Unlock()
	if empty {
		c.mu.Lock()
		if len(r.conns) == 0 && c.rooms[r.id] == r {
			delete(c.rooms, r.id)
		}
		c.mu.Unlock()
	}
}

func addr(sid string) bot.Address { return bot.Address{Channel: ChannelName, Room: sid} }

// Send implements bot.Channel: the visitor's open widgets get every new
// message of the transcript, r included; r is pushed as it is if the
// engine did not store it. A visitor with no open widget reads it on return.
func (c *Channel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	if to.Channel != ChannelName || to.Room == "" {
		return errors.New("web: not a web chat address")
	}
	rr := r
	rr.Original = "" // the agent's untranslated words stay in the transcript
	c.publish(ctx, relayed{Room: to.Room, Reply: &rr})
	rm := c.room(to.Room, false)
	if rm == nil {
		return nil // nobody connected here: the transcript keeps it for the next visit
	}
	return c.sync(ctx, rm, &r)
}

// publish tells the other replicas' channels about a send. A
// lost notice costs only liveness: the widget catches up from the
// transcript on its next message or reconnect.
func (c *Channel) publish(ctx context.Context, e relayed) {
	b, err := json.Marshal(e)
	if err == nil {
		err = c.peers.publish(ctx, b)
	}
	if err != nil {
		c.log.Warn("relay to other replicas", "room", e.Room, "err", err)
	}
}

// relayed handles a send published by another replica: the widgets of the
// room connected here catch up from the transcript.
func (c *Channel) relayed(payload []byte) {
	var e relayed
	if err := json.Unmarshal(payload, &e); err != nil {
		c.log.Warn("malformed relay notice dropped", "err", err)
		return
	}
	rm := c.room(e.Room, false)
	if rm == nil {
		return
	}
	if e.Typing {
		c.typing(rm)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeWait)
	defer cancel()
	if err := c.sync(ctx, rm, e.Reply); err != nil {
		c.log.Warn("relayed reply", "room", e.Room, "err", err)
	}
}

// Typing implements bot.Typer.
func (c *Channel) Typing(ctx context.Context, to bot.Address) error {
	c.publish(ctx, relayed{Room: to.Room, Typing: true})
	if rm := c.room(to.Room, false); rm != nil {
		c.typing(rm)
	}
	return nil
}

func (c *Channel) typing(rm *room) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for k := range rm.conns {
		k.push(map[string]string{"type": "typing"})
	}
}

// sync pushes to each socket of rm the visible transcript messages after
// the last seq it has, then r if r is not among the stored messages.
func (c *Channel) sync(ctx context.Context, rm *room, r *bot.Reply) error {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if len(rm.conns) == 0 {
		return nil
	}
	var msgs []bot.Message
	if c.ts != nil {
		var err error
		if msgs, err = c.ts.Transcript(ctx, addr(rm.id).ConversationID(), 0); err != nil {
			return err
		}
	}
	for k := range rm.conns {
		if k.sent > len(msgs) { // the store forgot (retention): start over
			k.push(map[string]string{"type": "reset"})
			k.sent = 0
		}
		for i := k.sent; i < len(msgs); i++ {
			if visible(msgs[i]) {
				k.push(toWire(msgs[i], i+1))
			}
		}
		k.sent = len(msgs)
	}
	if r != nil && !stored(msgs, *r) {
		w := wireMsg{Type: "msg", Role: bot.RoleBot, Kind: r.Kind, Text: r.Text, Choices: r.Choices,
			Meta: customerMeta(r.Meta), At: time.Now()}
		if r.Kind == bot.KindAgent {
			w.Role, w.Author = bot.RoleAgent, r.Author
		}
		for k := range rm.conns {
			k.push(w)
		}
	}
	return nil
}

// stored reports whether r is among the last messages of msgs.
func stored(msgs []bot.Message, r bot.Reply) bool {
	for i := len(msgs) - 1; i >= 0 && i >= len(msgs)-recentWindow; i-- {
		m := msgs[i]
		if m.Role != bot.RoleCustomer && m.Text == r.Text && m.Kind == r.Kind {
			return true
		}
	}
	return false
}

// clientFrame is what the widget sends.
type clientFrame struct {
	Type  string `json:"type"`  // "hello" (first), "msg"
	SID   string `json:"sid"`   // hello: the visitor's session ID, "" for a new visitor
	After int    `json:"after"` // hello: last seq seen
	Name  string `json:"name"`  // hello: visitor name given by the embedding page
	ID    string `json:"id"`    // msg: client message ID (dedupes resends)
	Text  string `json:"text"`  // msg
	Human bool   `json:"human"` // msg: the "talk to a person" button
}

// newID returns 128 random bits, base64url.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validSID accepts the IDs newID makes.
func validSID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func validClientID(s string) bool {
	if s == "" || len(s) > maxClientID {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' })
}

// ServeHTTP is the widget's socket (GET /chat/ws).
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := c.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader wrote the error
	}
	ws.SetReadLimit(maxFrame)
	k := &conn{ws: ws, out: make(chan []byte, sendBuffer), done: make(chan struct{})}
	go k.writeLoop()
	defer func() {
		k.close()
		ws.Close()
	}()
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })

	var hello clientFrame
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		return
	}
	sid, after := hello.SID, max(hello.After, 0)
	if !validSID(sid) {
		sid, after = newID(), 0
	}
	name := cleanName(hello.Name)
	if name == "" {
		name = "Visitor " + sid[:6]
	}
	k.push(map[string]any{"type": "hello", "sid": sid})
	rm := c.room(sid, true)
	rm.mu.Lock()
	k.sent = after
	rm.conns[k] = struct{}{}
	rm.mu.Unlock()
	defer c.leave(rm, k)
	ctx := r.Context()
	if err := c.sync(ctx, rm, nil); err != nil {
		c.log.Warn("replay transcript", "err", err)
	}

	lim := rate.NewLimiter(rate.Every(time.Second/2), 10) // 2 messages a second, bursts of 10
	for {
		var f clientFrame
		if err := ws.ReadJSON(&f); err != nil {
			return
		}
		_ = ws.SetReadDeadline(time.Now().Add(pongWait))
		if f.Type != "msg" || !validClientID(f.ID) {
			continue
		}
		if !lim.Allow() {
			k.push(map[string]string{"type": "error", "id": f.ID, "error": "slow down"})
			continue
		}
		text, _ := bot.Clean(f.Text, 4000)
		if text == "" {
			continue
		}
		deliver, lctx, err := c.deliverer(ctx)
		if err != nil {
			return
		}
		in := bot.Inbound{Key: ChannelName + ":" + sid + "/" + f.ID,
			Msg: bot.Message{ID: f.ID, From: addr(sid), Role: bot.RoleCustomer, Text: text, At: time.Now(),
				Customer: bot.Customer{ID: ChannelName + ":" + sid, Name: name}}}
		if f.Human {
			in.Msg.Meta = map[string]string{"request": "human"}
		}
		in.Ack = func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(lctx), writeWait)
			defer cancel()
			if rm := c.room(sid, false); rm != nil {
				if err := c.sync(sctx, rm, nil); err != nil {
					c.log.Warn("sync after message", "err", err)
				}
			}
		}
		deliver(lctx, in)
	}
}

func (k *conn) writeLoop() {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	defer k.ws.Close()
	for {
		select {
		case b := <-k.out:
			_ = k.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := k.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				k.close()
				return
			}
		case <-t.C:
			_ = k.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := k.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				k.close()
				return
			}
		case <-k.done:
			_ = k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
				time.Now().Add(time.Second))
			return
		}
	}
}

// cleanName keeps a visitor name short and printable.
func cleanName(s string) string {
	s, _ = bot.Clean(s, 80)
	return strings.Join(strings.Fields(s), " ")
}
