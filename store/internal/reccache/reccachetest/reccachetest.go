// Package reccachetest holds what the stores' tests of reccache share.
package reccachetest

import (
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Conversation returns a new conversation with the fields a JSON round
// trip changes (reccache.AsDecoded): times with a monotonic reading (now's)
// and in other zones, empty rather than nil slices and maps, a CSAT.
func Conversation(now time.Time) *bot.Conversation {
	c := bot.NewConversation(bot.Address{Channel: "web", Room: "r1"}, bot.Customer{ID: "web:c", Name: "Ann"}, now)
	c.Tried = []string{}
	c.Data = map[string]string{}
	c.History = []bot.Handoff{{From: bot.StateBot, To: bot.StateQueued, Reason: bot.ReasonRequested, At: now.In(time.FixedZone("X", 3600))}}
	c.CSAT = &bot.CSAT{Score: 5, At: now}
	c.FirstReply = now.Add(time.Second)
	return c
}
