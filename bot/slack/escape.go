package slack

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	// broadcast words ping a whole channel when a client links them.
	broadcast = regexp.MustCompile(`(?i)(^|[^\w.])@(here|channel|everyone)\b`)
	markup    = regexp.MustCompile(`<([^<>\n]*)>`)
)

// Escape makes untrusted text (a customer's words) safe to post as Slack
// mrkdwn: &, < and > are escaped, so no <@U…>, <!subteam^…>, <!here> or
// link markup survives, and a bare @here, @channel or @everyone gets a
// zero-width space after the @ so no client turns it into a ping.
func Escape(s string) string { return escaper.Replace(neutralize(s)) }

// neutralize puts a zero-width space after the @ of @here, @channel and
// @everyone.
func neutralize(s string) string { return broadcast.ReplaceAllString(s, "$1@\u200b$2") }

// plainText makes untrusted text safe for a plain_text object (a header,
// a button label): brackets become look-alikes and broadcast words are
// broken, so it stays inert even where a client would parse it.
func plainText(s string) string {
	return strings.NewReplacer("<", "‹", ">", "›").Replace(neutralize(s))
}

// Plain turns Slack markup (an agent's message) into plain text for a
// customer on another platform: <@U1|ann> → "@ann", <@U1> → "@"+name("U1"),
// <#C1|help> → "#help", <!here> → "@here", <!subteam^S1|@team> → "@team",
// <https://x|docs> → "docs (https://x)", <mailto:a@b|a@b> → "a@b", and
// &amp; &lt; &gt; are unescaped. name may be nil. Neutralising what is left
// (@here typed as text) is the target channel's job.
func Plain(s string, name func(userID string) string) string {
	s = markup.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if hasLabel && label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			if name != nil {
				if n := name(target[1:]); n != "" {
					return "@" + n
				}
			}
			return "@someone"
		case strings.HasPrefix(target, "#"):
			if hasLabel && label != "" {
				return "#" + label
			}
			return "#channel"
		case strings.HasPrefix(target, "!"):
			if hasLabel && label != "" {
				return label
			}
			word, _, _ := strings.Cut(target[1:], "^")
			return "@" + word
		}
		target = strings.TrimPrefix(target, "mailto:")
		if !hasLabel || label == "" || label == target || "http://"+label == target || "https://"+label == target {
			return target
		}
		return label + " (" + target + ")"
	})
	return unescaper.Replace(s)
}

// stripMention removes mentions of the bot user (<@UBOT> or <@UBOT|name>).
func stripMention(s, botUser string) string {
	if botUser == "" {
		return strings.TrimSpace(s)
	}
	s = strings.ReplaceAll(s, "<@"+botUser+">", "")
	for {
		i := strings.Index(s, "<@"+botUser+"|")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		s = s[:i] + s[i+j+1:]
	}
	return strings.TrimSpace(s)
}

// clip shortens s to at most n bytes on a rune boundary, with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
