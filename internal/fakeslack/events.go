package fakeslack

import (
	"encoding/json"
	"net/url"
	"time"
)

// Message is a message event as Slack sends it for message.im,
// message.channels and message.groups. Zero fields get defaults from Event.
type Message struct {
	EventID     string // default: a new unique "Ev…" ID (reuse it to simulate a retry)
	Channel     string
	ChannelType string // "im" (default when Channel starts with D), "channel", "group"
	User        string
	BotID       string
	SubType     string
	Text        string
	TS          string // default: a new unique ts
	ThreadTS    string
}

// Event builds the events_api payload (an event_callback) for m and returns
// it with the event ID it carries. The same payload serves Socket Mode
// (PushEvent) and the HTTP Events API (SignedRequest).
func (s *Server) Event(m Message) (payload json.RawMessage, eventID string) {
	s.mu.Lock()
	if m.EventID == "" {
		m.EventID = s.nextID("Ev")
	}
	if m.TS == "" {
		m.TS = s.nextTS()
	}
	s.mu.Unlock()
	if m.ChannelType == "" {
		m.ChannelType = "channel"
		if len(m.Channel) > 0 && m.Channel[0] == 'D' {
			m.ChannelType = "im"
		}
	}
	ev := map[string]any{"type": "message", "channel": m.Channel, "channel_type": m.ChannelType,
		"text": m.Text, "ts": m.TS, "event_ts": m.TS, "team": s.Team}
	if m.User != "" {
		ev["user"] = m.User
	}
	if m.BotID != "" {
		ev["bot_id"] = m.BotID
	}
	if m.SubType != "" {
		ev["subtype"] = m.SubType
	}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
	}
	b, _ := json.Marshal(map[string]any{"token": "verification-token-unused", "team_id": s.Team,
		"api_app_id": DefaultAppID, "type": "event_callback", "event_id": m.EventID,
		"event_time": time.Now().Unix(), "event": ev, "authorizations": []any{
			map[string]any{"team_id": s.Team, "user_id": s.BotUserID, "is_bot": true}}})
	return b, m.EventID
}

// Action is a click on a Block Kit button.
type Action struct {
	User      string
	Channel   string
	MessageTS string // the message holding the button
	ThreadTS  string // its thread, if it is a thread reply
	ActionID  string
	BlockID   string // default "actions"
	Value     string
	Label     string // the button's text (default Value)
	Text      string // the message's text
}

// BlockAction builds the block_actions interaction payload for a. Its
// response_url is served by the fake (recorded as MethodResponse posts).
func (s *Server) BlockAction(a Action) json.RawMessage {
	if a.BlockID == "" {
		a.BlockID = "actions"
	}
	if a.Label == "" {
		a.Label = a.Value
	}
	ru := s.responseURL(a.Channel, a.User)
	s.mu.Lock()
	actionTS := s.nextTS()
	trigger := s.nextID("trig")
	s.mu.Unlock()
	msg := map[string]any{"type": "message", "ts": a.MessageTS, "text": a.Text, "user": s.BotUserID, "bot_id": s.BotID}
	cont := map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": a.Channel, "is_ephemeral": false}
	if a.ThreadTS != "" {
		msg["thread_ts"] = a.ThreadTS
		cont["thread_ts"] = a.ThreadTS
	}
	b, _ := json.Marshal(map[string]any{"type": "block_actions", "token": "unused", "api_app_id": DefaultAppID,
		"team": map[string]any{"id": s.Team, "domain": "fake"}, "trigger_id": trigger,
		"user":      map[string]any{"id": a.User, "username": a.User, "name": a.User, "team_id": s.Team},
		"channel":   map[string]any{"id": a.Channel, "name": a.Channel},
		"container": cont, "message": msg, "response_url": ru,
		"actions": []any{map[string]any{"type": "button", "action_id": a.ActionID, "block_id": a.BlockID,
			"value": a.Value, "action_ts": actionTS, "text": map[string]any{"type": "plain_text", "text": a.Label}}},
	})
	return b
}

// Command is a slash command invocation.
type Command struct {
	Command string // default "/support"
	Text    string
	User    string
	Channel string
}

func (s *Server) commandFields(c Command) map[string]string {
	if c.Command == "" {
		c.Command = "/support"
	}
	s.mu.Lock()
	trigger := s.nextID("trig")
	s.mu.Unlock()
	return map[string]string{"token": "unused", "team_id": s.Team, "team_domain": "fake",
		"channel_id": c.Channel, "channel_name": c.Channel, "user_id": c.User, "user_name": c.User,
		"command": c.Command, "text": c.Text, "api_app_id": DefaultAppID, "trigger_id": trigger,
		"response_url": s.responseURL(c.Channel, c.User)}
}

// CommandJSON builds the Socket Mode slash_commands payload for c.
func (s *Server) CommandJSON(c Command) json.RawMessage {
	b, _ := json.Marshal(s.commandFields(c))
	return b
}

// CommandForm builds the form body Slack POSTs to a slash command Request URL.
func (s *Server) CommandForm(c Command) []byte {
	v := url.Values{}
	for k, x := range s.commandFields(c) {
		v.Set(k, x)
	}
	return []byte(v.Encode())
}

// InteractionForm wraps an interaction payload as Slack POSTs it to the
// interactivity Request URL: a form with one "payload" field.
func InteractionForm(payload json.RawMessage) []byte {
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// URLVerification builds the url_verification payload Slack sends when a
// Request URL is configured.
func URLVerification(challenge string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"token": "unused", "challenge": challenge, "type": "url_verification"})
	return b
}
