package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/discord"
	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/internal/conf"
	"github.com/supportbot/supportbot/llm"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/web"
)

// Config is config.toml. Secrets never live here: they come from the
// environment (SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET,
// DISCORD_TOKEN, OPENAI_API_KEY, REDIS_URL).
type Config struct {
	Bot     BotConfig      `toml:"bot"`
	HTTP    HTTPConfig     `toml:"http"`
	Log     LogConfig      `toml:"log"`
	Store   store.Config   `toml:"store"`
	Router  RouterConfig   `toml:"router"`
	Handoff HandoffConfig  `toml:"handoff"`
	Slack   slack.Config   `toml:"slack"`
	Discord discord.Config `toml:"discord"`
	LLM     llm.Config     `toml:"llm"`
}

type BotConfig struct {
	HandlerTimeout  conf.Duration `toml:"handler_timeout"`
	ShutdownTimeout conf.Duration `toml:"shutdown_timeout"`
	MaxText         int           `toml:"max_text"`
	MaxTurns        int           `toml:"max_turns"`  // turns run at once
	RateLimit       float64       `toml:"rate_limit"` // messages per second one customer may send
	RateBurst       int           `toml:"rate_burst"` // messages one customer may send at once
}

type HTTPConfig struct {
	Addr          string   `toml:"addr"`
	MaxBody       int64    `toml:"max_body"`       // bytes of one request body; larger: 413
	WidgetOrigins []string `toml:"widget_origins"` // sites allowed to embed the chat widget; empty: any
}

type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

type RouterConfig struct {
	KBDir       string        `toml:"kb_dir"`
	DefaultLang string        `toml:"default_lang"`
	AnswerAt    float64       `toml:"answer_at"`
	SuggestAt   float64       `toml:"suggest_at"`
	MaxMisses   int           `toml:"max_misses"`
	SyncEvery   conf.Duration `toml:"sync_every"`
}

type HandoffConfig struct {
	Routing         string                `toml:"routing"`
	RenotifyAfter   conf.Duration         `toml:"renotify_after"`
	EscalateAfter   conf.Duration         `toml:"escalate_after"`
	EscalationGroup string                `toml:"escalation_group"`
	ManagerChannel  string                `toml:"manager_channel"`
	AfterHours      string                `toml:"after_hours"`
	NotePrefix      string                `toml:"note_prefix"`
	HistoryLen      int                   `toml:"history_len"`
	UpdateEvery     conf.Duration         `toml:"update_every"`
	Hours           handoff.BusinessHours `toml:"hours"`
}

// defaults returns the configuration used when a key is absent.
func defaults() Config {
	var c Config
	c.Bot = BotConfig{HandlerTimeout: conf.Duration{Duration: 10 * time.Second},
		ShutdownTimeout: conf.Duration{Duration: 15 * time.Second}, MaxText: 4000, MaxTurns: 1024}
	c.HTTP.Addr = "127.0.0.1:8080"
	c.HTTP.MaxBody = 4 << 20
	c.Bot.RateLimit, c.Bot.RateBurst = 0.5, 8
	c.Log = LogConfig{Level: "info", Format: "text"}
	c.Store.SetDefaults()
	c.Router = RouterConfig{KBDir: "kb", DefaultLang: "en", SuggestAt: 0.15, MaxMisses: 2,
		SyncEvery: conf.Duration{Duration: 250 * time.Millisecond}}
	hc := handoff.Config{}
	hc.SetDefaults()
	c.Handoff = HandoffConfig{Routing: hc.Routing, RenotifyAfter: conf.Duration{Duration: hc.RenotifyAfter},
		EscalateAfter: conf.Duration{Duration: hc.EscalateAfter}, AfterHours: hc.AfterHours,
		NotePrefix: hc.NotePrefix, HistoryLen: hc.HistoryLen, UpdateEvery: conf.Duration{Duration: hc.UpdateEvery}}
	c.LLM = llm.Default()
	return c
}

// loadConfig reads path over the defaults, applies the environment and
// validates. A missing file is fine only when it was not asked for.
func loadConfig(path string, explicit bool) (Config, error) {
	c := defaults()
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !explicit:
		data = nil
	case err != nil:
		return c, fmt.Errorf("%w: %v", conf.ErrInvalid, err)
	default:
		if err := conf.Decode(path, data, &c); err != nil {
			return c, err
		}
	}
	if v, ok := os.LookupEnv("SUPPORTBOT_HTTP_ADDR"); ok && v != "" {
		c.HTTP.Addr = v
	}
	c.Store.SetDefaults() // reads REDIS_URL
	c.LLM.FromEnv(os.LookupEnv)
	return c, conf.Locate(path, data, c.validate())
}

