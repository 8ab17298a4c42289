package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/store/redisstore"
)

// visitor is a widget as the server sees it: a socket speaking the widget
// protocol. It is the conformance suite's platform.
type visitor struct {
	url string

	mu     sync.Mutex
	ws     *websocket.Conn
	sid    string
	after  int
	n      int
	last   clientFrame
	frames chan map[string]any
}

func newVisitor(url string) *visitor {
	return &visitor{url: "ws" + strings.TrimPrefix(url, "http") + "/chat/ws", frames: make(chan map[string]any, 256)}
}

// connect opens the socket (again), resuming after the last seq seen.
func (v *visitor) connect(t testing.TB) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(v.url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	v.mu.Lock()
	v.ws = ws
	sid, after := v.sid, v.after
	v.mu.Unlock()
	if err := ws.WriteJSON(clientFrame{Type: "hello", SID: sid, After: after, Name: "Vera"}); err != nil {
		t.Fatal(err)
	}
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v %v", hello, err)
	}
	v.mu.Lock()
	v.sid = hello["sid"].(string)
	v.mu.Unlock()
	go func() {
		for {
			var f map[string]any
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if s, ok := f["seq"].(float64); ok {
				v.mu.Lock()
				v.after = max(v.after, int(s))
				v.mu.Unlock()
			}
			v.frames <- f
		}
	}()
	t.Cleanup(func() { ws.Close() })
}

func (v *visitor) disconnect() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ws.Close()
}

func (v *visitor) send(t testing.TB, f clientFrame) {
	t.Helper()
	v.mu.Lock()
	if v.ws == nil {
		v.mu.Unlock()
		v.connect(t)
		v.mu.Lock()
	}
	v.last = f
	err := v.ws.WriteJSON(f)
	v.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
}

func (v *visitor) Inject(t *testing.T, text string) {
	v.mu.Lock()
	v.n++
	id := "c" + string(rune('0'+v.n%10)) + time.Now().Format("150405.000000000")
	v.mu.Unlock()
	v.send(t, clientFrame{Type: "msg", ID: id, Text: text})
}

func (v *visitor) InjectOwn(*testing.T, string) {} // the widget never echoes the bot

func (v *visitor) Redeliver(t *testing.T) {
	v.mu.Lock()
	f := v.last
	v.mu.Unlock()
	v.send(t, f)
}

// next returns the next message frame whose role is not "customer".
func (v *visitor) next(t testing.TB) map[string]any {
	t.Helper()
	deadline := time.After(channeltest.Wait)
	for {
		select {
		case f := <-v.frames:
			if f["type"] == "msg" && f["role"] != "customer" {
				return f
			}
		case <-deadline:
			t.Fatalf("no message within %v", channeltest.Wait)
		}
	}
}

func (v *visitor) NextPost(t *testing.T) channeltest.Post {
	f := v.next(t)
	v.mu.Lock()
	p := channeltest.Post{To: addr(v.sid), Text: f["text"].(string)}
	v.mu.Unlock()
	if cs, ok := f["choices"].([]any); ok {
		for _, c := range cs {
			p.Choices = append(p.Choices, c.(map[string]any)["value"].(string))
		}
	}
	return p
}

func (v *visitor) Press(t *testing.T, _ channeltest.Post, value string) { v.Inject(t, value) }

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Features{Buttons: true, Retries: true}, func(t *testing.T) channeltest.Harness {
		ch := NewChannel(ChannelOptions{})
		srv := httptest.NewServer(ch)
		t.Cleanup(srv.Close)
		v := newVisitor(srv.URL)
		v.url = "ws" + strings.TrimPrefix(srv.URL, "http")
		return channeltest.Harness{Channel: ch, Platform: v}
	})
}

// echo is a handler that answers every message with "echo: <text>".
func echo(_ context.Context, t *bot.Turn) error {
	t.Reply(bot.Reply{Kind: bot.KindAnswer, Text: "echo: " + t.Msg.Text})
	return nil
}

