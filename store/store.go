// Package store opens the configured backend of the bot's storage contracts
// (bot.Store, bot.DocStore, bot.EventLog, bot.Leaser, bot.TimerStore and
// handoff.Store): store/embedded, one local bbolt file and the default, or
// store/redisstore, Redis as a single node, Sentinel or Cluster. Both pass the
// conformance suite in store/storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/store/privacy"
	"github.com/supportbot/supportbot/store/redisstore"
)

// Store is everything the bot and the desk keep. All methods are safe for
// concurrent use; errors caused by an unreachable backend wrap bot.ErrUnavailable.
type Store interface {
	bot.Store
	bot.DocStore
	bot.EventLog
	bot.Leaser
	bot.TimerStore
	handoff.Store
	// Ping returns nil when the backend is reachable, else an error wrapping
	// bot.ErrUnavailable. It is the health check.
	Ping(ctx context.Context) error
	// Close releases the store and waits for its goroutines. Calling it again
	// is a no-op; other methods fail after it.
	Close() error

	// ExportCustomer returns everything kept about the customer with this ID
	// (bot.Customer.ID): the conversations of its customer index with their
	// transcripts, claims and queue entries, and the timers and analytics
	// events of those conversations. Nothing stored is an empty CustomerData
	// and no error.
	ExportCustomer(ctx context.Context, customerID string) (CustomerData, error)
	// DeleteCustomer removes all of it: afterwards no key, value or index
	// entry of the backend names the customer's ID or the IDs of its
	// conversations (storetest proves it by reading every key). Deleting an
	// unknown customer is not an error; a failed call can be repeated.
	DeleteCustomer(ctx context.Context, customerID string) error
}

// CustomerData is a customer's data export (see store/privacy).
type CustomerData = privacy.CustomerData

var (
	_ Store = (*embedded.Store)(nil)
	_ Store = (*redisstore.Store)(nil)
)

// Store kinds.
const (
	KindEmbedded = "embedded"
	KindRedis    = "redis"
)

// Defaults of Config.
const (
	DefaultDataDir   = "./data"
	DefaultRetention = 30 * 24 * time.Hour
	DefaultDedupeTTL = 24 * time.Hour
	DefaultKeyPrefix = "sb:"
)

// Config selects and tunes the store ([store] in the config file).
type Config struct {
	// Kind is "embedded" (default: one file in DataDir, no server) or "redis".
	Kind string `toml:"kind"`
	// DataDir holds the embedded store's file (default "./data").
	DataDir string `toml:"data_dir"`
	// Retention is how long an idle or resolved conversation (record,
	// transcript, claim, queued replies) and its customer index entry are
	// kept after their last write (default 30 days).
	Retention Duration `toml:"retention"`
	// EventsRetention is how long analytics events (which may quote
	// customers, e.g. unanswered questions and CSAT comments) are kept
	// (0, the default: the same as Retention).
	EventsRetention Duration `toml:"events_retention"`
	// DedupeTTL is how long platform message/event IDs are remembered when
	// FirstSeen is called with ttl <= 0 (default 24h; at most Retention).
	DedupeTTL Duration `toml:"dedupe_ttl"`
	// Redis configures Kind "redis".
	Redis RedisConfig `toml:"redis"`
}

// RedisConfig configures the Redis store ([store.redis]).
type RedisConfig struct {
	// URL is redis://[user:password@]host:port[/db] or rediss:// for TLS. It
	// holds a secret, so it is read from the environment variable REDIS_URL
	// only (by SetDefaults), never from the file. With Addrs set, only its
	// credentials, db and TLS setting are used.
	URL string `toml:"-"`
	// Addrs lists Cluster nodes (two or more), or Sentinel addresses with
	// MasterName. Empty: the host of URL.
	Addrs []string `toml:"addrs"`
	// MasterName selects Sentinel: the name of the monitored master.
	MasterName string `toml:"master_name"`
	// KeyPrefix starts every key (default "sb:"), so several bots can share
	// one Redis. It must not contain '{' or '}' (they pick the Cluster slot).
	KeyPrefix string `toml:"key_prefix"`
	// InboxPartitions is the number of inbound streams (default 16); each is
	// worked by one replica at a time, so it bounds how many replicas share
	// the work. Keep it fixed while messages are queued.
	InboxPartitions int `toml:"inbox_partitions"`
	// InboxClaimAfter is how long a message may wait unacknowledged with a
	// replica before another takes it over (default 15s): the takeover time
	// of a crashed replica's messages. Keep it above the longest turn.
	InboxClaimAfter Duration `toml:"inbox_claim_after"`
	// InboxBatch is how many messages a partition reads at once (default 64).
	InboxBatch int `toml:"inbox_batch"`
}

// Inbox returns the options of the durable inbox on Redis.
func (c *RedisConfig) Inbox() redisstore.InboxOptions {
	return redisstore.InboxOptions{Partitions: c.InboxPartitions, MinIdle: time.Duration(c.InboxClaimAfter), Batch: c.InboxBatch}
}

