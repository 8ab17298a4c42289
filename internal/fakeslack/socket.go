package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ErrNoConnection is returned by the Push methods when ctx ends before a
// Socket Mode client is connected.
var ErrNoConnection = errors.New("fakeslack: no socket mode connection")

// conn is one Socket Mode websocket. Writes are serialized by mu because
// gorilla connections allow one concurrent writer.
type conn struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	done chan struct{}
	once sync.Once
}

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.mu.Lock()
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(time.Second))
		c.mu.Unlock()
		_ = c.ws.Close()
	})
}

// socket serves the Socket Mode websocket: hello, PINGs, and ack capture.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns = append(s.conns, c)
	s.connects++
	s.wg.Add(2)
	s.mu.Unlock()
	_ = c.write(map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "fakeslack", "approximate_connection_time": 3600},
		"connection_info": map[string]any{"app_id": DefaultAppID}})
	s.mu.Lock()
	s.notify() // WaitConnections returns once hello is written
	s.mu.Unlock()
	go s.pinger(c)
	go s.reader(c)
}

func (s *Server) pinger(c *conn) {
	defer s.wg.Done()
	if s.ping <= 0 {
		<-c.done
		return
	}
	t := time.NewTicker(s.ping)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.mu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			c.mu.Unlock()
			if err != nil {
				c.close()
				return
			}
		}
	}
}

func (s *Server) reader(c *conn) {
	defer s.wg.Done()
	defer s.drop(c)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var a struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(b, &a) != nil || a.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		s.acks = append(s.acks, Ack{EnvelopeID: a.EnvelopeID, Payload: a.Payload})
		s.notify()
		s.mu.Unlock()
	}
}

func (s *Server) drop(c *conn) {
	c.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.conns {
		if x == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	s.notify()
}

// current waits for the newest connection.
func (s *Server) current(ctx context.Context) (*conn, error) {
	var c *conn
	err := s.wait(ctx, func() bool {
		if n := len(s.conns); n > 0 {
			c = s.conns[n-1]
			return true
		}
		return false
	})
	if err != nil {
		return nil, ErrNoConnection
	}
	return c, nil
}

// Envelope is one Socket Mode request.
type Envelope struct {
	Type           string // "events_api", "interactive", "slash_commands"
	Payload        json.RawMessage
	RetryAttempt   int    // Slack's retry counter for events_api
	RetryReason    string // e.g. "timeout"
	AcceptsPayload bool
}

// Push sends e to the newest Socket Mode connection (waiting for one until
// ctx is done) and returns its envelope ID; WaitAck(ctx, id) then waits for
// the client's ack.
func (s *Server) Push(ctx context.Context, e Envelope) (string, error) {
	c, err := s.current(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	id := s.nextID("env-")
	s.mu.Unlock()
	msg := map[string]any{"envelope_id": id, "type": e.Type, "payload": e.Payload,
		"accepts_response_payload": e.AcceptsPayload}
	if e.Type == "events_api" {
		msg["retry_attempt"] = e.RetryAttempt
		msg["retry_reason"] = e.RetryReason
	}
	return id, c.write(msg)
}

// PushEvent pushes an events_api envelope carrying payload (see Event).
func (s *Server) PushEvent(ctx context.Context, payload json.RawMessage) (string, error) {
	return s.Push(ctx, Envelope{Type: "events_api", Payload: payload})
}

// PushInteractive pushes an interactive envelope (see BlockAction).
func (s *Server) PushInteractive(ctx context.Context, payload json.RawMessage) (string, error) {
	return s.Push(ctx, Envelope{Type: "interactive", Payload: payload, AcceptsPayload: true})
}

// PushCommand pushes a slash_commands envelope (see Command.JSON).
func (s *Server) PushCommand(ctx context.Context, payload json.RawMessage) (string, error) {
	return s.Push(ctx, Envelope{Type: "slash_commands", Payload: payload, AcceptsPayload: true})
}

// Disconnect asks the newest client to reconnect, as Slack does before it
// rotates a connection; the client opens a new one (see WaitConnections).
func (s *Server) Disconnect(ctx context.Context) error {
	c, err := s.current(ctx)
	if err != nil {
		return err
	}
	return c.write(map[string]any{"type": "disconnect", "reason": "refresh_requested",
		"debug_info": map[string]any{"host": "fakeslack"}})
}

// DropConnections closes every websocket abruptly (a network failure).
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}
