package handoff

import (
	"context"
	"regexp"
	"strings"
	"unicode"

	"github.com/supportbot/supportbot/bot"
)

// Button values the desk offers to customers.
const (
	valueLeave    = "queue:leave"
	valueStatus   = "queue:status"
	valueCSATSkip = "csat:skip"
	csatPrefix    = "csat:"
)

// Gate is the middleware in front of the router. While a human holds the
// conversation it relays the customer's messages to the workspaces and
// does nothing else: the bot never answers. While the conversation waits
// in the queue it relays too, answers only questions about the queue, takes
// contact details after hours, and lets the customer leave the queue
// ("cancel", or the button) and return to the bot. After a resolve it
// takes the CSAT rating and one comment; any other message reopens the
// conversation with the bot (history kept) and goes to next. A rating
// button pressed after that is still taken, never passed to the router.
func (d *Desk) Gate(next bot.Handler) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		switch t.Conv.State {
		case bot.StateAgent:
			d.relay(ctx, t.Conv, t.Msg)
			return nil
		case bot.StateQueued:
			d.waiting(ctx, t)
			return nil
		case bot.StateResolved:
			if d.csat(t) {
				return nil
			}
			d.reopen(t)
		case bot.StateBot:
			if d.lateCSAT(t) {
				return nil
			}
		}
		return next.Handle(ctx, t)
	})
}

// relay shows m to the agents in every workspace. Failures are logged: the
// message is in the transcript and on the card anyway.
func (d *Desk) relay(ctx context.Context, c *bot.Conversation, m bot.Message) {
	card := d.lightCard(c)
	m = d.forAgents(ctx, c, m)
	for _, ws := range d.workspaces() {
		k := card
		k.Refs = refsOf(c, ws.Name())
		if err := ws.Relay(ctx, k, m); err != nil {
			d.log.Warn("relay to workspace", "workspace", ws.Name(), "conversation", c.ID, "err", err)
		}
	}
}

// waiting handles a customer message while the conversation is queued.
func (d *Desk) waiting(ctx context.Context, t *bot.Turn) {
	c := t.Conv
	text := t.Msg.Text
	if isLeave(text) {
		d.abandon(t)
		return
	}
	d.relay(ctx, c, t.Msg)
	if c.Data[dataAwaitContact] == "1" {
		if contact := findContact(text); contact != "" {
			delete(c.Data, dataAwaitContact)
			c.Set(DataContact, contact)
			t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(c.Lang, msgContactThanks, "{contact}", contact)})
			t.Record(bot.Event{Type: EventContactLeft})
			id := c.ID
			d.later(id, "update cards", func(ctx context.Context) error { return d.refresh(ctx, id) })
			return
		}
	}
	if isStatusQuestion(text, c.Lang) {
		d.tellStatus(ctx, t, false)
	}
}

// abandon takes the customer out of the queue, back to the bot.
func (d *Desk) abandon(t *bot.Turn) {
	c := t.Conv
	waited := t.Now.Sub(since(c))
	if err := c.Transition(bot.StateBot, bot.ReasonAbandoned, "", t.Now); err != nil {
		t.Log.Warn("leave queue", "err", err)
		return
	}
	clearEpisode(c)
	t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(c.Lang, msgLeft), Meta: map[string]string{"event": "left"}})
	t.Record(bot.Event{Type: EventAbandon, Reason: bot.ReasonAbandoned, Value: waited.Seconds()})
	id := c.ID
	d.later(id, "leave queue", func(ctx context.Context) error {
		c, err := d.peek(ctx, id)
		if err != nil {
			return err
		}
		if c.State == bot.StateQueued { // the turn was not saved
			return nil
		}
		d.closeOut(ctx, id)
		d.updateCards(ctx, c)
		return nil
	})
}

// reopen hands a resolved conversation back to the bot for a fresh start:
// the transcript and handoff history stay, the last episode's intent,
// sentiment, misses and what was tried are forgotten, so the router does
// not hand it straight back.
func (d *Desk) reopen(t *bot.Turn) {
	c := t.Conv
	if err := c.Transition(bot.StateBot, bot.ReasonReopened, "", t.Now); err != nil {
		t.Log.Warn("reopen", "err", err)
		return
	}
	c.AwaitCSAT = false
	c.Reason, c.Intent, c.Score, c.Sentiment, c.Tried = "", "", 0, 0, nil
	clearEpisode(c)
	delete(c.Data, dataAgentName)
	delete(c.Data, DataContact)
}

// closeOut removes a conversation from the queue and its timers.
func (d *Desk) closeOut(ctx context.Context, id bot.ConversationID) {
	if err := d.st.Dequeue(ctx, id); err != nil {
		d.log.Warn("dequeue", "conversation", id, "err", err)
	}
	d.cancelTimers(ctx, id)
	d.poke()
}

// words splits text into lower-case words.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// leaveWords are whole messages that mean "leave the queue". Whole
// messages only: "I want to cancel my order" is not one.
var leaveWords = map[string]bool{
	"cancel": true, "stop": true, "leave": true, "leave queue": true, "leave the queue": true,
	"quit": true, "exit": true, "never mind": true, "nevermind": true, "no thanks": true,
	"avbryt": true, "forlat køen": true, "forlat kø": true, "glem det": true, "nei takk": true,
	"lämna kön": true, "strunta i det": true, "nej tack": true, "avsluta": true,
	"otkaži": true, "otkazi": true, "odustani": true, "odustajem": true, "napusti red": true,
	"izađi": true, "izadji": true, "ne hvala": true, "ne treba": true,
}

func isLeave(text string) bool {
	t := strings.TrimSpace(strings.ToLower(text))
	if t == valueLeave {
		return true
	}
	return leaveWords[strings.Join(words(t), " ")]
}

// statusPhrases are word sequences that ask about the wait, per language;
// English ones are checked for every language.
var statusPhrases = map[string][]string{
	"en": {"how long", "how much longer", "position", "my turn", "still waiting", "waiting", "wait", "status",
		"eta", "in line", "queue", "anyone there", "anybody there", "human", "agent", "person"},
	"nb": {"hvor lenge", "kø", "køen", "venter", "ventetid", "plass", "noen der", "menneske", "person"},
	"sv": {"hur länge", "kö", "kön", "väntar", "väntetid", "plats", "någon där", "människa", "person"},
	"sr": {"koliko", "red", "redu", "čekam", "cekam", "čekanje", "cekanje", "ima li koga", "čovek",
		"covek", "osoba", "agent"},
}

func isStatusQuestion(text, lang string) bool {
	if strings.TrimSpace(text) == valueStatus || strings.TrimSpace(text) == "?" {
		return true
	}
	w := " " + strings.Join(words(text), " ") + " "
	check := func(l string) bool {
		for _, p := range statusPhrases[l] {
			if strings.Contains(w, " "+p+" ") {
				return true
			}
		}
		return false
	}
	l := textLang(lang)
	return check("en") || (l != "en" && check(l))
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	phoneRe = regexp.MustCompile(`\+?\d[\d\s().\-]{5,}\d`)
)

// findContact returns the email address or phone number in text, if any.
func findContact(text string) string {
	if m := emailRe.FindString(text); m != "" {
		return m
	}
	if m := phoneRe.FindString(text); m != "" {
		digits := 0
		for _, r := range m {
			if unicode.IsDigit(r) {
				digits++
			}
		}
		if digits >= 7 && digits <= 15 {
			return strings.TrimSpace(m)
		}
	}
	return ""
}
