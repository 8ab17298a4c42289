package redisstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
)

// convWire is bot.Conversation's JSON without its zero optional times: the
// outer fields shadow the embedded ones of the same name.
type convWire struct {
	*bot.Conversation
	Queued     *time.Time `json:"queued,omitempty"`
	Claimed    *time.Time `json:"claimed,omitempty"`
	FirstReply *time.Time `json:"first_reply,omitempty"`
	Resolved   *time.Time `json:"resolved,omitempty"`
}

func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// encodeConv encodes c as version v: "<v>\n<json>".
func encodeConv(c *bot.Conversation, v int64) ([]byte, error) {
	cc := *c
	cc.Version = v
	w := convWire{&cc, nonZero(c.Queued), nonZero(c.Claimed), nonZero(c.FirstReply), nonZero(c.Resolved)}
	b, err := jsonenc.Marshal(&w)
	if err != nil {
		return nil, err
	}
	rec := strconv.AppendInt(make([]byte, 0, len(b)+21), v, 10)
	rec = append(rec, '\n')
	return append(rec, b...), nil
}

func decodeConv(rec []byte) (*bot.Conversation, error) {
	vs, js, ok := bytes.Cut(rec, []byte{'\n'})
	v, err := strconv.ParseInt(string(vs), 10, 64)
	if !ok || err != nil {
		return nil, errors.New("redisstore: bad conversation record")
	}
	c := new(bot.Conversation)
	w := convWire{Conversation: c}
	if err := json.Unmarshal(js, &w); err != nil {
		return nil, err
	}
	c.Queued, c.Claimed, c.FirstReply, c.Resolved = deref(w.Queued), deref(w.Claimed), deref(w.FirstReply), deref(w.Resolved)
	c.Version = v
	return c, nil
}

// header is the first element of a transcript list: messages whose From or
// Customer equal it leave them out.
type header struct {
	From     bot.Address  `json:"f"`
	Customer bot.Customer `json:"c"`
}

// guessHeader picks the header a new transcript would get: the first message
// sent from the conversation's own address, else the first message.
func guessHeader(id bot.ConversationID, msgs []bot.Message) header {
	for _, m := range msgs {
		if m.From.ConversationID() == id {
			return header{m.From, m.Customer}
		}
	}
	return header{msgs[0].From, msgs[0].Customer}
}

// msgWire is the compact form of a bot.Message in a transcript.
type msgWire struct {
	ID       string            `json:"i,omitempty"`
	From     *bot.Address      `json:"f,omitempty"` // nil: the header's
	Customer *bot.Customer     `json:"c,omitempty"` // nil: the header's
	Role     bot.Role          `json:"r,omitempty"`
	Author   string            `json:"a,omitempty"`
	Text     string            `json:"t,omitempty"`
	Lang     string            `json:"l,omitempty"`
	Original string            `json:"o,omitempty"`
	Choices  []bot.Choice      `json:"ch,omitempty"`
	Kind     bot.ReplyKind     `json:"k,omitempty"`
	Meta     map[string]string `json:"m,omitempty"`
	At       int64             `json:"n,omitempty"` // Unix nanoseconds; 0: zero time
}

func encodeMsg(m *bot.Message, h *header) ([]byte, error) {
	w := msgWire{ID: m.ID, Role: m.Role, Author: m.Author, Text: m.Text, Lang: m.Lang,
		Original: m.Original, Choices: m.Choices, Kind: m.Kind, Meta: m.Meta}
	if m.From != h.From {
		w.From = &m.From
	}
	if m.Customer != h.Customer {
		w.Customer = &m.Customer
	}
	if !m.At.IsZero() {
		w.At = m.At.UnixNano()
	}
	return jsonenc.Marshal(&w)
}

func decodeMsg(b []byte, h *header, m *bot.Message) error {
	var w msgWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = bot.Message{ID: w.ID, From: h.From, Customer: h.Customer, Role: w.Role, Author: w.Author,
		Text: w.Text, Lang: w.Lang, Original: w.Original, Choices: w.Choices, Kind: w.Kind, Meta: w.Meta}
	if w.From != nil {
		m.From = *w.From
	}
	if w.Customer != nil {
		m.Customer = *w.Customer
	}
	if w.At != 0 {
		m.At = time.Unix(0, w.At).UTC()
	}
	return nil
}
