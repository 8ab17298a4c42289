// Package privacy defines what a customer data export contains. The stores
// (store/embedded, store/redisstore) fill it in ExportCustomer; store
// re-exports it as store.CustomerData; "supportbot customer export" prints
// it as JSON.
package privacy

import (
	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// CustomerData is everything a store keeps about one customer: the
// conversations of its customer index (each with its transcript, claim and
// queue entry) and the timers and analytics events of those conversations.
// Deduplication keys (platform event IDs) and agents' records are not
// customer data and are not included.
type CustomerData struct {
	CustomerID    string         `json:"customer_id"`
	Conversations []Conversation `json:"conversations"`
	Timers        []bot.Timer    `json:"timers"`
	Events        []bot.Event    `json:"events"`
}

// Conversation is one conversation of a customer.
type Conversation struct {
	Record     *bot.Conversation `json:"record"`
	Transcript []bot.Message     `json:"transcript"`
	Holder     string            `json:"holder,omitempty"` // the agent holding it, if any
	Queue      *handoff.Entry    `json:"queue,omitempty"`  // its queue entry while waiting
}

// IDs returns the conversation IDs of d, in order.
func (d *CustomerData) IDs() []bot.ConversationID {
	ids := make([]bot.ConversationID, len(d.Conversations))
	for i, c := range d.Conversations {
		ids[i] = c.Record.ID
	}
	return ids
}

// Empty reports whether nothing is kept about the customer.
func (d *CustomerData) Empty() bool {
	return len(d.Conversations) == 0 && len(d.Timers) == 0 && len(d.Events) == 0
}
