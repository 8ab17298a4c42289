package slack

import (
	"fmt"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// renderCard draws a handoff card in Block Kit: who and where, language,
// intent and confidence, reason, sentiment, what the bot already answered,
// history, summary, last messages, the state, and the buttons that fit the
// state. Every customer-derived string is escaped. It also returns the
// notification fallback text.
func renderCard(k handoff.Card, now time.Time) ([]slackgo.Block, string) {
	name := Escape(clip(firstNonEmpty(k.Customer.Name, k.Customer.ID, "A customer"), 100))
	platform := Escape(firstNonEmpty(k.Platform, "unknown"))
	fallback := fmt.Sprintf("Handoff: %s on %s (%s)", name, platform, Escape(string(k.Reason)))

	blocks := []slackgo.Block{
		slackgo.NewHeaderBlock(plain(plainText(clip(firstNonEmpty(k.Customer.Name, k.Customer.ID, "A customer")+
			" on "+firstNonEmpty(k.Platform, "unknown"), 140)))),
	}

	lang := Escape(firstNonEmpty(k.Lang, "?"))
	if k.AgentLang != "" && k.AgentLang != k.Lang {
		lang += " (shown in " + Escape(k.AgentLang) + ")"
	}
	intent := "—"
	if k.Intent != "" {
		intent = fmt.Sprintf("%s (%.0f%%)", Escape(clip(k.Intent, 100)), 100*k.Confidence)
	}
	fields := []*slackgo.TextBlockObject{
		mrkdwn("*Language*\n" + lang),
		mrkdwn("*Intent*\n" + intent),
		mrkdwn("*Reason*\n" + Escape(firstNonEmpty(string(k.Reason), "—"))),
		mrkdwn("*Sentiment*\n" + sentiment(k.Sentiment)),
	}
	if !k.Since.IsZero() {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Waiting*\n%s (since <!date^%d^{time}|%s>)",
			wait(now.Sub(k.Since)), k.Since.Unix(), k.Since.UTC().Format("15:04 UTC"))))
	}
	if k.Position > 0 || k.Priority != 0 || k.Skill != "" {
		q := []string{}
		if k.Position > 0 {
			q = append(q, fmt.Sprintf("#%d in queue", k.Position))
		}
		if k.Priority != 0 {
			q = append(q, fmt.Sprintf("priority %d", k.Priority))
		}
		if k.Skill != "" {
			q = append(q, "skill "+Escape(k.Skill))
		}
		fields = append(fields, mrkdwn("*Queue*\n"+strings.Join(q, ", ")))
	}
	if k.Topic != "" {
		fields = append(fields, mrkdwn("*Topic*\n"+Escape(clip(k.Topic, 200))))
	}
	if k.Contact != "" {
		fields = append(fields, mrkdwn("*Contact*\n"+Escape(clip(k.Contact, 200))))
	}
	if !k.Opens.IsZero() {
		fields = append(fields, mrkdwn(fmt.Sprintf("*After hours*\nthe team opens <!date^%d^{date_short_pretty} {time}|%s>",
			k.Opens.Unix(), k.Opens.UTC().Format("2006-01-02 15:04 UTC"))))
	}
	blocks = append(blocks, slackgo.NewSectionBlock(nil, fields[:min(len(fields), 10)], nil))

	tried := "nothing yet"
	if len(k.Tried) > 0 {
		var b strings.Builder
		for i, t := range k.Tried {
			if i == 8 {
				fmt.Fprintf(&b, "\n… and %d more", len(k.Tried)-i)
				break
			}
			b.WriteString("\n• " + Escape(clip(t, 150)))
		}
		tried = b.String()
	}
	blocks = append(blocks, section("*The bot already answered* "+tried))
	blocks = append(blocks, section("*History* "+history(k.History)))
	if k.Summary != "" {
		blocks = append(blocks, section("*Summary*\n"+Escape(clip(k.Summary, 2500))))
	}
	if len(k.Last) > 0 {
		blocks = append(blocks, section("*Last messages*"+lastMessages(k)))
	}
	blocks = append(blocks, slackgo.NewContextBlock("state", mrkdwn(stateLine(k))))
	if act := cardActions(k); act != nil {
		blocks = append(blocks, act)
	}
	return blocks, fallback
}

