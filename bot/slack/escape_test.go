package slack_test

import (
	"testing"

	"github.com/supportbot/supportbot/bot/slack"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a & b < c > d", "a &amp; b &lt; c &gt; d"},
		{"<!everyone> <!channel> <!here>", "&lt;!everyone&gt; &lt;!channel&gt; &lt;!here&gt;"},
		{"<!subteam^S123|@support>", "&lt;!subteam^S123|@support&gt;"},
		{"hi <@U123> and <@W9|bob>", "hi &lt;@U123&gt; and &lt;@W9|bob&gt;"},
		{"@here please", "@\u200bhere please"},
		{"ping @Channel and @everyone!", "ping @\u200bChannel and @\u200beveryone!"},
		{"mail me@here.com", "mail me@here.com"},
		{"<https://evil.test|click>", "&lt;https://evil.test|click&gt;"},
		{"&amp; stays literal", "&amp;amp; stays literal"},
	} {
		if got := slack.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlain(t *testing.T) {
	names := map[string]string{"U1": "Ann"}
	name := func(id string) string { return names[id] }
	for _, tc := range []struct{ in, want string }{
		{"hi <@U1>", "hi @Ann"},
		{"hi <@U2|bob>", "hi @bob"},
		{"hi <@U3>", "hi @someone"},
		{"see <#C1|help>", "see #help"},
		{"<!here> and <!subteam^S1|@team>", "@here and @team"},
		{"<https://x.test/a|the docs>", "the docs (https://x.test/a)"},
		{"<https://x.test/a>", "https://x.test/a"},
		{"<https://x.test|x.test>", "https://x.test"},
		{"<mailto:a@b.test|a@b.test>", "a@b.test"},
		{"1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"},
		{"<!date^1700000000^{date}|Nov 14>", "Nov 14"},
	} {
		if got := slack.Plain(tc.in, name); got != tc.want {
			t.Errorf("Plain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
