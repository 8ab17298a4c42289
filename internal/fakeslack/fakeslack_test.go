package fakeslack_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/supportbot/supportbot/internal/fakeslack"
)

func within(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func client(s *fakeslack.Server) *slackgo.Client {
	return slackgo.New(s.BotToken, slackgo.OptionAPIURL(s.APIURL()), slackgo.OptionAppLevelToken(s.AppToken))
}

func TestWebAPIRecordsAndRateLimits(t *testing.T) {
	s := fakeslack.New()
	defer s.Close()
	api := client(s)
	s.RateLimit("chat.postMessage", 1, 2*time.Second)
	_, _, err := api.PostMessageContext(within(t), "C1", slackgo.MsgOptionText("x", false))
	var rl *slackgo.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("err = %v, want a RateLimitedError with RetryAfter 2s", err)
	}
	_, ts1, err := api.PostMessageContext(within(t), "C1", slackgo.MsgOptionText("one", false))
	if err != nil {
		t.Fatal(err)
	}
	_, ts2, _ := api.PostMessageContext(within(t), "C1", slackgo.MsgOptionText("two", false), slackgo.MsgOptionTS(ts1))
	if ts1 == ts2 {
		t.Errorf("two posts share ts %s", ts1)
	}
	if _, _, _, err := api.UpdateMessageContext(within(t), "C1", ts1, slackgo.MsgOptionText("one!", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(within(t), "C1", "1.2", slackgo.MsgOptionText("?", false)); err == nil {
		t.Error("updating an unknown message succeeded")
	}
	if p, _ := s.WaitPost(within(t), fakeslack.InThread("C1", ts1)); p.Text != "two" {
		t.Errorf("thread post = %+v", p)
	}
	if m, _ := s.Message("C1", ts1); m.Text != "one!" {
		t.Errorf("message after update = %q", m.Text)
	}
	if _, err := slackgo.New("xoxb-bad", slackgo.OptionAPIURL(s.APIURL())).AuthTestContext(within(t)); err == nil {
		t.Error("auth.test with a bad token succeeded")
	}
}

func TestSocketModeEnvelopesAndAcks(t *testing.T) {
	s := fakeslack.New(fakeslack.WithPingInterval(20 * time.Millisecond))
	defer s.Close()
	sm := socketmode.New(client(s), socketmode.OptionPingInterval(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(ctx) }()
	defer func() { cancel(); <-done }()

	payload, id := s.Event(fakeslack.Message{Channel: "D1", User: "U1", Text: "hi"})
	env, err := s.PushEvent(within(t), payload)
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-sm.Events:
			if ev.Type != socketmode.EventTypeEventsAPI {
				continue
			}
			e := ev.Data.(slackevents.EventsAPIEvent)
			m := e.InnerEvent.Data.(*slackevents.MessageEvent)
			if e.Data.(*slackevents.EventsAPICallbackEvent).EventID != id || m.Text != "hi" || m.ChannelType != "im" {
				t.Errorf("event = %+v", m)
			}
			if err := sm.Ack(*ev.Request); err != nil {
				t.Fatal(err)
			}
			if _, err := s.WaitAck(within(t), env); err != nil {
				t.Fatal(err)
			}
			if err := s.Disconnect(within(t)); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitConnections(within(t), 2); err != nil {
				t.Fatalf("no reconnect after disconnect: %v", err)
			}
			return
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
	}
}

func TestSignMatchesSlackVerifier(t *testing.T) {
	body := []byte(`{"type":"event_callback"}`)
	req, err := fakeslack.SignedRequest(within(t), "s3cret", "http://127.0.0.1/x", body, fakeslack.JSON, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	check := func(h http.Header, secret string) error {
		sv, err := slackgo.NewSecretsVerifier(h, secret)
		if err != nil {
			return err
		}
		_, _ = sv.Write(body)
		return sv.Ensure()
	}
	if err := check(req.Header, "s3cret"); err != nil {
		t.Errorf("slack-go rejects our signature: %v", err)
	}
	if err := check(req.Header, "other"); err == nil {
		t.Error("slack-go accepts a wrong secret")
	}
}
