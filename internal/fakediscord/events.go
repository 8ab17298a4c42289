package fakediscord

import (
	"time"

	"github.com/bwmarrin/discordgo"
)

// Configure points a discordgo session at the fake: its REST client goes
// through Transport, and Open gets the gateway URL from the fake.
func (s *Server) Configure(sess *discordgo.Session) {
	sess.Client = s.Client()
}

// User is a Discord user as events carry it.
type User struct {
	ID   string
	Name string
	Bot  bool
}

func (u User) json() map[string]any {
	name := u.Name
	if name == "" {
		name = "user" + u.ID
	}
	return map[string]any{"id": u.ID, "username": name, "global_name": name, "bot": u.Bot, "discriminator": "0"}
}

// Msg is a message someone writes; zero ID gets a fresh one, zero GuildID
// means a DM.
type Msg struct {
	ID        string
	GuildID   string
	ChannelID string
	Author    User
	Content   string
	Type      int // 0 default, 19 reply, others are system messages
	WebhookID string
}

// MessagePayload returns the MESSAGE_CREATE data for m (filling m.ID).
func (s *Server) MessagePayload(m *Msg) map[string]any {
	if m.ID == "" {
		m.ID = s.ID()
	}
	d := map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content,
		"author": m.Author.json(), "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"type": m.Type, "mentions": []any{}, "attachments": []any{}, "embeds": []any{}}
	if m.GuildID != "" {
		d["guild_id"] = m.GuildID
		d["member"] = map[string]any{"roles": []any{}}
	}
	if m.WebhookID != "" {
		d["webhook_id"] = m.WebhookID
	}
	return d
}

// Message dispatches MESSAGE_CREATE for m and returns its ID.
func (s *Server) Message(m Msg) string {
	d := s.MessagePayload(&m)
	s.Dispatch("MESSAGE_CREATE", d)
	return m.ID
}

// Cmd is a /support slash command invocation.
type Cmd struct {
	ID        string
	GuildID   string // "" for a DM
	ChannelID string
	User      User
	Name      string // default "support"
	Sub       string // subcommand: ask, human, status
	Options   map[string]string
	Locale    string
}

func (s *Server) interaction(id, guildID, channelID string, u User, locale string, typ int, data map[string]any) map[string]any {
	d := map[string]any{"id": id, "application_id": s.AppID, "type": typ, "token": "tok-" + id,
		"version": 1, "channel_id": channelID, "data": data, "locale": locale}
	if guildID != "" {
		d["guild_id"] = guildID
		d["member"] = map[string]any{"user": u.json(), "roles": []any{}}
	} else {
		d["user"] = u.json()
	}
	return d
}

// Command dispatches INTERACTION_CREATE for a slash command and returns the
// interaction ID.
func (s *Server) Command(c Cmd) string {
	if c.ID == "" {
		c.ID = s.ID()
	}
	if c.Name == "" {
		c.Name = "support"
	}
	if c.Locale == "" {
		c.Locale = "en-US"
	}
	var opts []map[string]any
	for k, v := range c.Options {
		opts = append(opts, map[string]any{"name": k, "type": 3, "value": v})
	}
	data := map[string]any{"id": "cmd-" + c.Name, "name": c.Name, "type": 1}
	if c.Sub != "" {
		data["options"] = []map[string]any{{"name": c.Sub, "type": 1, "options": opts}}
	}
	s.Dispatch("INTERACTION_CREATE", s.interaction(c.ID, c.GuildID, c.ChannelID, c.User, c.Locale, 2, data))
	return c.ID
}

// Click is a button press on a message the bot posted.
type Click struct {
	ID        string
	GuildID   string // "" for a DM
	ChannelID string
	User      User
	MessageID string
	CustomID  string
}

// Click dispatches INTERACTION_CREATE for a button press and returns the
// interaction ID.
func (s *Server) Click(c Click) string {
	if c.ID == "" {
		c.ID = s.ID()
	}
	d := s.interaction(c.ID, c.GuildID, c.ChannelID, c.User, "en-US", 3,
		map[string]any{"custom_id": c.CustomID, "component_type": 2})
	d["message"] = map[string]any{"id": c.MessageID, "channel_id": c.ChannelID, "content": "",
		"author": s.botUser(), "timestamp": time.Now().UTC().Format(time.RFC3339), "type": 0}
	s.Dispatch("INTERACTION_CREATE", d)
	return c.ID
}
