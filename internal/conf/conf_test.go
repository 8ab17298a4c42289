package conf_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/internal/conf"
)

type cfg struct {
	HTTP struct {
		Addr string `toml:"addr"`
	} `toml:"http"`
	Handoff struct {
		Routing string        `toml:"routing"`
		After   conf.Duration `toml:"renotify_after"`
	} `toml:"handoff"`
}

func TestErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"unknown key", "[http]\naddr = \"x\"\nport = 3\n", "config.toml:3: http.port: unknown key"},
		{"bad duration", "[handoff]\nrouting = \"assign\"\nrenotify_after = \"soon\"\n", "config.toml:3: handoff.renotify_after:"},
		{"bad type", "[http]\naddr = 5\n", "config.toml:2: http.addr:"},
		{"syntax", "[http\naddr = 1\n", "config.toml:1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c cfg
			err := conf.Decode("config.toml", []byte(tc.data), &c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, conf.ErrInvalid) {
				t.Errorf("err does not wrap ErrInvalid")
			}
		})
	}
}

func TestLocateFindsValidationKeys(t *testing.T) {
	data := []byte("# c\n[handoff]\n\nrouting = \"round\"\n")
	err := conf.Locate("c.toml", data, errors.Join(conf.Errorf("handoff.routing", "must be broadcast or assign"),
		conf.Errorf("slack.handoff_channel", "required")))
	got := err.Error()
	for _, want := range []string{"c.toml:4: handoff.routing: must be broadcast or assign", "c.toml: slack.handoff_channel: required (default value)"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing %q", got, want)
		}
	}
}
