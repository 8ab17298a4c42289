package discord

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/supportbot/supportbot/bot"
)

// customIDPrefix marks the adapter's buttons: custom_id is "sb:" + value
// (or "sb<n>:" + value when two buttons of a message share a value).
const customIDPrefix = "sb"

// commands is the /support command with subcommands ask, human and status,
// usable in guilds and in DMs with the bot.
func commands() []*discordgo.ApplicationCommand {
	dm := true
	ctxs := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	return []*discordgo.ApplicationCommand{{
		Name: "support", Description: "Get help from the support team",
		Type: discordgo.ChatApplicationCommand, DMPermission: &dm, Contexts: &ctxs,
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "ask", Description: "Ask a question",
				Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString,
					Name: "question", Description: "Your question", Required: true, MaxLength: 1500}}},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "human", Description: "Talk to a person"},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "status", Description: "Where do I stand in the queue?"},
		},
	}}
}

// register overwrites the application's commands once per Listen, from
// shard 0 only: per allowed guild (instant) or globally. Failures are
// logged and retried after the next connect.
func (c *Channel) register(ctx context.Context) {
	if c.registered || c.cfg.ShardID != 0 {
		return
	}
	app := c.appID.Load().(string)
	if app == "" {
		c.log.Warn("no application ID; /support not registered (set discord.app_id or DISCORD_APP_ID)")
		return
	}
	guilds := c.cfg.Guilds
	if len(guilds) == 0 {
		guilds = []string{""}
	}
	for _, g := range guilds {
		err := c.call(ctx, func(o discordgo.RequestOption) error {
			_, err := c.rest.ApplicationCommandBulkOverwrite(app, g, commands(), o)
			return err
		})
		if err != nil {
			c.log.Warn("register /support", "guild_id", g, "err", err)
			return
		}
	}
	c.registered = true
}

// fromInteraction turns a /support command or a click on one of our
// buttons into an Inbound (nil otherwise), after acknowledging it.
func (c *Channel) fromInteraction(ctx context.Context, i *discordgo.Interaction) *bot.Inbound {
	if i == nil || i.ID == "" || i.Token == "" || i.ChannelID == "" {
		c.log.Warn("malformed interaction dropped")
		return nil
	}
	u := i.User
	if i.Member != nil && i.Member.User != nil {
		u = i.Member.User
	}
	if u == nil || u.ID == "" {
		c.log.Warn("interaction without a user dropped", "interaction_id", i.ID)
		return nil
	}
	if u.Bot || !c.guildAllowed(i.GuildID) {
		return nil
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		return c.fromCommand(ctx, i, u)
	case discordgo.InteractionMessageComponent:
		return c.fromClick(ctx, i, u)
	}
	return nil
}

func (c *Channel) fromCommand(ctx context.Context, i *discordgo.Interaction, u *discordgo.User) *bot.Inbound {
	data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok || data.Name != "support" || len(data.Options) == 0 || data.Options[0] == nil {
		return nil
	}
	sub := data.Options[0]
	meta := map[string]string{"discord_user": u.ID, "command": sub.Name, "locale": string(i.Locale)}
	var text string
	switch sub.Name {
	case "ask":
		for _, o := range sub.Options {
			if o != nil && o.Name == "question" {
				text, _ = o.Value.(string)
			}
		}
		text = strings.TrimSpace(text)
		if text == "" {
			c.ack(ctx, i, "Please write your question after /support ask.")
			return nil
		}
	case "human":
		text, meta["request"] = "human", "human"
	case "status":
		text, meta["request"] = "status", "status"
	default:
		return nil
	}
	space, room, err := c.commandRoom(ctx, i, u, text)
	if err != nil {
		c.log.Error("no place to answer /support", "channel_id", i.ChannelID, "err", err)
		c.ack(ctx, i, "Sorry, I cannot answer here. Please send me a direct message.")
		return nil
	}
	switch {
	case room == i.ChannelID:
		c.ack(ctx, i, map[string]string{"ask": "Got it, one moment…", "human": "Getting you a person…", "status": "Checking…"}[sub.Name])
	case space == "":
		c.ack(ctx, i, "I'll answer you in our direct messages.")
	default:
		c.ack(ctx, i, "I'll answer you in <#"+room+">.")
	}
	return &bot.Inbound{Key: "discord:" + i.ID, Msg: bot.Message{
		ID: i.ID, From: bot.Address{Channel: "discord", Space: space, Room: room},
		Customer: customer(u, i.Member), Role: bot.RoleCustomer, Text: text, At: stamp(i.ID), Meta: meta,
	}}
}

