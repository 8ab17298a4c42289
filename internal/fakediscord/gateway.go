package fakediscord

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway close codes the fake uses.
const (
	CloseAuthFailed   = 4004
	CloseInvalidShard = 4010
)

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d,omitempty"`
	S  int64           `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

type logged struct {
	seq int64
	t   string
	d   json.RawMessage
}

// gwSession is a gateway session: it outlives connections so RESUME can
// replay what a dropped connection missed.
type gwSession struct {
	id    string
	shard [2]int
	seq   int64
	log   []logged
	conn  *gwConn
}

type gwConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	sess *gwSession // nil until IDENTIFY or RESUME
}

func (c *gwConn) send(f frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(f)
}

func (c *gwConn) closeWith(code int, text string) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.ws.Close()
}

// SetResumeOverlap sets how many already-seen events a RESUME replays again
// (Discord delivers at least once; tests use it to prove dedupe).
func (s *Server) SetResumeOverlap(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overlap = n
}

func (s *Server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/gw" }

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer s.detach(c)
	hello, _ := json.Marshal(map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()})
	if c.send(frame{Op: 10, D: hello}) != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				s.endSession(c) // a clean close ends the session: no RESUME
			}
			return
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			c.closeWith(4002, "Error while decoding payload")
			return
		}
		switch f.Op {
		case 1:
			s.mu.Lock()
			s.heartbeats++
			s.notifyLocked()
			s.mu.Unlock()
			_ = c.send(frame{Op: 11})
		case 2:
			if !s.identify(c, f.D) {
				return
			}
		case 6:
			if !s.resume(c, f.D) {
				return
			}
		}
	}
}

func (s *Server) detach(c *gwConn) {
	c.ws.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil
	}
	s.notifyLocked()
}

func (s *Server) endSession(c *gwConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sess != nil {
		delete(s.sessions, c.sess.id)
	}
}

func (s *Server) identify(c *gwConn, d json.RawMessage) bool {
	var id struct {
		Token   string  `json:"token"`
		Intents int     `json:"intents"`
		Shard   *[2]int `json:"shard"`
	}
	if json.Unmarshal(d, &id) != nil || strings.TrimPrefix(id.Token, "Bot ") != s.Token {
		c.closeWith(CloseAuthFailed, "Authentication failed.")
		return false
	}
	shard := [2]int{0, 1}
	if id.Shard != nil {
		shard = *id.Shard
	}
	if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
		c.closeWith(CloseInvalidShard, "Invalid shard.")
		return false
	}
	s.mu.Lock()
	sess := &gwSession{id: "sess-" + s.newIDLocked(), shard: shard, seq: 1, conn: c}
	s.sessions[sess.id] = sess
	c.sess = sess
	s.identifies = append(s.identifies, Identify{SessionID: sess.id, Shard: shard, Intents: id.Intents})
	ready, _ := json.Marshal(map[string]any{"v": 9, "session_id": sess.id, "resume_gateway_url": s.wsURL(),
		"user": s.botUser(), "guilds": []any{}, "private_channels": []any{},
		"application": map[string]any{"id": s.AppID, "flags": 0}, "shard": shard})
	err := c.send(frame{Op: 0, T: "READY", S: 1, D: ready})
	s.notifyLocked()
	s.mu.Unlock()
	return err == nil
}

func (s *Server) resume(c *gwConn, d json.RawMessage) bool {
	var rs struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if json.Unmarshal(d, &rs) != nil || strings.TrimPrefix(rs.Token, "Bot ") != s.Token {
		c.closeWith(CloseAuthFailed, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[rs.SessionID]
	if !ok {
		return c.send(frame{Op: 9, D: json.RawMessage("false")}) == nil
	}
	if old := sess.conn; old != nil && old != c {
		old.ws.Close()
	}
	sess.conn, c.sess = c, sess
	from := rs.Seq - int64(s.overlap)
	for _, e := range sess.log {
		if e.seq > from {
			if c.send(frame{Op: 0, T: e.t, S: e.seq, D: e.d}) != nil {
				return false
			}
		}
	}
	sess.seq++
	s.resumes++
	err := c.send(frame{Op: 0, T: "RESUMED", S: sess.seq, D: json.RawMessage("{}")})
	s.notifyLocked()
	return err == nil
}

// Dispatch sends a gateway event (op 0) of type t to every session whose
// shard owns it: guild events go to shard (guild_id >> 22) % count, others
// to shard 0. Sessions whose connection dropped keep the event for RESUME.
// It returns how many sessions got it.
func (s *Server) Dispatch(t string, d any) int {
	raw, err := json.Marshal(d)
	if err != nil {
		panic("fakediscord: Dispatch: " + err.Error())
	}
	var g struct {
		GuildID string `json:"guild_id"`
	}
	_ = json.Unmarshal(raw, &g)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if ShardOf(g.GuildID, sess.shard[1]) != sess.shard[0] {
			continue
		}
		n++
		sess.seq++
		sess.log = append(sess.log, logged{seq: sess.seq, t: t, d: raw})
		if len(sess.log) > 1000 {
			sess.log = sess.log[1:]
		}
		if sess.conn != nil {
			_ = sess.conn.send(frame{Op: 0, T: t, S: sess.seq, D: raw})
		}
	}
	s.notifyLocked()
	return n
}

// DispatchRaw writes one raw frame to every open, identified connection
// (malformed-event tests).
func (s *Server) DispatchRaw(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.sess != nil {
			c.wmu.Lock()
			_ = c.ws.WriteMessage(websocket.TextMessage, data)
			c.wmu.Unlock()
		}
	}
}

// ShardOf returns the shard of a guild for count shards (0 for DMs).
func ShardOf(guildID string, count int) int {
	if guildID == "" || count <= 1 {
		return 0
	}
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil {
		return 0
	}
	return int((id >> 22) % uint64(count))
}

// Drop closes every gateway connection abruptly (no close frame), as a
// network failure would. The sessions stay resumable. It returns how many
// connections it dropped.
func (s *Server) Drop() int {
	s.mu.Lock()
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.UnderlyingConn().Close()
	}
	return len(conns)
}

// WaitConnected waits until at least n connections are identified or resumed.
func (s *Server) WaitConnected(timeout time.Duration, n int) error {
	return s.Wait(timeout, func() bool { return s.Connected() >= n })
}
