package fakeslack

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
)

// MethodResponse is Post.Method for a message sent to a response_url.
const MethodResponse = "response_url"

// Post is one recorded chat.postMessage, chat.update, chat.postEphemeral or
// response_url message.
type Post struct {
	Method       string // "chat.postMessage", "chat.update", "chat.postEphemeral", MethodResponse
	Channel      string
	TS           string // the message's ts (for chat.update: the updated message)
	ThreadTS     string
	User         string // chat.postEphemeral / response_url: who sees it
	Text         string // the fallback text field
	Blocks       json.RawMessage
	Broadcast    bool   // reply_broadcast
	ResponseType string // response_url: "ephemeral" or "in_channel"
	Form         url.Values
}

// Button is one button found in Post.Blocks.
type Button struct {
	ActionID, BlockID, Value, Text string
}

// AllText is Text followed by every text string inside Blocks, one a line:
// what a person would read.
func (p Post) AllText() string {
	var b strings.Builder
	b.WriteString(p.Text)
	var v any
	if len(p.Blocks) > 0 && json.Unmarshal(p.Blocks, &v) == nil {
		walkText(v, &b)
	}
	return b.String()
}

func walkText(v any, b *strings.Builder) {
	switch x := v.(type) {
	case map[string]any:
		if t, ok := x["text"].(string); ok {
			b.WriteString("\n")
			b.WriteString(t)
		}
		for k, e := range x {
			if k != "text" || !isString(e) {
				walkText(e, b)
			}
		}
	case []any:
		for _, e := range x {
			walkText(e, b)
		}
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// Buttons lists the buttons in p.Blocks, in order.
func (p Post) Buttons() []Button {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(p.Blocks, &blocks)
	var out []Button
	for _, bl := range blocks {
		for _, e := range bl.Elements {
			if e.Type == "button" {
				out = append(out, Button{ActionID: e.ActionID, BlockID: bl.BlockID, Value: e.Value, Text: e.Text.Text})
			}
		}
	}
	return out
}

// Ack is one envelope acknowledgement written by the client.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage
}

// Posts returns every recorded post, oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Len is the number of recorded posts; pass it to WaitPostFrom to wait only
// for later ones.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts)
}

// Message returns the latest version of the message channel/ts.
func (s *Server) Message(channel, ts string) (Post, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.messages[channel+"/"+ts]
	return p, ok
}

// WaitPost returns the first recorded post that matches pred, waiting for it
// until ctx is done.
func (s *Server) WaitPost(ctx context.Context, pred func(Post) bool) (Post, error) {
	return s.WaitPostFrom(ctx, 0, pred)
}

// WaitPostFrom is WaitPost over the posts recorded at index from or later.
func (s *Server) WaitPostFrom(ctx context.Context, from int, pred func(Post) bool) (Post, error) {
	var got Post
	err := s.wait(ctx, func() bool {
		for _, p := range s.posts[min(from, len(s.posts)):] {
			if pred(p) {
				got = p
				return true
			}
		}
		return false
	})
	return got, err
}

// WaitAck waits until the client acks envelopeID.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var got Ack
	err := s.wait(ctx, func() bool {
		for _, a := range s.acks {
			if a.EnvelopeID == envelopeID {
				got = a
				return true
			}
		}
		return false
	})
	return got, err
}

// WaitConnections waits until the client has opened n websockets in total.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return s.connects >= n })
}

// WaitCalls waits until method has been called n times in total.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) error {
	return s.wait(ctx, func() bool { return s.calls[method] >= n })
}

// wait blocks until check (run with s.mu held) is true or ctx is done.
func (s *Server) wait(ctx context.Context, check func() bool) error {
	for {
		s.mu.Lock()
		ok := check()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Matchers for WaitPost.

// In matches top-level posts (not thread replies) in channel.
func In(channel string) func(Post) bool {
	return func(p Post) bool { return p.Channel == channel && p.ThreadTS == "" && p.Method == "chat.postMessage" }
}

// InThread matches new messages posted in the thread channel/ts.
func InThread(channel, ts string) func(Post) bool {
	return func(p Post) bool { return p.Channel == channel && p.ThreadTS == ts && p.Method == "chat.postMessage" }
}

// Updated matches chat.update calls on channel/ts.
func Updated(channel, ts string) func(Post) bool {
	return func(p Post) bool { return p.Method == "chat.update" && p.Channel == channel && p.TS == ts }
}

// EphemeralTo matches ephemeral messages (chat.postEphemeral or an
// ephemeral response_url message) shown to user.
func EphemeralTo(user string) func(Post) bool {
	return func(p Post) bool {
		return p.User == user && (p.Method == "chat.postEphemeral" || p.Method == MethodResponse)
	}
}

// And matches posts that match every one of preds.
func And(preds ...func(Post) bool) func(Post) bool {
	return func(p Post) bool {
		for _, f := range preds {
			if !f(p) {
				return false
			}
		}
		return true
	}
}

// Contains matches posts whose AllText contains s.
func Contains(s string) func(Post) bool {
	return func(p Post) bool { return strings.Contains(p.AllText(), s) }
}
