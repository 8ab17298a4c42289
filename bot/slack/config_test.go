package slack_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/handoff"
)

func TestConfigDefaultsAndValidate(t *testing.T) {
	var c slack.Config
	c.SetDefaults()
	if c.Mode != "socket" || c.NotePrefix != "note:" || c.PostsPerSecond != 1 {
		t.Errorf("defaults = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("a disabled config is valid, got %v", err)
	}
	c.Enabled, c.Mode, c.HandoffChannel, c.EscalationGroup = true, "smoke", "#support", "support-team"
	c.CustomerChannels = []string{"C0HELP", "nope"}
	err := c.Validate()
	for _, want := range []string{"slack.mode", "slack.handoff_channel", "slack.escalation_group", `"nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %s", err, want)
		}
	}
}

func TestNewChecksTokensAndDoesNoIO(t *testing.T) {
	cfg := testConfig()
	_, err := slack.New(cfg, slack.Tokens{}, nil, nil)
	if !errors.Is(err, slack.ErrConfig) || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Errorf("New without tokens = %v", err)
	}
	cfg.Mode = slack.ModeHTTP
	if _, err := slack.New(cfg, slack.Tokens{Bot: "xoxb-1"}, nil, nil); err == nil || !strings.Contains(err.Error(), "SLACK_SIGNING_SECRET") {
		t.Errorf("http mode without a signing secret: %v", err)
	}
	// An unreachable API URL is fine: New does no I/O.
	if _, err := slack.New(testConfig(), slack.Tokens{Bot: "xoxb-1", App: "xapp-1"}, nil, nil, slack.WithAPIURL("http://127.0.0.1:1/api/")); err != nil {
		t.Errorf("New = %v", err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "b", "SLACK_APP_TOKEN": "a", "SLACK_SIGNING_SECRET": "s"}
	if tok := slack.TokensFromEnv(func(k string) string { return env[k] }); tok != (slack.Tokens{Bot: "b", App: "a", Signing: "s"}) {
		t.Errorf("TokensFromEnv = %+v", tok)
	}
}

func TestInheritFromDesk(t *testing.T) {
	c := slack.Config{ManagerChannel: "C0OWN"}
	c.Inherit(handoff.Config{EscalationGroup: "S0DESK", ManagerChannel: "C0DESK", NotePrefix: "internal:"})
	if c.EscalationGroup != "S0DESK" || c.ManagerChannel != "C0OWN" || c.NotePrefix != "internal:" {
		t.Errorf("inherited %+v", c)
	}
}