// commandRoom picks where a /support conversation lives: the DM or support
// thread it was used in; a new thread when used in a support channel; the
// user's DMs anywhere else.
func (c *Channel) commandRoom(ctx context.Context, i *discordgo.Interaction, u *discordgo.User, text string) (space, room string, err error) {
	k, err := c.kindOf(ctx, i.GuildID, i.ChannelID)
	if err != nil {
		return "", "", err
	}
	switch k {
	case kindDM:
		return "", i.ChannelID, nil
	case kindThread:
		return i.GuildID, i.ChannelID, nil
	case kindSupport:
		var th *discordgo.Channel
		err = c.call(ctx, func(o discordgo.RequestOption) (err error) {
			th, err = c.rest.ThreadStartComplex(i.ChannelID, &discordgo.ThreadStart{
				Name: threadName(customer(u, i.Member).Name, text), Type: discordgo.ChannelTypeGuildPublicThread,
				AutoArchiveDuration: c.cfg.ThreadArchive}, o)
			return err
		})
		if err != nil {
			return "", "", err
		}
		c.kinds.put(th.ID, kindThread)
		if err := c.call(ctx, func(o discordgo.RequestOption) error { return c.rest.ThreadMemberAdd(th.ID, u.ID, o) }); err != nil {
			c.log.Warn("add customer to thread", "thread_id", th.ID, "err", err)
		}
		return i.GuildID, th.ID, nil
	}
	var dm *discordgo.Channel
	err = c.call(ctx, func(o discordgo.RequestOption) (err error) {
		dm, err = c.rest.UserChannelCreate(u.ID, o)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return "", dm.ID, nil
}

// fromClick delivers a press on one of our buttons as the customer writing
// the button's value, after a deferred-update ack.
func (c *Channel) fromClick(ctx context.Context, i *discordgo.Interaction, u *discordgo.User) *bot.Inbound {
	data, ok := i.Data.(discordgo.MessageComponentInteractionData)
	if !ok {
		return nil
	}
	value, ok := choiceValue(data.CustomID)
	if !ok {
		return nil
	}
	k, err := c.kindOf(ctx, i.GuildID, i.ChannelID)
	if err != nil || (k != kindDM && k != kindThread) {
		return nil
	}
	if err := c.call(ctx, func(o discordgo.RequestOption) error {
		return c.rest.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, o)
	}); err != nil {
		c.log.Debug("ack button", "interaction_id", i.ID, "err", err)
	}
	meta := map[string]string{"discord_user": u.ID, "button": "true"}
	if i.Message != nil {
		meta["discord_message"] = i.Message.ID
	}
	return &bot.Inbound{Key: "discord:" + i.ID, Msg: bot.Message{
		ID: i.ID, From: bot.Address{Channel: "discord", Space: i.GuildID, Room: i.ChannelID},
		Customer: customer(u, i.Member), Role: bot.RoleCustomer, Text: value, At: stamp(i.ID), Meta: meta,
	}}
}

// choiceValue parses a custom_id made by customID.
func choiceValue(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, customIDPrefix)
	if !ok {
		return "", false
	}
	n := strings.IndexByte(rest, ':')
	if n < 0 || strings.Trim(rest[:n], "0123456789") != "" {
		return "", false
	}
	return rest[n+1:], true
}

// ack answers a slash command with an ephemeral message (only the user sees it).
func (c *Channel) ack(ctx context.Context, i *discordgo.Interaction, text string) {
	err := c.call(ctx, func(o discordgo.RequestOption) error {
		return c.rest.InteractionRespond(i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: text, Flags: discordgo.MessageFlagsEphemeral,
				AllowedMentions: noMentions()}}, o)
	})
	if err != nil {
		c.log.Debug("ack command", "interaction_id", i.ID, "err", err)
	}
}
