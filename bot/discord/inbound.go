package discord

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"github.com/supportbot/supportbot/bot"
)

// kind is what a Discord channel is to the adapter.
type kind uint8

const (
	kindOther   kind = iota // not ours: ignored
	kindDM                  // a DM with the bot
	kindSupport             // a configured support channel: new threads start here
	kindThread              // a thread of a support channel: one conversation
)

// kindCache remembers channel kinds learned over REST (bounded).
type kindCache struct {
	mu sync.Mutex
	m  map[string]kind
}

func (k *kindCache) get(id string) (kind, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[id]
	return v, ok
}

func (k *kindCache) put(id string, v kind) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.m) >= 50000 {
		clear(k.m)
	}
	k.m[id] = v
}

// kindOf classifies a channel: DMs have no guild, support channels are
// configured, and a thread is ours if its parent is a support channel.
func (c *Channel) kindOf(ctx context.Context, guildID, channelID string) (kind, error) {
	switch {
	case guildID == "":
		return kindDM, nil
	case c.support[channelID]:
		return kindSupport, nil
	}
	if k, ok := c.kinds.get(channelID); ok {
		return k, nil
	}
	var ch *discordgo.Channel
	err := c.call(ctx, func(o discordgo.RequestOption) (err error) {
		ch, err = c.rest.Channel(channelID, o)
		return err
	})
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && (re.Response.StatusCode == 403 || re.Response.StatusCode == 404) {
		c.kinds.put(channelID, kindOther) // not visible to the bot: not ours
		return kindOther, nil
	}
	if err != nil {
		return kindOther, err
	}
	k := kindOther
	if ch.IsThread() && c.support[ch.ParentID] {
		k = kindThread
	}
	c.kinds.put(channelID, k)
	return k, nil
}

func (c *Channel) guildAllowed(guildID string) bool {
	return guildID == "" || len(c.guilds) == 0 || c.guilds[guildID]
}

// fromMessage turns a MESSAGE_CREATE into an Inbound, or nil if it is not
// a customer message for us (bots, itself, webhooks, system messages, other
// channels). A top-level message in a support channel first gets its thread.
func (c *Channel) fromMessage(ctx context.Context, m *discordgo.Message) *bot.Inbound {
	if m == nil || m.ID == "" || m.ChannelID == "" || m.Author == nil || m.Author.ID == "" {
		c.log.Warn("malformed message dropped")
		return nil
	}
	if m.Author.Bot || m.Author.System || m.Author.ID == c.self.Load().(string) || m.WebhookID != "" {
		return nil
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return nil
	}
	if !c.guildAllowed(m.GuildID) {
		return nil
	}
	text := c.text(m)
	if text == "" {
		return nil
	}
	k, err := c.kindOf(ctx, m.GuildID, m.ChannelID)
	if err != nil {
		c.log.Warn("cannot classify channel; message dropped", "channel_id", m.ChannelID, "err", err)
		return nil
	}
	room := m.ChannelID
	switch k {
	case kindDM, kindThread:
	case kindSupport:
		room, err = c.threadFor(ctx, m, text)
		if err != nil {
			c.log.Error("cannot start a thread for a customer message (does the bot have Create Public Threads?)",
				"channel_id", m.ChannelID, "message_id", m.ID, "err", err)
			return nil
		}
	default:
		return nil
	}
	return &bot.Inbound{Key: "discord:" + m.ID, Msg: bot.Message{
		ID:       m.ID,
		From:     bot.Address{Channel: "discord", Space: m.GuildID, Room: room},
		Customer: customer(m.Author, m.Member),
		Role:     bot.RoleCustomer,
		Text:     text,
		At:       m.Timestamp,
		Meta:     map[string]string{"discord_user": m.Author.ID, "discord_message": m.ID, "discord_channel": m.ChannelID},
	}}
}

// text is the message content without the bot's own mention, with
// attachment links appended so an agent sees them.
func (c *Channel) text(m *discordgo.Message) string {
	t := m.Content
	if self := c.self.Load().(string); self != "" {
		t = strings.NewReplacer("<@"+self+">", "", "<@!"+self+">", "").Replace(t)
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(t))
	for _, a := range m.Attachments {
		if a != nil && a.URL != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(a.URL)
		}
	}
	return b.String()
}

func customer(u *discordgo.User, mem *discordgo.Member) bot.Customer {
	name := u.GlobalName
	if mem != nil && mem.Nick != "" {
		name = mem.Nick
	}
	if name == "" {
		name = u.Username
	}
	return bot.Customer{ID: "discord:" + u.ID, Name: name}
}

// threadFor starts the conversation's thread from the customer's message.
// Discord gives such a thread the message's ID, so a replay of the same
// message (a RESUME) finds it again instead of failing.
func (c *Channel) threadFor(ctx context.Context, m *discordgo.Message, text string) (string, error) {
	var th *discordgo.Channel
	err := c.call(ctx, func(o discordgo.RequestOption) (err error) {
		th, err = c.rest.MessageThreadStartComplex(m.ChannelID, m.ID, &discordgo.ThreadStart{
			Name: threadName(customer(m.Author, m.Member).Name, text), Type: discordgo.ChannelTypeGuildPublicThread,
			AutoArchiveDuration: c.cfg.ThreadArchive}, o)
		return err
	})
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil && re.Message.Code == discordgo.ErrCodeThreadAlreadyCreatedForThisMessage {
		c.kinds.put(m.ID, kindThread)
		return m.ID, nil
	}
	if err != nil {
		return "", err
	}
	c.kinds.put(th.ID, kindThread)
	return th.ID, nil
}

// threadName is "<name>: <first words>", at most 100 runes, on one line.
func threadName(who, text string) string {
	s := strings.Join(strings.FieldsFunc(who+": "+text, unicode.IsSpace), " ")
	r := []rune(s)
	if len(r) > 90 {
		s = strings.TrimSpace(string(r[:90])) + "…"
	}
	return s
}

// stamp returns the creation time encoded in a snowflake ID (zero if none).
func stamp(id string) time.Time {
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil {
		return time.Time{}
	}
	return t
}
