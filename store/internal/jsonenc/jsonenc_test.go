package jsonenc_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/internal/jsonenc"
)

// valuesOf returns one value of every type the store encodes, with s in
// every string, f in every float and at in every time.
func valuesOf(s string, f float64, at time.Time) []any {
	addr := bot.Address{Channel: s, Space: s, Room: s, Thread: s}
	cust := bot.Customer{ID: s, Name: s, Email: s}
	meta := map[string]string{s: s, "a": s, "b": ""}
	choices := []bot.Choice{{Label: s, Value: s}}
	return []any{
		&bot.Conversation{ID: bot.ConversationID(s), Address: addr, Customer: cust, State: bot.State(s), Lang: s,
			Agent: s, Skill: s, Priority: int(f), Reason: bot.Reason(s), Intent: s, Score: f, Misses: 3,
			Tried: []string{s, ""}, Sentiment: -f, History: []bot.Handoff{{From: "bot", To: bot.State(s), Reason: bot.Reason(s), Agent: s, At: at}},
			CSAT: &bot.CSAT{Score: 4, Comment: s, ByAgent: true, At: at}, AwaitCSAT: true, Data: meta,
			Created: at, Updated: at, Queued: at, Resolved: at, Inbound: s, Version: 7},
		&bot.Conversation{},
		&bot.Message{ID: s, From: addr, Customer: cust, Role: bot.Role(s), Author: s, Text: s, Lang: s, Original: s,
			Choices: choices, Kind: bot.ReplyKind(s), Meta: meta, At: at},
		&bot.Outgoing{Key: s, To: addr, Reply: bot.Reply{Text: s, Kind: bot.ReplyKind(s), Author: s, Lang: s, Choices: choices, Meta: meta, Original: s}, At: at},
		&bot.Event{At: at, Type: s, Conv: bot.ConversationID(s), Customer: s, Channel: s, Lang: s, Reason: bot.Reason(s), Intent: s, Agent: s, Value: f, Text: s, Meta: meta},
		&bot.Doc{Name: s, Version: 3, Data: []byte(s), Author: s, Note: s, At: at},
		&bot.Timer{Key: s, At: at, Kind: s, Conv: bot.ConversationID(s), Payload: s},
		&handoff.Entry{Conv: bot.ConversationID(s), Priority: int(f), Since: at, Skill: s, Lang: s},
		&handoff.Agent{ID: s, Name: s, Status: handoff.Availability(s), Capacity: 2, Skills: []string{s}, Langs: nil, Active: 1},
	}
}

// checkEncode fails t unless Marshal writes what encoding/json writes, so
// stored data stays readable by every build and by anything that reads
// JSON.
func checkEncode(t *testing.T, s string, f float64, at time.Time) {
	t.Helper()
	for _, v := range valuesOf(s, f, at) {
		want, werr := json.Marshal(v)
		got, err := jsonenc.Marshal(v)
		if (err != nil) != (werr != nil) || string(got) != string(want) {
			t.Fatalf("%T with %q, %v, %v:\njsonenc       %s (%v)\nencoding/json %s (%v)", v, s, f, at, got, err, want, werr)
		}
	}
}

func TestMatchesStd(t *testing.T) {
	at := time.Date(2026, 11, 23, 7, 30, 1, 123456789, time.FixedZone("CET", 3600))
	for _, s := range []string{"", "plain", `<a href="x">&amp;</a>`, "\u2028\u2029", "bad \xff\xfe utf-8",
		"\t\n\r\x00\x1f\x7f", "😀 čćžšđ Ћирилица", `"quoted" \ back\slash`, "<@U123> @everyone"} {
		checkEncode(t, s, 0.5, at)
	}
	for _, f := range []float64{0, -0.000001, 1e21, 1e-7, 123456789.125} {
		checkEncode(t, "x", f, time.Time{})
	}
	checkEncode(t, "x", 1, at.UTC())
}

func FuzzMatchesStd(f *testing.F) {
	f.Add("hello <b>&</b>", 0.25, int64(1795000000123456789))
	f.Add("\xff\u2028", -1e300, int64(0))
	f.Fuzz(func(t *testing.T, s string, x float64, ns int64) {
		if _, err := json.Marshal(x); err != nil {
			t.Skip() // NaN or ±Inf: neither encodes them, and the store never holds them
		}
		checkEncode(t, s, x, time.Unix(0, ns))
	})
}
