package slack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Handler serves the Events API Request URLs for mode "http":
//
//	POST /slack/events        Events API (and the url_verification challenge)
//	POST /slack/interactions  button clicks
//	POST /slack/commands      the /support slash command
//
// Every request must carry a valid signature made with the signing secret
// no more than 5 minutes ago; otherwise the answer is 401. Events are
// answered 200 at once and handled while Listen runs (503 if it does not).
// A Slack retry (X-Slack-Retry-Num) carries the same event_id, hence the
// same Inbound.Key, so the engine drops it if the first one was taken.
func (c *Channel) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/events", c.httpEvents)
	mux.HandleFunc("POST /slack/interactions", c.httpInteractions)
	mux.HandleFunc("POST /slack/commands", c.httpCommands)
	return mux
}

// verified reads the body and checks its signature; on failure it has
// already answered.
func (c *Channel) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	sv, err := slackgo.NewSecretsVerifier(r.Header, c.tok.Signing)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		c.log.Warn("rejected unsigned Slack request", "path", r.URL.Path, "err", err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

func (c *Channel) httpEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := c.verified(w, r)
	if !ok {
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if ev.Type == slackevents.URLVerification {
		var ch slackevents.ChallengeResponse
		if json.Unmarshal(body, &ch) != nil {
			http.Error(w, "bad challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(ch.Challenge))
		return
	}
	if err != nil { // an event type we do not handle: take it so Slack does not retry
		c.log.Debug("unparsed Slack event", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	run := c.running()
	if run == nil {
		http.Error(w, "not listening", http.StatusServiceUnavailable)
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	c.onEvent(run, ev, retry)
	w.WriteHeader(http.StatusOK)
}

func (c *Channel) httpInteractions(w http.ResponseWriter, r *http.Request) {
	body, ok := c.verified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	var cb slackgo.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	run := c.running()
	if run == nil {
		http.Error(w, "not listening", http.StatusServiceUnavailable)
		return
	}
	c.onInteraction(run, cb)
	w.WriteHeader(http.StatusOK)
}

func (c *Channel) httpCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := c.verified(w, r)
	if !ok {
		return
	}
	f, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	run := c.running()
	if run == nil {
		http.Error(w, "not listening", http.StatusServiceUnavailable)
		return
	}
	c.onCommand(run, slackgo.SlashCommand{TeamID: f.Get("team_id"), ChannelID: f.Get("channel_id"),
		UserID: f.Get("user_id"), UserName: f.Get("user_name"), Command: f.Get("command"),
		Text: f.Get("text"), ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id")})
	w.WriteHeader(http.StatusOK)
}
