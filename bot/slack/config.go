package slack

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/supportbot/supportbot/handoff"
)

// Transport modes.
const (
	ModeSocket = "socket" // Socket Mode: outbound websocket, no public URL (default)
	ModeHTTP   = "http"   // Events API: Slack POSTs to Channel.Handler
)

// Config is the [slack] section of config.toml. Secrets are not here: they
// come from the environment as Tokens.
type Config struct {
	Enabled bool   `toml:"enabled"`
	Mode    string `toml:"mode"` // "socket" (default) or "http"
	// HandoffChannel is the channel ID (C…) where handoff cards are posted
	// and agents work in their threads.
	HandoffChannel string `toml:"handoff_channel"`
	// ManagerChannel (optional) gets level-2 escalations of complaints.
	ManagerChannel string `toml:"manager_channel"`
	// EscalationGroup (optional) is the user group ID (S…) mentioned on a
	// level-2 escalation; without it the handoff channel gets <!here>.
	EscalationGroup string `toml:"escalation_group"`
	// CustomerChannels are channel IDs whose messages are customer messages
	// (each top-level message starts a threaded conversation). Direct
	// messages to the bot are always customer messages.
	CustomerChannels []string `toml:"customer_channels"`
	// NotePrefix marks an agent's thread reply as an internal note
	// (case-insensitive); default "note:".
	NotePrefix string `toml:"note_prefix"`
	// PostsPerSecond paces posts per Slack channel; default 1 (Slack's
	// chat.postMessage limit), with a burst of 3.
	PostsPerSecond float64 `toml:"posts_per_second"`
}

// Inherit takes EscalationGroup, ManagerChannel and NotePrefix from the
// desk's [handoff] settings where they are empty here; call it before
// SetDefaults.
func (c *Config) Inherit(h handoff.Config) {
	if c.EscalationGroup == "" {
		c.EscalationGroup = h.EscalationGroup
	}
	if c.ManagerChannel == "" {
		c.ManagerChannel = h.ManagerChannel
	}
	if c.NotePrefix == "" {
		c.NotePrefix = h.NotePrefix
	}
}

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.Mode == "" {
		c.Mode = ModeSocket
	}
	if c.NotePrefix == "" {
		c.NotePrefix = "note:"
	}
	if c.PostsPerSecond <= 0 {
		c.PostsPerSecond = 1
	}
}

var (
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	groupID   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
)

// Validate reports every problem of an enabled config at once.
func (c *Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.Mode != ModeSocket && c.Mode != ModeHTTP {
		errs = append(errs, fmt.Errorf("slack.mode: %q is neither %q nor %q", c.Mode, ModeSocket, ModeHTTP))
	}
	if !channelID.MatchString(c.HandoffChannel) {
		errs = append(errs, fmt.Errorf("slack.handoff_channel: %q is not a channel ID (C…)", c.HandoffChannel))
	}
	if c.ManagerChannel != "" && !channelID.MatchString(c.ManagerChannel) {
		errs = append(errs, fmt.Errorf("slack.manager_channel: %q is not a channel ID (C…)", c.ManagerChannel))
	}
	if c.EscalationGroup != "" && !groupID.MatchString(c.EscalationGroup) {
		errs = append(errs, fmt.Errorf("slack.escalation_group: %q is not a user group ID (S…)", c.EscalationGroup))
	}
	for _, ch := range c.CustomerChannels {
		if !channelID.MatchString(ch) {
			errs = append(errs, fmt.Errorf("slack.customer_channels: %q is not a channel ID (C…)", ch))
		}
		if ch == c.HandoffChannel {
			errs = append(errs, fmt.Errorf("slack.customer_channels: %q is also the handoff channel", ch))
		}
	}
	if strings.TrimSpace(c.NotePrefix) == "" {
		errs = append(errs, errors.New("slack.note_prefix: empty"))
	}
	if c.PostsPerSecond <= 0 {
		errs = append(errs, errors.New("slack.posts_per_second: must be positive"))
	}
	return errors.Join(errs...)
}

// Tokens are the Slack secrets, read from the environment by the caller.
type Tokens struct {
	Bot     string // SLACK_BOT_TOKEN, xoxb-…: Web API calls
	App     string // SLACK_APP_TOKEN, xapp-… with connections:write: Socket Mode
	Signing string // SLACK_SIGNING_SECRET: verifies HTTP requests (mode "http")
}

// TokensFromEnv reads the tokens with getenv (os.Getenv).
func TokensFromEnv(getenv func(string) string) Tokens {
	return Tokens{Bot: getenv("SLACK_BOT_TOKEN"), App: getenv("SLACK_APP_TOKEN"), Signing: getenv("SLACK_SIGNING_SECRET")}
}

// ErrConfig is wrapped by New for a missing token or an invalid Config.
var ErrConfig = errors.New("slack: invalid configuration")

func (t Tokens) check(mode string) error {
	var errs []error
	if t.Bot == "" {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN is not set"))
	}
	if mode == ModeSocket && t.App == "" {
		errs = append(errs, errors.New("SLACK_APP_TOKEN is not set (needed for Socket Mode)"))
	}
	if mode == ModeHTTP && t.Signing == "" {
		errs = append(errs, errors.New("SLACK_SIGNING_SECRET is not set (needed for mode \"http\")"))
	}
	return errors.Join(errs...)
}
