// Package slack connects the bot to Slack, in two roles at once:
//
//   - a customer channel (bot.Channel, Name "slack"): direct messages to the
//     bot and messages in the configured customer channels go to the engine;
//     replies come back with Send, choices as buttons;
//   - the agent workspace (handoff.Workspace, Name "slack"): handoff cards
//     with the full context and Claim / Release / Resolve buttons go to the
//     handoff channel, the card's thread relays the conversation both ways
//     (a reply starting with the note prefix stays internal), reminders and
//     escalations ping the team, and agents set their availability with the
//     /support slash command.
//
// Transport: Socket Mode by default (an outbound websocket, no public URL),
// each envelope acked at once; or the Events API over HTTP (Handler), with
// every request verified against the signing secret.
//
// Safety: customer text posted into Slack is escaped (Escape) so it can
// never ping anyone or inject markup; agent text relayed to a customer is
// turned into plain text (Plain). Posts are paced per Slack channel and a
// rate-limited call is retried after the delay Slack asks for.
//
// Card threads are mapped to conversations through the Card.Refs returned
// by Announce ("slack.channel", "slack.ts"), kept in memory, optionally in
// a bot.DocStore (WithThreadStore), and rebuilt from the desk's queue.
package slack
