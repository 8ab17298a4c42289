// Package bot is the conversation engine: the platform-neutral message model,
// the Channel and Store contracts, and the Engine that dedupes, orders, loads,
// handles, saves and sends every customer message.
//
// Flow: Channel.Listen → Engine (dedupe → per-conversation mailbox → load →
// Handler chain → append/save) → Sender. Adapters live in bot/<platform>,
// handlers in intents (the router) and handoff (the human desk), stores in store/.
package bot
