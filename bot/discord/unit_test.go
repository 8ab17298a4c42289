package discord

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/supportbot/supportbot/bot"
)

func TestSplit(t *testing.T) {
	para := strings.Repeat("word ", 150) // 750 runes
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"short", "hello", 10, []string{"hello"}},
		{"empty", "  ", 10, nil},
		{"paragraph", "aaaa bbbb\n\ncccc dddd", 14, []string{"aaaa bbbb", "cccc dddd"}},
		{"line", "aaaa bbbb\ncccc dddd", 14, []string{"aaaa bbbb", "cccc dddd"}},
		{"sentence", "One two three. Four five six.", 22, []string{"One two three.", "Four five six."}},
		{"word", "alpha beta gamma delta", 16, []string{"alpha beta", "gamma delta"}},
		{"runes", "ææææææææææææ", 8, []string{"ææææææææ", "ææææ"}},
		{"code", "```\n" + strings.Repeat("x\n", 8) + "```", 14, nil}, // checked below
		{"long", para + "\n\n" + para + "\n\n" + para, 2000, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := split(tc.in, tc.max)
			if tc.want != nil && !equal(got, tc.want) {
				t.Fatalf("split = %q, want %q", got, tc.want)
			}
			for _, p := range got {
				if utf8.RuneCountInString(p) > tc.max || !utf8.ValidString(p) || p == "" {
					t.Errorf("bad part %q", p)
				}
				if strings.Count(p, "```")%2 != 0 {
					t.Errorf("part %q leaves a code block open", p)
				}
			}
			if strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(got, " "), "```", "")), "") !=
				strings.Join(strings.Fields(strings.ReplaceAll(tc.in, "```", "")), "") {
				t.Errorf("parts %q lose text", got)
			}
		})
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func TestButtons(t *testing.T) {
	c := newChannel(Config{}, nil, nil, nil, nil)
	long := strings.Repeat("ø", 60) // 120 bytes
	rows := c.buttons([]bot.Choice{{Label: "1", Value: "1"}, {Value: "1"}, {Label: "x", Value: long},
		{Value: "4"}, {Value: "5"}, {Value: "6"}})
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	var ids []string
	for _, r := range rows {
		for _, b := range r.(discordgo.ActionsRow).Components {
			btn := b.(discordgo.Button)
			ids = append(ids, btn.CustomID)
			if len(btn.CustomID) > maxCustomID || !utf8.ValidString(btn.CustomID) {
				t.Errorf("custom_id %q too long or broken", btn.CustomID)
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("duplicate custom_id %q", id)
		}
		seen[id] = true
	}
	for id, want := range map[string]string{ids[0]: "1", ids[1]: "1", ids[3]: "4"} {
		if v, ok := choiceValue(id); !ok || v != want {
			t.Errorf("choiceValue(%q) = %q, %v", id, v, ok)
		}
	}
	if v, ok := choiceValue(ids[2]); !ok || !strings.HasPrefix(long, v) || v == "" {
		t.Errorf("long value came back as %q", v)
	}
	for _, id := range []string{"other:1", "sbx:1", "sb"} {
		if _, ok := choiceValue(id); ok {
			t.Errorf("choiceValue(%q) accepted a foreign custom_id", id)
		}
	}
}

func TestInviteURL(t *testing.T) {
	u, err := url.Parse(InviteURL("555"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "discord.com" || u.Path != "/oauth2/authorize" || q.Get("client_id") != "555" {
		t.Errorf("url = %s", u)
	}
	if q.Get("scope") != "bot applications.commands" {
		t.Errorf("scope = %q", q.Get("scope"))
	}
	// view channel, send messages, read message history, create public
	// threads, send messages in threads: nothing more.
	const want = 1<<10 | 1<<11 | 1<<16 | 1<<35 | 1<<38
	if q.Get("permissions") != "309237713920" || Permissions != want {
		t.Errorf("permissions = %s (%d), want %d", q.Get("permissions"), Permissions, int64(want))
	}
	if Intents != 1|1<<9|1<<12|1<<15 {
		t.Errorf("intents = %d", Intents)
	}
}

func TestConfig(t *testing.T) {
	t.Setenv("DISCORD_APP_ID", "777")
	var c Config
	c.SetDefaults()
	if c.AppID != "777" || c.ShardCount != 1 || c.AgentLabel != "support" || c.ThreadArchive != 1440 || c.Owner == "" {
		t.Errorf("defaults = %+v", c)
	}
	c.Enabled = true
	if err := c.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	bad := Config{Enabled: true, AppID: "x", SupportChannels: []string{"#help"}, Guilds: []string{"g"},
		ShardID: 2, ShardCount: 2, ThreadArchive: 5}
	err := bad.Validate()
	for _, want := range []string{"app_id", "support_channels", "guilds", "shard_id", "thread_archive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want a %s problem", err, want)
		}
	}
	if (&Config{}).Validate() != nil {
		t.Error("a disabled config is valid")
	}
	var d Duration
	if err := d.UnmarshalText([]byte("20s")); err != nil || d.String() != "20s" {
		t.Errorf("duration = %v, %v", d, err)
	}
}

func TestThreadName(t *testing.T) {
	n := threadName("alice", "line one\nline two "+strings.Repeat("ø", 200))
	if strings.ContainsAny(n, "\n") || utf8.RuneCountInString(n) > 100 || !strings.HasPrefix(n, "alice: line one line two") {
		t.Errorf("thread name %q", n)
	}
}
