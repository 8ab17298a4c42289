package fakediscord

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func read(t *testing.T, ws *websocket.Conn) frame {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f frame
	if err := ws.ReadJSON(&f); err != nil {
		t.Fatalf("read: %v", err)
	}
	return f
}

func dial(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.wsURL()+"?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if f := read(t, ws); f.Op != 10 {
		t.Fatalf("first frame op %d, want HELLO", f.Op)
	}
	return ws
}

// The gateway: IDENTIFY → READY, heartbeat ACK, dispatch with sequence
// numbers, and RESUME after a drop replaying what was missed (plus the
// configured overlap) before RESUMED.
func TestGatewayIdentifyDispatchResume(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	ws := dial(t, s)
	_ = ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "Bot " + s.Token, "intents": 37377}})
	ready := read(t, ws)
	var r struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(ready.D, &r)
	if ready.T != "READY" || ready.S != 1 || r.SessionID == "" {
		t.Fatalf("ready = %+v", ready)
	}
	_ = ws.WriteJSON(map[string]any{"op": 1, "d": 1})
	if f := read(t, ws); f.Op != 11 {
		t.Fatalf("heartbeat answered with op %d", f.Op)
	}
	s.Message(Msg{ChannelID: "1", Author: User{ID: "2"}, Content: "one"})
	if f := read(t, ws); f.T != "MESSAGE_CREATE" || f.S != 2 {
		t.Fatalf("dispatch = %+v", f)
	}

	s.Drop()
	s.Message(Msg{ChannelID: "1", Author: User{ID: "2"}, Content: "missed"})
	s.SetResumeOverlap(1)
	ws2 := dial(t, s)
	_ = ws2.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token, "session_id": r.SessionID, "seq": 2}})
	var got []string
	for {
		f := read(t, ws2)
		if f.T == "RESUMED" {
			break
		}
		got = append(got, f.T+string(f.D[strings.Index(string(f.D), `"content":`):][:20]))
	}
	if len(got) != 2 || !strings.Contains(got[0], "one") || !strings.Contains(got[1], "missed") {
		t.Errorf("replayed %q, want the overlap and the missed event", got)
	}
	if s.Resumes() != 1 || len(s.Identifies()) != 1 {
		t.Errorf("resumes %d identifies %d", s.Resumes(), len(s.Identifies()))
	}
}

func TestGatewayRejectsBadToken(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	ws := dial(t, s)
	_ = ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "Bot nope"}})
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, CloseAuthFailed) {
		t.Errorf("err = %v, want close %d", err, CloseAuthFailed)
	}
}

func TestRESTAuthAnd429(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	post := func(token string) *http.Response {
		req, _ := http.NewRequest("POST", "https://discord.com/api/v9/channels/5/messages", strings.NewReader(`{"content":"hi","allowed_mentions":{"parse":[]}}`))
		req.Header.Set("Authorization", token)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("Bot wrong"); r.StatusCode != 401 {
		t.Errorf("bad token: %d", r.StatusCode)
	}
	s.RateLimit("POST", "/messages", 1, 250*time.Millisecond)
	if r := post("Bot " + s.Token); r.StatusCode != 429 || r.Header.Get("Retry-After") != "1" {
		t.Errorf("limited: %d %v", r.StatusCode, r.Header)
	}
	if r := post("Bot " + s.Token); r.StatusCode != 200 {
		t.Errorf("after the limit: %d", r.StatusCode)
	}
	p := s.Posts()
	if len(p) != 1 || p[0].ChannelID != "5" || !p[0].AllowedMentions.None() {
		t.Errorf("posts = %+v", p)
	}
	if ShardOf("4194304", 2) != 1 || ShardOf("8388608", 2) != 0 || ShardOf("", 4) != 0 {
		t.Error("ShardOf")
	}
}
