package redisstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
)

// TestWireMatchesStd: the package's wire types encode with jsonenc to what
// encoding/json writes, so replicas of older builds and the Lua scripts read
// the same records. convWire's fields shadow those of the Conversation it
// embeds, a case where JSON encoders have disagreed.
func TestWireMatchesStd(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 50, 1, 123456789, time.FixedZone("CET", 3600))
	for _, s := range []string{"", "plain", `<a href="x">&amp;</a>`, "\u2028\u2029", "bad \xff\xfe utf-8",
		"\t\n\r\x00\x1f", "😀 čćžšđ Ћирилица", `"quoted" \ back\slash`} {
		addr := bot.Address{Channel: s, Space: s, Room: s, Thread: s}
		cust := bot.Customer{ID: s, Name: s, Email: s}
		meta := map[string]string{s: s, "a": s}
		c := &bot.Conversation{ID: bot.ConversationID(s), Address: addr, Customer: cust, State: bot.State(s), Lang: s,
			Intent: s, Score: 0.25, Tried: []string{s}, History: []bot.Handoff{{From: "bot", To: "queued", At: at}},
			CSAT: &bot.CSAT{Score: 4, Comment: s, At: at}, Data: meta, Created: at, Updated: at, Queued: at, Resolved: at, Version: 3}
		m := bot.Message{ID: s, From: addr, Customer: cust, Role: bot.RoleCustomer, Author: s, Text: s, Lang: s, Original: s,
			Choices: []bot.Choice{{Label: s, Value: s}}, Kind: bot.ReplyKind(s), Meta: meta, At: at}
		h := header{From: addr, Customer: cust}
		for _, v := range []any{
			&convWire{c, nonZero(c.Queued), nonZero(c.Claimed), nonZero(c.FirstReply), nonZero(c.Resolved)},
			&convWire{Conversation: &bot.Conversation{}},
			&h,
			&msgWire{ID: s, From: &m.From, Customer: &m.Customer, Role: m.Role, Author: s, Text: s, Lang: s, Original: s,
				Choices: m.Choices, Kind: m.Kind, Meta: meta, At: at.UnixNano()},
			&msgWire{},
			&inWire{Key: s, Msg: m},
		} {
			want, werr := json.Marshal(v)
			got, err := jsonenc.Marshal(v)
			if (err != nil) != (werr != nil) || string(got) != string(want) {
				t.Fatalf("%T with %q:\njsonenc       %s (%v)\nencoding/json %s (%v)", v, s, got, err, want, werr)
			}
		}
	}
}
