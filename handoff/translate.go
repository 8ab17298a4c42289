package handoff

import (
	"context"
	"strings"
	"sync"

	"github.com/supportbot/supportbot/bot"
)

// Translator translates chat text between the customer's and the agents'
// languages (e.g. package llm). An error means "send the original".
type Translator interface {
	Translate(ctx context.Context, conv bot.ConversationID, text, from, to string) (string, error)
}

// WithTranslator makes the relay two-way: agents read customer messages
// in agentLang (Message.Text translated, Message.Original the customer's
// words) and customers read agents' replies in their own language (the
// transcript keeps the agent's words in Message.Original). Card.AgentLang
// says which language agents see. When translation fails the original
// text goes through unchanged.
func WithTranslator(tr Translator, agentLang string) Option {
	return func(d *Desk) {
		if tr != nil && agentLang != "" {
			d.tr = &translation{tr: tr, lang: agentLang}
		}
	}
}

type translation struct {
	tr   Translator
	lang string

	mu    sync.Mutex
	cache map[[3]string]string // text, from, to → translation
}

func (x *translation) get(k [3]string) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v, ok := x.cache[k]
	return v, ok
}

func (x *translation) put(k [3]string, v string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cache == nil || len(x.cache) > 2000 {
		x.cache = map[[3]string]string{}
	}
	x.cache[k] = v
}

// agentLang is the language agents see c in.
func (d *Desk) agentLang(c *bot.Conversation) string {
	if d.tr == nil || c.Lang == "" || sameLang(c.Lang, d.tr.lang) {
		return c.Lang
	}
	return d.tr.lang
}

// translate returns text in language to, or ok false.
func (d *Desk) translate(ctx context.Context, c *bot.Conversation, text, from, to string) (string, bool) {
	if t := strings.TrimSpace(text); t == "" || !strings.ContainsRune(t, ' ') && strings.Contains(t, ":") { // a button value
		return "", false
	}
	k := [3]string{text, from, to}
	if v, ok := d.tr.get(k); ok {
		return v, true
	}
	out, err := d.tr.tr.Translate(ctx, c.ID, text, from, to)
	if err != nil || strings.TrimSpace(out) == "" {
		d.log.Warn("translation failed; relaying the original", "conversation", c.ID, "from", from, "to", to, "err", err)
		return "", false
	}
	d.tr.put(k, out)
	return out, true
}

// forAgents returns customer message m as agents read it.
func (d *Desk) forAgents(ctx context.Context, c *bot.Conversation, m bot.Message) bot.Message {
	to := d.agentLang(c)
	if m.Role != bot.RoleCustomer || to == c.Lang {
		return m
	}
	if out, ok := d.translate(ctx, c, m.Text, c.Lang, to); ok {
		m.Original, m.Text, m.Lang = m.Text, out, to
	}
	return m
}

// forCustomer returns an agent's text in c's language and the agent's
// original ("" when not translated).
func (d *Desk) forCustomer(ctx context.Context, c *bot.Conversation, text string) (string, string) {
	from := d.agentLang(c)
	if from == c.Lang {
		return text, ""
	}
	if out, ok := d.translate(ctx, c, text, from, c.Lang); ok {
		return out, text
	}
	return text, ""
}