// redisKeys are the [store.redis] keys whose errors name them, so the error
// points at their line.
var redisKeys = map[string]bool{"addrs": true, "key_prefix": true, "inbox_partitions": true,
	"inbox_claim_after": true, "inbox_batch": true}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, f string, a ...any) { errs = append(errs, conf.Errorf(key, f, a...)) }
	if c.Bot.HandlerTimeout.Duration <= 0 {
		bad("bot.handler_timeout", "must be positive")
	}
	if c.Bot.MaxText < 100 || c.Bot.MaxText > 100_000 {
		bad("bot.max_text", "must be between 100 and 100000 bytes, got %d", c.Bot.MaxText)
	}
	if c.Bot.MaxTurns < 1 || c.Bot.MaxTurns > 100_000 {
		bad("bot.max_turns", "must be between 1 and 100000, got %d", c.Bot.MaxTurns)
	}
	if c.Bot.RateLimit <= 0 || c.Bot.RateLimit > 1000 {
		bad("bot.rate_limit", "must be between 0 and 1000 messages per second, got %v", c.Bot.RateLimit)
	}
	if c.Bot.RateBurst < 1 || c.Bot.RateBurst > 10_000 {
		bad("bot.rate_burst", "must be between 1 and 10000, got %d", c.Bot.RateBurst)
	}
	if c.HTTP.MaxBody < 64<<10 || c.HTTP.MaxBody > 1<<30 {
		bad("http.max_body", "must be between 65536 and 1073741824 bytes, got %d", c.HTTP.MaxBody)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "want HOST:PORT, got %q", c.HTTP.Addr)
	}
	if _, err := web.ParseOrigins(c.HTTP.WidgetOrigins); err != nil {
		bad("http.widget_origins", "%v", err)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if err := c.Store.Validate(); err != nil {
		key := "store"
		if m := strings.Fields(err.Error()); len(m) > 1 {
			key = "store." + strings.TrimSuffix(m[1], ":")
			if k := strings.TrimSuffix(m[min(2, len(m)-1)], ":"); key == "store.redis" && redisKeys[k] {
				key += "." + k
			}
		}
		bad(key, "%s", strings.TrimPrefix(err.Error(), "store: "))
	}
	if c.Router.AnswerAt < 0 || c.Router.AnswerAt > 1 {
		bad("router.answer_at", "must be between 0 and 1")
	}
	if c.Router.SuggestAt < 0 || c.Router.SuggestAt > 1 {
		bad("router.suggest_at", "must be between 0 and 1")
	}
	if c.Router.MaxMisses < 1 {
		bad("router.max_misses", "must be at least 1")
	}
	if c.Router.SyncEvery.Duration <= 0 || c.Router.SyncEvery.Duration > time.Minute {
		bad("router.sync_every", "must be between 1ms and 1m")
	}
	hc := c.handoff()
	errs = append(errs, keyed(hc.Validate())...)
	errs = append(errs, keyed(c.LLM.Validate())...)
	if c.LLM.Enabled && c.LLM.Timeout.Duration > c.Bot.HandlerTimeout.Duration/2 {
		bad("llm.timeout", "must be at most half of bot.handler_timeout (%s), so the offline fallback still fits", c.Bot.HandlerTimeout.Duration)
	}
	if c.Slack.Enabled || os.Getenv("SLACK_BOT_TOKEN") != "" {
		sc := c.Slack
		sc.Inherit(c.handoff())
		sc.SetDefaults()
		errs = append(errs, keyed(sc.Validate())...)
	}
	if c.Discord.Enabled || os.Getenv("DISCORD_TOKEN") != "" {
		dc := c.Discord
		dc.SetDefaults()
		errs = append(errs, keyed(dc.Validate())...)
	}
	return errors.Join(errs...)
}

// keyed turns "table.key: problem" errors into conf key errors.
func keyed(err error) []error {
	if err == nil {
		return nil
	}
	var out []error
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
		k, msg, ok := strings.Cut(e.Error(), ": ")
		if !ok || strings.ContainsAny(k, " ") {
			k, msg = "config", e.Error()
		}
		out = append(out, conf.Errorf(k, "%s", msg))
	}
	return out
}

func (c *Config) engine() bot.Config {
	return bot.Config{HandlerTimeout: c.Bot.HandlerTimeout.Duration, ShutdownTimeout: c.Bot.ShutdownTimeout.Duration,
		DedupeTTL: time.Duration(c.Store.DedupeTTL), MaxText: c.Bot.MaxText, MaxTurns: c.Bot.MaxTurns}
}

func (c *Config) router() intents.Config {
	return intents.Config{DefaultLang: c.Router.DefaultLang, AnswerAt: c.Router.AnswerAt,
		SuggestAt: c.Router.SuggestAt, MaxMisses: c.Router.MaxMisses,
		ModelCache: filepath.Join(c.Store.DataDir, "models")}
}

func (c *Config) handoff() handoff.Config {
	h := c.Handoff
	hc := handoff.Config{Routing: h.Routing, RenotifyAfter: h.RenotifyAfter.Duration, EscalateAfter: h.EscalateAfter.Duration,
		EscalationGroup: h.EscalationGroup, ManagerChannel: h.ManagerChannel, Hours: h.Hours, AfterHours: h.AfterHours,
		NotePrefix: h.NotePrefix, HistoryLen: h.HistoryLen, UpdateEvery: h.UpdateEvery.Duration}
	hc.SetDefaults()
	return hc
}

// configFlags are the --config and --data-dir flags every command shares.
type configFlags struct {
	fs            *flag.FlagSet
	path, dataDir *string
}

func withConfig(fs *flag.FlagSet) configFlags {
	return configFlags{fs: fs,
		path:    fs.String("config", "./config.toml", "configuration `file`"),
		dataDir: fs.String("data-dir", "", "`directory` of the embedded store (overrides store.data_dir)")}
}

// load reads the configuration file (missing is fine unless --config was
// given) and applies --data-dir.
func (c configFlags) load() (Config, error) {
	cfg, err := loadConfig(*c.path, isSet(c.fs, "config"))
	if err == nil && *c.dataDir != "" {
		cfg.Store.DataDir = *c.dataDir
	}
	return cfg, err
}