// With a store behind it, a widget that reconnects gets what it missed,
// once, and a message resent after a reconnect is handled once.
func TestReconnectReplaysWithoutDuplicates(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "x.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	ch := NewChannel(ChannelOptions{Transcripts: st})
	eng := bot.New(bot.Config{}, st, bot.HandlerFunc(echo), discard())
	eng.Add(ch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)
	v := newVisitor(srv.URL)
	v.url = "ws" + strings.TrimPrefix(srv.URL, "http")

	v.connect(t)
	v.send(t, clientFrame{Type: "msg", ID: "a1", Text: "one"})
	if got := v.next(t)["text"]; got != "echo: one" {
		t.Fatalf("reply = %v", got)
	}
	// Drop the socket, then have the agent side send while the visitor is away.
	v.disconnect()
	drain(v.frames)
	if err := eng.Do(context.Background(), addr(v.sid).ConversationID(), func(_ context.Context, tn *bot.Turn) error {
		tn.Reply(bot.Reply{Kind: bot.KindAgent, Author: "Ada", Text: "while you were away"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v.connect(t)
	f := v.next(t)
	if f["text"] != "while you were away" || f["author"] != "Ada" {
		t.Fatalf("replayed %v, want the agent's message", f)
	}
	// The widget resends a message whose ack it missed: handled once.
	v.send(t, clientFrame{Type: "msg", ID: "a1", Text: "one"})
	v.send(t, clientFrame{Type: "msg", ID: "a2", Text: "two"})
	if got := v.next(t)["text"]; got != "echo: two" {
		t.Fatalf("after resend got %v, want only the reply to the new message", got)
	}
	msgs, err := st.Transcript(context.Background(), addr(v.sid).ConversationID(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if want := "one|echo: one|while you were away|two|echo: two"; strings.Join(texts, "|") != want {
		t.Errorf("transcript %q, want %q", strings.Join(texts, "|"), want)
	}
}

func drain(c chan map[string]any) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// With an allow-list, only the listed sites (and this server's own pages)
// can open the widget; another site's page is refused before any chat.
func TestWidgetOriginAllowList(t *testing.T) {
	allow, err := ParseOrigins([]string{"https://Shop.Example.com", "http://localhost:3000/"})
	if err != nil {
		t.Fatal(err)
	}
	ch := NewChannel(ChannelOptions{AllowOrigin: allow})
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	for origin, want := range map[string]int{
		"https://shop.example.com": http.StatusSwitchingProtocols,
		"http://localhost:3000":    http.StatusSwitchingProtocols,
		srv.URL:                    http.StatusSwitchingProtocols, // the demo page, this server's own
		"https://evil.example":     http.StatusForbidden,
		"http://shop.example.com":  http.StatusForbidden, // the scheme is part of the origin
	} {
		c, resp, err := websocket.DefaultDialer.Dial(ws, http.Header{"Origin": {origin}})
		if c != nil {
			c.Close()
		}
		if resp == nil {
			t.Fatalf("origin %s: %v", origin, err)
		}
		if resp.StatusCode != want {
			t.Errorf("origin %s: status %d, want %d", origin, resp.StatusCode, want)
		}
	}
	for _, bad := range []string{"shop.example.com", "https://shop.example.com/cart", "ftp://x", "https://"} {
		if _, err := ParseOrigins([]string{bad}); !errors.Is(err, ErrBadOrigin) {
			t.Errorf("ParseOrigins(%q) = %v, want ErrBadOrigin", bad, err)
		}
	}
}

// Two replicas on one Redis: the customer's widget is connected to B; an
// agent's reply sent by A (the desk runs the turn where the agent
// clicked) and the bot's typing indicator reach the widget at once, and
// the widget's history stays right after a reconnect to A.
func TestReplyFromAnotherReplicaReachesTheWidget(t *testing.T) {
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: redistest.Start(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	type replica struct {
		ch  *Channel
		eng *bot.Engine
		url string
	}
	start := func() replica {
		ch := NewChannel(ChannelOptions{Transcripts: st, Bus: st, Log: discard()})
		eng := bot.New(bot.Config{}, st, bot.HandlerFunc(echo), discard())
		eng.Add(ch)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		srv := httptest.NewServer(ch)
		t.Cleanup(srv.Close)
		select {
		case <-ch.relay:
		case <-time.After(channeltest.Wait):
			t.Fatal("relay subscription not active")
		}
		return replica{ch, eng, "ws" + strings.TrimPrefix(srv.URL, "http")}
	}
	a, b := start(), start()

	v := newVisitor("")
	v.url = b.url
	v.connect(t)
	v.send(t, clientFrame{Type: "msg", ID: "m1", Text: "hello"})
	if got := v.next(t)["text"]; got != "echo: hello" {
		t.Fatalf("reply %v", got)
	}
	id := addr(v.sid).ConversationID()
	if err := a.eng.Do(context.Background(), id, func(_ context.Context, tn *bot.Turn) error {
		tn.Reply(bot.Reply{Kind: bot.KindAgent, Author: "Ada", Text: "Hi, Ada here from the other replica", Original: "intern"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f := v.next(t)
	if f["text"] != "Hi, Ada here from the other replica" || f["author"] != "Ada" || f["seq"] == nil {
		t.Fatalf("widget on B got %v, want A's agent reply with its seq", f)
	}
	if err := a.ch.Typing(context.Background(), addr(v.sid)); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(channeltest.Wait)
	for typing := false; !typing; {
		select {
		case f := <-v.frames:
			typing = f["type"] == "typing"
		case <-deadline:
			t.Fatal("typing indicator from A never reached the widget on B")
		}
	}
	// A reconnect to A replays nothing twice.
	v.disconnect()
	drain(v.frames)
	v.url = a.url
	v.connect(t)
	v.send(t, clientFrame{Type: "msg", ID: "m2", Text: "thanks"})
	if got := v.next(t)["text"]; got != "echo: thanks" {
		t.Fatalf("after reconnecting to A: %v, want only the new reply", got)
	}
}

// Two replicas on one Redis: an agent whose inbox page is connected to B
// sees, live, the card that A's desk announced and the customer message it
// relayed, once each.
func TestInboxEventsReachEveryReplica(t *testing.T) {
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: redistest.Start(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := SaveAccount(context.Background(), st, "ada", "Ada", RoleAgent, "ada's long password", "test", false); err != nil {
		t.Fatal(err)
	}
	start := func() (*Server, string) {
		s, err := New(context.Background(), Options{Store: st, Channel: NewChannel(ChannelOptions{}), Bus: st, Log: discard()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan struct{}), make(chan error, 1)
		go func() { done <- s.inbox.relay(ctx, ready) }()
		t.Cleanup(func() { cancel(); <-done })
		<-ready
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		return s, srv.URL
	}
	a, _ := start()
	_, baseB := start()

	c := client()
	login(t, c, baseB, "ada", "ada's long password")
	resp, err := c.Get(baseB + "/inbox/api/events")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events on B: %v %v", resp, err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		deadline := time.After(channeltest.Wait)
		for {
			select {
			case l := <-lines:
				if d, ok := strings.CutPrefix(l, prefix); ok {
					return d
				}
			case <-deadline:
				t.Fatalf("page on B: no %q line within %v", prefix, channeltest.Wait)
			}
		}
	}
	next(": hello") // the page is subscribed
	card := handoff.Card{Conv: "web:r1", Customer: bot.Customer{Name: "Vera"}}
	if _, err := a.Workspace().Announce(context.Background(), card); err != nil {
		t.Fatal(err)
	}
	if err := a.Workspace().Relay(context.Background(), card, bot.Message{Role: bot.RoleCustomer, Text: "my order is late"}); err != nil {
		t.Fatal(err)
	}
	got := []string{next("data: "), next("data: ")}
	if !strings.Contains(got[0], `"type":"card"`) || !strings.Contains(got[0], "Vera") || !strings.Contains(got[1], "my order is late") {
		t.Errorf("page on B got %q", got)
	}
}
