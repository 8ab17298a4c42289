package discord

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Config is the [discord] section of config.toml. The bot token is not
// here: it comes from the environment (DISCORD_TOKEN) and is passed to New.
type Config struct {
	Enabled bool `toml:"enabled"`
	// AppID is the application ID (Developer Portal → General Information);
	// SetDefaults reads DISCORD_APP_ID when it is empty. It is needed for the
	// invite URL; Listen falls back to the ID in READY.
	AppID string `toml:"app_id"`
	// SupportChannels are the guild text channels (IDs) where customers
	// write; each top-level message there starts a thread, one conversation
	// per thread. DMs to the bot are always customer messages.
	SupportChannels []string `toml:"support_channels"`
	// Guilds (optional) is an allow-list of guild IDs; events from other
	// guilds are dropped, and /support is registered per guild (instantly)
	// instead of globally.
	Guilds []string `toml:"guilds"`
	// ShardID and ShardCount split the guilds between replicas: guild g
	// belongs to shard (g >> 22) % ShardCount. DMs go to shard 0. Default 0/1.
	ShardID    int `toml:"shard_id"`
	ShardCount int `toml:"shard_count"`
	// LeaseTTL bounds how long a dead replica keeps its shard; the holder
	// renews every LeaseTTL/3. Default 15s.
	LeaseTTL Duration `toml:"lease_ttl"`
	// LeaseRetry is how often a replica without the lease tries again;
	// default LeaseTTL/3.
	LeaseRetry Duration `toml:"lease_retry"`
	// Owner names this replica in the lease; default hostname-pid.
	Owner string `toml:"owner"`
	// AgentLabel follows a human agent's name: "**Alice** (support): …".
	// Default "support".
	AgentLabel string `toml:"agent_label"`
	// ThreadArchive is the thread auto-archive time in minutes (60, 1440,
	// 4320 or 10080); default 1440.
	ThreadArchive int `toml:"thread_archive_minutes"`
	// Workers handle gateway events in parallel (events of one channel stay
	// in order); default 4.
	Workers int `toml:"workers"`
	// Backoff is the first reconnect delay; it doubles up to a minute.
	// Default 1s.
	Backoff Duration `toml:"backoff"`
}

// Duration is a time.Duration written as text ("15s") in config files.
type Duration time.Duration

// UnmarshalText parses time.ParseDuration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// String is time.Duration's.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as time.Duration.String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// SetDefaults fills zero fields (AppID from DISCORD_APP_ID).
func (c *Config) SetDefaults() {
	if c.AppID == "" {
		c.AppID = os.Getenv("DISCORD_APP_ID")
	}
	if c.ShardCount <= 0 {
		c.ShardCount = 1
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = Duration(15 * time.Second)
	}
	if c.LeaseRetry <= 0 {
		c.LeaseRetry = c.LeaseTTL / 3
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = host + "-" + strconv.Itoa(os.Getpid())
	}
	if c.AgentLabel == "" {
		c.AgentLabel = "support"
	}
	if c.ThreadArchive == 0 {
		c.ThreadArchive = 1440
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Backoff <= 0 {
		c.Backoff = Duration(time.Second)
	}
}

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// Validate reports every problem of an enabled config at once.
func (c *Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.AppID != "" && !snowflake.MatchString(c.AppID) {
		errs = append(errs, fmt.Errorf("discord.app_id: %q is not an application ID", c.AppID))
	}
	for _, id := range c.SupportChannels {
		if !snowflake.MatchString(id) {
			errs = append(errs, fmt.Errorf("discord.support_channels: %q is not a channel ID", id))
		}
	}
	for _, id := range c.Guilds {
		if !snowflake.MatchString(id) {
			errs = append(errs, fmt.Errorf("discord.guilds: %q is not a guild ID", id))
		}
	}
	if c.ShardCount < 1 || c.ShardID < 0 || c.ShardID >= c.ShardCount {
		errs = append(errs, fmt.Errorf("discord.shard_id: %d is not in [0, shard_count=%d)", c.ShardID, c.ShardCount))
	}
	switch c.ThreadArchive {
	case 60, 1440, 4320, 10080:
	default:
		errs = append(errs, fmt.Errorf("discord.thread_archive_minutes: %d is not 60, 1440, 4320 or 10080", c.ThreadArchive))
	}
	if c.LeaseTTL > 0 && c.LeaseTTL < Duration(3*time.Second) {
		errs = append(errs, fmt.Errorf("discord.lease_ttl: %v is shorter than 3s", time.Duration(c.LeaseTTL)))
	}
	return errors.Join(errs...)
}

// Intents are the gateway intents the adapter identifies with:
//   - Guilds: thread and channel events (the thread a conversation lives in);
//   - GuildMessages: messages in support channels and their threads;
//   - DirectMessages: DMs to the bot;
//   - MessageContent (privileged): the text of guild messages. Enable
//     "Message Content Intent" in the Developer Portal (Bot page).
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsDirectMessages | discordgo.IntentMessageContent

// Permissions are exactly the permissions the bot uses, for the invite:
// view channels, send messages (and typing), send messages in threads,
// create public threads (a thread per conversation) and read message
// history (to start a thread from the customer's message). No embeds,
// attachments, reactions, mentions or moderation.
const Permissions int64 = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
	discordgo.PermissionSendMessagesInThreads | discordgo.PermissionCreatePublicThreads |
	discordgo.PermissionReadMessageHistory

// InviteURL returns the OAuth2 link that adds the bot to a server with
// scopes bot and applications.commands and exactly Permissions. It needs no
// token.
func InviteURL(appID string) string {
	q := url.Values{}
	q.Set("client_id", appID)
	q.Set("permissions", strconv.FormatInt(Permissions, 10))
	q.Set("scope", "bot applications.commands")
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}
