package slack_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/fakeslack"
)

// FuzzHTTPHandler posts arbitrary bodies to every Request URL of the HTTP
// mode, both correctly signed (so the payload parsers run) and with a bad
// signature: the handler never panics, never answers 5xx, and refuses
// every badly signed request with 401. Seeds: testdata/fuzz/FuzzHTTPHandler.
func FuzzHTTPHandler(f *testing.F) {
	e := start(f, httpMode).listen().connected()
	e.deliver = func(context.Context, bot.Inbound) {} // drop: a fuzzer must not fill e.in
	srv := httptest.NewServer(e.ch.Handler())
	f.Cleanup(srv.Close)
	ev, _ := e.fake.Event(fakeslack.Message{Channel: customerDM, User: customerU, Text: "hi"})
	f.Add(uint8(0), []byte(ev), true)
	f.Add(uint8(0), []byte(`{"type":"url_verification","challenge":"abc"}`), true)
	f.Add(uint8(0), []byte(`{"type":"event_callback","event":{"type":"message","channel":"D1","user":"U1","text":"x","ts":"1.2"}}`), true)
	f.Add(uint8(0), []byte(`{"type":"event_callback","event":null}`), true)
	f.Add(uint8(1), []byte(`payload=%7B%22type%22%3A%22block_actions%22%7D`), true)
	f.Add(uint8(1), []byte(`payload=%7Bnot json`), true)
	f.Add(uint8(2), []byte(`command=%2Fsupport&text=help&user_id=U0ALICE&channel_id=C1&team_id=T1`), true)
	f.Add(uint8(0), []byte(ev), false)
	paths := []struct{ path, ctype string }{
		{"/slack/events", fakeslack.JSON},
		{"/slack/interactions", "application/x-www-form-urlencoded"},
		{"/slack/commands", "application/x-www-form-urlencoded"},
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte, signed bool) {
		p := paths[int(which)%len(paths)]
		sec := secret
		if !signed {
			sec = "wrong-" + secret
		}
		req, err := fakeslack.SignedRequest(context.Background(), sec, srv.URL+p.path, body, p.ctype, time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		res, err := srv.Client().Do(req.WithContext(ctx))
		if err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q: %d %s", p.path, body, res.StatusCode, b)
		}
		if !signed && res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: badly signed request answered %d %s", p.path, res.StatusCode, strings.TrimSpace(string(b)))
		}
	})
}
