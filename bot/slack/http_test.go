package slack_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/internal/fakeslack"
)

func httpMode(c *slack.Config, _ *[]slack.Option) { c.Mode = slack.ModeHTTP }

// post sends body to the adapter's Request URL path, signed with sec at at.
func post(t *testing.T, srv *httptest.Server, path string, body []byte, ctype, sec string, at time.Time, retry int) (int, string) {
	t.Helper()
	req, err := fakeslack.SignedRequest(within(t), sec, srv.URL+path, body, ctype, at, retry)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestHTTPSignature(t *testing.T) {
	e := start(t, httpMode).listen().connected()
	srv := httptest.NewServer(e.ch.Handler())
	defer srv.Close()
	payload, _ := e.fake.Event(fakeslack.Message{Channel: customerDM, User: customerU, Text: "hi"})
	now := time.Now()
	for _, tc := range []struct {
		name   string
		secret string
		at     time.Time
		want   int
	}{
		{"wrong secret", "not-the-secret", now, http.StatusUnauthorized},
		{"stale", secret, now.Add(-6 * time.Minute), http.StatusUnauthorized},
		{"from the future", secret, now.Add(6 * time.Minute), http.StatusUnauthorized},
		{"good", secret, now, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := post(t, srv, "/slack/events", payload, fakeslack.JSON, tc.secret, tc.at, 0); code != tc.want {
				t.Errorf("status %d (%s), want %d", code, body, tc.want)
			}
		})
	}
	// unsigned
	res, err := srv.Client().Post(srv.URL+"/slack/events", fakeslack.JSON, strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request: status %d, want 401", res.StatusCode)
	}
	// only the good one was delivered
	if in := e.next(); in.Msg.Text != "hi" {
		t.Errorf("delivered %q", in.Msg.Text)
	}
	select {
	case in := <-e.in:
		t.Errorf("a rejected request was delivered: %q", in.Msg.Text)
	default:
	}
}

func TestHTTPEventsChallengeAndRetry(t *testing.T) {
	e := start(t, httpMode).listen().connected()
	srv := httptest.NewServer(e.ch.Handler())
	defer srv.Close()
	if code, body := post(t, srv, "/slack/events", fakeslack.URLVerification("c-123"), fakeslack.JSON, secret, time.Now(), 0); code != 200 || body != "c-123" {
		t.Errorf("url_verification: %d %q, want the challenge", code, body)
	}
	payload, id := e.fake.Event(fakeslack.Message{Channel: customerDM, User: customerU, Text: "hello"})
	if code, _ := post(t, srv, "/slack/events", payload, fakeslack.JSON, secret, time.Now(), 0); code != 200 {
		t.Fatalf("event: %d", code)
	}
	if code, _ := post(t, srv, "/slack/events", payload, fakeslack.JSON, secret, time.Now(), 1); code != 200 {
		t.Fatalf("retry: %d", code)
	}
	a, b := e.next(), e.next()
	if a.Key != "slack:"+id || b.Key != a.Key {
		t.Errorf("keys %q and %q, want both slack:%s so the engine drops the retry", a.Key, b.Key, id)
	}
}

func TestHTTPInteractionsAndCommands(t *testing.T) {
	e := start(t, httpMode).listen().connected()
	srv := httptest.NewServer(e.ch.Handler())
	defer srv.Close()
	conv := fullCard(customerAddr()).Conv
	if _, err := e.desk.handoff(within(t), fullCard(customerAddr()), customerAddr()); err != nil {
		t.Fatal(err)
	}
	card := e.waitPost(fakeslack.In(handoffCh))
	click := e.fake.BlockAction(fakeslack.Action{User: alice, Channel: handoffCh, MessageTS: card.TS,
		ActionID: "handoff_claim", BlockID: "handoff", Value: string(conv)})
	if code, _ := post(t, srv, "/slack/interactions", fakeslack.InteractionForm(click), fakeslack.Form, "bad", time.Now(), 0); code != 401 {
		t.Errorf("unsigned click: %d, want 401", code)
	}
	if code, _ := post(t, srv, "/slack/interactions", fakeslack.InteractionForm(click), fakeslack.Form, secret, time.Now(), 0); code != 200 {
		t.Errorf("click: %d", code)
	}
	e.waitPost(fakeslack.Updated(handoffCh, card.TS))

	cmd := e.fake.CommandForm(fakeslack.Command{Text: "on", User: alice, Channel: handoffCh})
	if code, _ := post(t, srv, "/slack/commands", cmd, fakeslack.Form, secret, time.Now().Add(-10*time.Minute), 0); code != 401 {
		t.Errorf("stale command: %d, want 401", code)
	}
	if code, _ := post(t, srv, "/slack/commands", cmd, fakeslack.Form, secret, time.Now(), 0); code != 200 {
		t.Errorf("command: %d", code)
	}
	if p := e.waitPost(fakeslack.EphemeralTo(alice)); !strings.Contains(p.Text, "You are *on*") {
		t.Errorf("answer %q", p.Text)
	}
}
