// Package discord is the Discord channel of the support bot: Channel
// implements bot.Channel (Name "discord") and bot.Typer with discordgo.
//
// Customers write in three places:
//   - configured support channels of one or many guilds: each top-level
//     message starts a public thread from that message, and everything in
//     the thread is one conversation (Address{Channel: "discord", Space:
//     guild ID, Room: thread ID});
//   - DMs with the bot (Space "", Room: the DM channel ID);
//   - the /support slash command: ask <question>, human (a message with
//     Meta["request"] = "human" and text "human") and status (Meta["request"]
//     = "status"). Used in a support channel it opens a thread; outside
//     support channels and threads it answers in DMs.
//
// Replies: Reply.Choices (suggestions, the CSAT question) become buttons
// whose custom_id carries the value; a click is acknowledged with a
// deferred update and delivered as the customer writing that value. Long
// texts are split below Discord's 2,000 characters at paragraph, line,
// sentence or word boundaries. A human agent's reply shows their name
// ("**Alice** (support): …"). Every post sets allowed_mentions to none, so
// relayed text cannot ping @everyone, @here, roles or users.
//
// Reliability: bots and the bot itself are ignored; Inbound.Key is
// "discord:" + message or interaction ID, so the engine drops events that a
// gateway RESUME replays; 429s are waited out for their retry-after without
// outliving the caller's context; every REST call carries the caller's
// context; dropped connections are resumed by the adapter's own loop (no
// discordgo goroutine outlives Listen); malformed events are logged and
// dropped.
//
// Scale: ShardID/ShardCount split the guilds between replicas, and with
// WithLeaser exactly one replica per shard holds the gateway session (a
// lease "discord:shard:<id>/<count>" renewed every LeaseTTL/3). Sending
// works from any replica. Conversation keys derive only from platform IDs,
// so they are the same on every shard and after restarts.
//
// See docs/discord.md for the application setup, intents and permissions.
package discord
