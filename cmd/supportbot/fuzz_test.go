package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/internal/conf"
)

// FuzzConfig feeds config.toml variants through the real loader path
// (conf.Decode over the defaults, then validation and conf.Locate): it
// never panics, and every error wraps conf.ErrInvalid and names the file.
// Seeds: the repo's config.toml and testdata/fuzz/FuzzConfig.
func FuzzConfig(f *testing.F) {
	if b, err := os.ReadFile("../../config.toml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{"[bot]\nmax_text = 50\n", "[http]\nadress = 1\n", "[store]\nkind = \"redis\"\n[store.redis]\naddrs = [\"x\"]\n",
		"[handoff.hours]\ntimezone = \"Mars/Base\"\n", "[[bot]]\n", "a = \"\\u0000\"\n", "[store]\nretention = \"-1d\"\n"} {
		f.Add([]byte(s))
	}
	f.Setenv("SLACK_BOT_TOKEN", "")
	f.Setenv("DISCORD_TOKEN", "")
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.toml"
		c := defaults()
		err := conf.Decode(file, data, &c)
		if err == nil {
			err = conf.Locate(file, data, c.validate())
		}
		if err == nil {
			return
		}
		if !errors.Is(err, conf.ErrInvalid) {
			t.Fatalf("error does not wrap conf.ErrInvalid: %v", err)
		}
		if !strings.Contains(err.Error(), file) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
