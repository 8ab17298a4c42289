package slack

import (
	"context"
	"fmt"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/supportbot/supportbot/handoff"
)

const commandHelp = "Usage: `/support on` (take handoffs), `/support away` (keep yours, no new ones), " +
	"`/support off`, `/support status`, `/support queue`."

// onCommand answers /support privately (response_url, or ephemeral).
func (c *Channel) onCommand(r *runner, cmd slackgo.SlashCommand) {
	r.do("cmd:"+cmd.UserID, func(ctx context.Context) {
		c.respond(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, c.command(ctx, cmd))
	})
}

func (c *Channel) command(ctx context.Context, cmd slackgo.SlashCommand) string {
	d, err := c.getDesk()
	if err != nil {
		return "No handoff desk is running."
	}
	word := strings.ToLower(strings.TrimSpace(cmd.Text))
	switch word {
	case "on", "off", "away":
		a := c.agent(ctx, d, cmd.UserID)
		if err := d.SetStatus(ctx, a, handoff.Availability(word)); err != nil {
			return "Could not change your status: " + Escape(err.Error())
		}
		switch word {
		case "on":
			return "You are *on*: new handoffs can reach you."
		case "away":
			return "You are *away*: you keep your conversations but get no new ones."
		}
		return "You are *off*."
	case "status":
		agents, err := d.Agents(ctx)
		if err != nil {
			return "Could not read the agents: " + Escape(err.Error())
		}
		for _, a := range agents {
			if a.ID == Name+":"+cmd.UserID {
				return fmt.Sprintf("You are *%s*, holding %d of %d conversations.", a.Status, a.Active, max(1, a.Capacity))
			}
		}
		return "You are not an agent yet; `/support on` makes you one."
	case "queue":
		cards, err := d.Queue(ctx)
		if err != nil {
			return "Could not read the queue: " + Escape(err.Error())
		}
		return c.queueText(cards)
	}
	return commandHelp
}

func (c *Channel) queueText(cards []handoff.Card) string {
	if len(cards) == 0 {
		return "Nobody is waiting."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d waiting:*", len(cards))
	for i, k := range cards {
		if i == 15 {
			fmt.Fprintf(&b, "\n… and %d more", len(cards)-i)
			break
		}
		name := firstNonEmpty(k.Customer.Name, k.Customer.ID, "customer")
		fmt.Fprintf(&b, "\n%d. %s (%s, %s, %s) waiting %s", i+1, Escape(clip(name, 80)), Escape(k.Platform),
			Escape(k.Lang), Escape(string(k.Reason)), wait(c.now().Sub(k.Since)))
		if ch, ts := k.Refs[RefChannel], k.Refs[RefTS]; ch != "" && ts != "" {
			fmt.Fprintf(&b, " <%s|card>", permalink(ch, ts))
		}
	}
	return b.String()
}

// wait renders a waiting time: "45s", "12m", "3h05m".
func wait(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// permalink is the web link of a message (Slack redirects it to the app).
func permalink(channel, ts string) string {
	return "https://slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}
