package handoff

import (
	"strconv"
	"strings"

	"github.com/supportbot/supportbot/bot"
)

// csatQuestion is the one satisfaction question asked after a resolve.
func csatQuestion(lang string) bot.Reply {
	choices := make([]bot.Choice, 5)
	for i := range choices {
		n := strconv.Itoa(i + 1)
		choices[i] = bot.Choice{Label: n, Value: csatPrefix + n}
	}
	return bot.Reply{Kind: bot.KindCSAT, Text: say(lang, msgCSAT), Choices: choices}
}

// rating reads "csat:4" (a button) or a bare "4".
func rating(text string) (int, bool) {
	t := strings.TrimSpace(text)
	t = strings.TrimPrefix(t, csatPrefix)
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > 5 {
		return 0, false
	}
	return n, true
}

// csat handles the customer's answer to the CSAT question and the one
// comment after it. It reports whether the message was part of the CSAT
// exchange; anything else reopens the conversation.
func (d *Desk) csat(t *bot.Turn) bool {
	c := t.Conv
	text := strings.TrimSpace(t.Msg.Text)
	lang := c.Lang
	score, isRating := rating(text)
	event := func(score int) {
		t.Record(bot.Event{Type: EventCSAT, Agent: c.Agent, Value: float64(score), Reason: c.Reason,
			Meta: map[string]string{"by_agent": strconv.FormatBool(c.CSAT.ByAgent)}})
	}
	switch {
	case c.AwaitCSAT && isRating:
		c.AwaitCSAT = false
		c.CSAT = &bot.CSAT{Score: score, ByAgent: c.Agent != "", At: t.Now}
		c.Set(dataCSATStage, "comment")
		event(score)
		t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(lang, msgCSATComment),
			Choices: []bot.Choice{{Label: say(lang, msgCSATSkip), Value: valueCSATSkip}}})
		return true
	case c.AwaitCSAT && text == valueCSATSkip:
		c.AwaitCSAT = false
		t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(lang, msgCSATThanks)})
		return true
	case c.Data[dataCSATStage] == "comment":
		delete(c.Data, dataCSATStage)
		switch {
		case text == valueCSATSkip:
		case isRating && c.CSAT != nil: // changed their mind: a new rating, still one comment
			c.CSAT.Score, c.CSAT.At = score, t.Now
			c.Set(dataCSATStage, "comment")
			event(score)
			return true
		case c.CSAT != nil:
			c.CSAT.Comment = text
			t.Record(bot.Event{Type: EventCSATComment, Agent: c.Agent, Value: float64(c.CSAT.Score), Text: text})
		}
		t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(lang, msgCSATThanks)})
		return true
	case strings.HasPrefix(text, csatPrefix) && c.CSAT != nil: // a late click on the old buttons
		t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(lang, msgCSATAlready)})
		return true
	}
	return false
}

// lateCSAT takes a rating button pressed after the conversation went back
// to the bot (the customer wrote something else first). It reports whether
// the message was such a press.
func (d *Desk) lateCSAT(t *bot.Turn) bool {
	c := t.Conv
	text := strings.TrimSpace(t.Msg.Text)
	if !strings.HasPrefix(text, csatPrefix) || c.Resolved.IsZero() {
		return false
	}
	score, ok := rating(text)
	switch {
	case text == valueCSATSkip:
		return true
	case !ok:
		return false
	case c.CSAT != nil && !c.CSAT.At.Before(c.Resolved):
		t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(c.Lang, msgCSATAlready)})
		return true
	}
	agent := ""
	for _, h := range c.History {
		if h.To == bot.StateResolved {
			agent = h.Agent
		}
	}
	c.CSAT = &bot.CSAT{Score: score, ByAgent: agent != "", At: t.Now}
	t.Record(bot.Event{Type: EventCSAT, Agent: agent, Value: float64(score),
		Meta: map[string]string{"by_agent": strconv.FormatBool(agent != ""), "late": "true"}})
	t.Reply(bot.Reply{Kind: bot.KindNotice, Text: say(c.Lang, msgCSATThanks)})
	return true
}
