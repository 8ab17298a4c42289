package handoff

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Routing modes of Config.Routing.
const (
	// Broadcast posts the card to the handoff channel of every workspace; the
	// first agent to claim it wins.
	Broadcast = "broadcast"
	// Assign gives the conversation to one available agent chosen by the
	// Selector (skills, language, capacity, least-loaded first).
	Assign = "assign"
)

// After-hours behaviours of Config.AfterHours.
const (
	// AfterHoursWait keeps the customer in the queue until the team is back.
	AfterHoursWait = "wait"
	// AfterHoursContact also asks for an email address or phone number so
	// the team can follow up, and reminds the team when it opens.
	AfterHoursContact = "contact"
)

// Defaults of Config.
const (
	DefaultRenotifyAfter = 5 * time.Minute
	DefaultEscalateAfter = 15 * time.Minute
	DefaultNotePrefix    = "note:"
	DefaultHistoryLen    = 6
	DefaultETASamples    = 20
	DefaultETAWindow     = 7 * 24 * time.Hour
	DefaultUpdateEvery   = 3 * time.Minute
	DefaultTick          = time.Second
)

// Config tunes the desk ([handoff] in config.toml). Zero values take the
// defaults in SetDefaults. Durations are time.Duration; a TOML loader decodes
// them from strings such as "5m" through its own text type.
type Config struct {
	// Routing is Broadcast (default) or Assign.
	Routing string `toml:"routing"`
	// RenotifyAfter is how long a card may wait unclaimed before the desk
	// reminds the workspaces (Workspace.Remind level 1); default 5m.
	RenotifyAfter time.Duration `toml:"renotify_after"`
	// EscalateAfter is how long a card may wait unclaimed before it is
	// escalated (level 2); default 15m; must be longer than RenotifyAfter.
	EscalateAfter time.Duration `toml:"escalate_after"`
	// EscalationGroup is the user group mentioned on escalation (a Slack
	// user group ID such as "S0123"); workspaces read it.
	EscalationGroup string `toml:"escalation_group"`
	// ManagerChannel is where complaints escalate; workspaces read it.
	ManagerChannel string `toml:"manager_channel"`
	// Hours are the team's opening hours; empty means always open.
	Hours BusinessHours `toml:"hours"`
	// AfterHours is AfterHoursWait (default) or AfterHoursContact.
	AfterHours string `toml:"after_hours"`
	// NotePrefix starts an agent's internal note (default "note:").
	NotePrefix string `toml:"note_prefix"`
	// HistoryLen is how many recent messages the card shows (default 6).
	HistoryLen int `toml:"history_len"`
	// ETASamples is how many recent claim waits the wait estimate uses
	// (their median; default 20).
	ETASamples int `toml:"eta_samples"`
	// ETAWindow is how far back claim waits are looked for (default 7 days).
	ETAWindow time.Duration `toml:"eta_window"`
	// UpdateEvery is the least time between two unprompted queue-position
	// updates to one customer (default 3m); reaching position 1 to 3 is
	// always told.
	UpdateEvery time.Duration `toml:"update_every"`
	// Tick is how often Run looks for due timers and work (default 1s).
	Tick time.Duration `toml:"tick"`
}

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.Routing == "" {
		c.Routing = Broadcast
	}
	if c.RenotifyAfter <= 0 {
		c.RenotifyAfter = DefaultRenotifyAfter
	}
	if c.EscalateAfter <= 0 {
		c.EscalateAfter = max(DefaultEscalateAfter, 3*c.RenotifyAfter)
	}
	if c.AfterHours == "" {
		c.AfterHours = AfterHoursWait
	}
	if c.NotePrefix == "" {
		c.NotePrefix = DefaultNotePrefix
	}
	if c.HistoryLen <= 0 {
		c.HistoryLen = DefaultHistoryLen
	}
	if c.ETASamples <= 0 {
		c.ETASamples = DefaultETASamples
	}
	if c.ETAWindow <= 0 {
		c.ETAWindow = DefaultETAWindow
	}
	if c.UpdateEvery <= 0 {
		c.UpdateEvery = DefaultUpdateEvery
	}
	if c.Tick <= 0 {
		c.Tick = DefaultTick
	}
}

// Validate reports every invalid setting, joined. Call it after SetDefaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("handoff.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch c.Routing {
	case Broadcast, Assign:
	default:
		bad("routing", "%q: want %q or %q", c.Routing, Broadcast, Assign)
	}
	switch c.AfterHours {
	case AfterHoursWait, AfterHoursContact:
	default:
		bad("after_hours", "%q: want %q or %q", c.AfterHours, AfterHoursWait, AfterHoursContact)
	}
	if c.RenotifyAfter <= 0 {
		bad("renotify_after", "must be positive")
	}
	if c.EscalateAfter <= c.RenotifyAfter {
		bad("escalate_after", "%v must be longer than renotify_after (%v)", c.EscalateAfter, c.RenotifyAfter)
	}
	if strings.TrimSpace(c.NotePrefix) == "" {
		bad("note_prefix", "must not be empty")
	}
	if c.HistoryLen <= 0 || c.HistoryLen > 100 {
		bad("history_len", "%d: want 1..100", c.HistoryLen)
	}
	if c.ETASamples <= 0 {
		bad("eta_samples", "must be positive")
	}
	if c.ETAWindow <= 0 || c.UpdateEvery <= 0 || c.Tick <= 0 {
		bad("eta_window/update_every/tick", "must be positive")
	}
	if _, err := c.Hours.compile(); err != nil {
		bad("hours", "%v", err)
	}
	return errors.Join(errs...)
}
