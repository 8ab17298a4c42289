package store_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/redistest"
	"github.com/supportbot/supportbot/store"
)

func TestConfigFromTOML(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://:pw@127.0.0.1:6390/0")
	var cfg store.Config
	err := toml.Unmarshal([]byte(`
kind = "redis"
retention = "720h"
dedupe_ttl = "2d"
[redis]
url = "redis://from-the-file:1"
addrs = ["10.0.0.1:7000", "10.0.0.2:7000"]
`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Retention != store.Duration(720*time.Hour) || cfg.DedupeTTL != store.Duration(48*time.Hour) {
		t.Fatalf("durations %v %v", cfg.Retention, cfg.DedupeTTL)
	}
	if cfg.Redis.URL != "redis://:pw@127.0.0.1:6390/0" {
		t.Fatalf("URL must come from REDIS_URL only, got %q", cfg.Redis.URL)
	}
	if cfg.Redis.KeyPrefix != "sb:" || len(cfg.Redis.Addrs) != 2 {
		t.Fatalf("redis config %+v", cfg.Redis)
	}
	out, err := toml.Marshal(cfg)
	if err != nil || !strings.Contains(string(out), "retention = '720h0m0s'") || strings.Contains(string(out), "pw@") {
		t.Fatalf("marshal: %v\n%s", err, out)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	var cfg store.Config
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != "embedded" || cfg.DataDir != "./data" || time.Duration(cfg.Retention) != 30*24*time.Hour ||
		time.Duration(cfg.DedupeTTL) != 24*time.Hour {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	for name, tc := range map[string]struct {
		mod  func(*store.Config)
		want string
	}{
		"unknown kind":       {func(c *store.Config) { c.Kind = "postgres" }, "kind"},
		"negative retention": {func(c *store.Config) { c.Retention = -1 }, "retention"},
		"dedupe > retention": {func(c *store.Config) { c.DedupeTTL = c.Retention + 1 }, "dedupe_ttl"},
		"redis without addr": {func(c *store.Config) { c.Kind = "redis" }, "REDIS_URL"},
		"bad redis url": {func(c *store.Config) { c.Kind, c.Redis.URL = "redis", "http://u:secretpw@x" },
			"REDIS_URL"},
		"bad addr": {func(c *store.Config) { c.Kind, c.Redis.Addrs = "redis", []string{"nohost"} }, "addrs"},
		"no partitions": {func(c *store.Config) { c.Kind, c.Redis.URL, c.Redis.InboxPartitions = "redis", "redis://x:1", -1 },
			"inbox_partitions"},
		"claim too soon": {func(c *store.Config) {
			c.Kind, c.Redis.URL, c.Redis.InboxClaimAfter = "redis", "redis://x:1", store.Duration(time.Millisecond)
		}, "inbox_claim_after"},
		"huge batch": {func(c *store.Config) { c.Kind, c.Redis.URL, c.Redis.InboxBatch = "redis", "redis://x:1", 1<<20 },
			"inbox_batch"},
		"brace in prefix": {func(c *store.Config) { c.Kind, c.Redis.URL, c.Redis.KeyPrefix = "redis", "redis://x:1", "{sb}" },
			"key_prefix"},
	} {
		var cfg store.Config
		cfg.SetDefaults()
		tc.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"720h": 720 * time.Hour, "30d": 30 * 24 * time.Hour,
		"1h30m": 90 * time.Minute, " 15m ": 15 * time.Minute} {
		var d store.Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || time.Duration(d) != want {
			t.Errorf("%q: %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"", "30", "xd", "1y"} {
		var d store.Duration
		if err := d.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir() + "/nested/data"
	s, err := store.Open(ctx, store.Config{DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRedis(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	t.Setenv("REDIS_URL", srv.URL())
	s, err := store.Open(ctx, store.Config{Kind: "redis"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, err := s.FirstSeen(ctx, "k", time.Minute); err != nil || !first {
		t.Fatalf("FirstSeen = %v, %v", first, err)
	}
	if n, err := srv.Do("EXISTS", "sb:dd:k"); err != nil || n != "1" {
		t.Fatalf("key sb:dd:k: %q, %v (default prefix sb:)", n, err)
	}
}

func TestOpenRedisUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("REDIS_URL", "redis://"+addr)
	_, err = store.Open(context.Background(), store.Config{Kind: "redis"}, nil)
	if !errors.Is(err, bot.ErrUnavailable) || !strings.HasPrefix(err.Error(), "redis "+addr+": dial tcp "+addr) {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}