// SetDefaults fills unset fields with the defaults.
func (c *Config) SetDefaults() {
	if c.Kind == "" {
		c.Kind = KindEmbedded
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Retention == 0 {
		c.Retention = Duration(DefaultRetention)
	}
	if c.DedupeTTL == 0 {
		c.DedupeTTL = Duration(min(DefaultDedupeTTL, time.Duration(c.Retention)))
	}
	c.Redis.SetDefaults()
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch c.Kind {
	case KindEmbedded:
		if c.DataDir == "" {
			return errors.New("store: data_dir is empty")
		}
	case KindRedis:
		if err := c.Redis.Validate(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("store: kind %q: want %q or %q", c.Kind, KindEmbedded, KindRedis)
	}
	if c.Retention <= 0 {
		return fmt.Errorf("store: retention %v: must be positive", c.Retention)
	}
	if c.EventsRetention < 0 {
		return fmt.Errorf("store: events_retention %v: must not be negative", c.EventsRetention)
	}
	if c.DedupeTTL <= 0 || c.DedupeTTL > c.Retention {
		return fmt.Errorf("store: dedupe_ttl %v: must be positive and at most retention (%v)", c.DedupeTTL, c.Retention)
	}
	return nil
}

// SetDefaults fills KeyPrefix and reads URL from REDIS_URL if unset.
func (c *RedisConfig) SetDefaults() {
	if c.URL == "" {
		c.URL = os.Getenv("REDIS_URL")
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.InboxPartitions == 0 {
		c.InboxPartitions = 16
	}
	if c.InboxClaimAfter == 0 {
		c.InboxClaimAfter = Duration(15 * time.Second)
	}
	if c.InboxBatch == 0 {
		c.InboxBatch = 64
	}
}

// Validate reports the first invalid setting. Its errors never contain the URL,
// which may hold a password.
func (c *RedisConfig) Validate() error {
	if c.URL == "" && len(c.Addrs) == 0 {
		return errors.New("store: redis: set REDIS_URL or store.redis.addrs")
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			return errors.New("store: redis: REDIS_URL is not a redis://, rediss:// or unix:// URL")
		}
	}
	for _, a := range c.Addrs {
		if _, _, err := splitHostPort(a); err != nil {
			return fmt.Errorf("store: redis: addrs: %q: want host:port", a)
		}
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		return fmt.Errorf("store: redis: key_prefix %q must not contain '{' or '}'", c.KeyPrefix)
	}
	if c.InboxPartitions < 1 || c.InboxPartitions > 1024 {
		return fmt.Errorf("store: redis: inbox_partitions %d: must be between 1 and 1024", c.InboxPartitions)
	}
	if c.InboxClaimAfter < Duration(time.Second) {
		return fmt.Errorf("store: redis: inbox_claim_after %v: must be at least 1s", time.Duration(c.InboxClaimAfter))
	}
	if c.InboxBatch < 1 || c.InboxBatch > 10_000 {
		return fmt.Errorf("store: redis: inbox_batch %d: must be between 1 and 10000", c.InboxBatch)
	}
	return nil
}

func splitHostPort(a string) (string, int, error) {
	i := strings.LastIndexByte(a, ':')
	if i <= 0 {
		return "", 0, errors.New("no port")
	}
	p, err := strconv.Atoi(a[i+1:])
	if err != nil || p <= 0 || p > 65535 {
		return "", 0, errors.New("bad port")
	}
	return a[:i], p, nil
}

// Open validates cfg (after SetDefaults) and opens its backend. A Redis that
// does not answer fails here with an error naming its address and wrapping
// bot.ErrUnavailable.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (Store, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.EventsRetention == 0 {
		cfg.EventsRetention = cfg.Retention
	}
	if log == nil {
		log = slog.Default()
	}
	switch cfg.Kind {
	case KindRedis:
		s, err := redisstore.New(ctx, redisstore.Options{
			URL: cfg.Redis.URL, Addrs: cfg.Redis.Addrs, MasterName: cfg.Redis.MasterName,
			KeyPrefix: cfg.Redis.KeyPrefix, Retention: time.Duration(cfg.Retention),
			EventsRetention: time.Duration(cfg.EventsRetention),
			DedupeTTL:       time.Duration(cfg.DedupeTTL), Log: log,
		})
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data_dir: %w", err)
		}
		s, err := embedded.Open(filepath.Join(cfg.DataDir, embedded.FileName), embedded.Options{
			Retention: time.Duration(cfg.Retention), EventsRetention: time.Duration(cfg.EventsRetention),
			DedupeTTL: time.Duration(cfg.DedupeTTL), Log: log,
		})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Duration is a time.Duration that reads and writes as text in config files:
// "720h", "90m", "1h30m", or a whole number of days such as "30d".
type Duration time.Duration

// UnmarshalText parses time.ParseDuration syntax or "<n>d".
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return fmt.Errorf("duration %q: want e.g. 30d or 720h", s)
		}
		*d = Duration(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want e.g. 30d or 720h", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes time.Duration's String form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String is time.Duration's String.
func (d Duration) String() string { return time.Duration(d).String() }