func section(s string) slackgo.Block {
	return slackgo.NewSectionBlock(mrkdwn(clip(s, 3000)), nil, nil)
}

func sentiment(s string) string {
	switch s {
	case "negative":
		return ":slightly_frowning_face: negative"
	case "positive":
		return ":slightly_smiling_face: positive"
	case "":
		return "neutral"
	}
	return Escape(s)
}

func history(h []handoff.Past) string {
	if len(h) == 0 {
		return "first conversation"
	}
	last := "no rating"
	for _, p := range h {
		if p.CSAT > 0 {
			last = fmt.Sprintf("last CSAT %d/5", p.CSAT)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d previous conversation", len(h))
	if len(h) > 1 {
		b.WriteString("s")
	}
	b.WriteString(" · " + last)
	start := max(0, len(h)-3)
	for _, p := range h[start:] {
		fmt.Fprintf(&b, "\n• %s · %s · %s", p.Started.UTC().Format("2006-01-02"), Escape(p.Channel), Escape(p.Outcome))
		if p.CSAT > 0 {
			fmt.Fprintf(&b, " · CSAT %d", p.CSAT)
		}
		if p.Subject != "" {
			b.WriteString(" · “" + Escape(clip(p.Subject, 120)) + "”")
		}
	}
	return b.String()
}

func lastMessages(k handoff.Card) string {
	var b strings.Builder
	msgs := k.Last[max(0, len(k.Last)-8):]
	budget := 2800 / len(msgs)
	for _, m := range msgs {
		who := "Bot"
		switch m.Role {
		case bot.RoleCustomer:
			who = firstNonEmpty(k.Customer.Name, "Customer")
		case bot.RoleAgent:
			who = firstNonEmpty(m.Author, "Agent")
		case bot.RoleSystem:
			who = "Note"
		}
		text := strings.ReplaceAll(clip(m.Text, budget), "\n", " ")
		b.WriteString("\n> *" + Escape(clip(who, 60)) + ":* " + Escape(text))
	}
	return b.String()
}

func stateLine(k handoff.Card) string {
	switch k.State {
	case bot.StateAgent:
		return ":white_check_mark: Claimed by " + firstNonEmpty(holderText(k), "an agent")
	case bot.StateResolved:
		return ":checkered_flag: Resolved"
	case bot.StateBot:
		return ":robot_face: Back with the bot"
	}
	if k.Agent != "" {
		return ":hourglass_flowing_sand: Assigned to " + firstNonEmpty(holderText(handoff.Card{State: bot.StateAgent, Agent: k.Agent, AgentName: k.AgentName}), "an agent")
	}
	return ":hourglass_flowing_sand: Waiting for an agent"
}

// cardActions returns the buttons for the card's state: Claim while it
// waits, Release and Resolve while held, none when closed. Each button's
// value is the conversation ID.
func cardActions(k handoff.Card) slackgo.Block {
	id := string(k.Conv)
	switch k.State {
	case bot.StateQueued, "":
		claim := slackgo.NewButtonBlockElement(actClaim, id, plain("Claim"))
		claim.Style = slackgo.StylePrimary
		return slackgo.NewActionBlock("handoff", claim)
	case bot.StateAgent:
		release := slackgo.NewButtonBlockElement(actRelease, id, plain("Release"))
		resolve := slackgo.NewButtonBlockElement(actResolve, id, plain("Resolve"))
		resolve.Style = slackgo.StylePrimary
		return slackgo.NewActionBlock("handoff", release, resolve)
	}
	return nil
}
