// Package fakeslack is a local fake of the Slack platform for tests: an
// httptest server on 127.0.0.1 that speaks the Web API methods the bot uses
// (auth.test, apps.connections.open, chat.postMessage, chat.update,
// chat.postEphemeral, users.info, response_url webhooks) and the Socket Mode
// websocket protocol (hello, server PINGs, envelopes, acks, disconnect).
//
// Point the real slack-go client at it with
//
//	slackgo.New(s.BotToken, slackgo.OptionAPIURL(s.APIURL()), slackgo.OptionAppLevelToken(s.AppToken))
//
// Every post is recorded (Posts, WaitPost) and every envelope ack too
// (WaitAck); waits block on channels, never on sleeps, and end with the
// caller's context. The fake sends a websocket PING every PingInterval
// (default 100ms) because slack-go's socketmode client reconnects when no
// PING arrives within its own OptionPingInterval (default 30s); with
// WithPingInterval(0) the client must be given a long OptionPingInterval.
//
// RateLimit injects HTTP 429 answers with a Retry-After header; message
// timestamps are unique ("1700000000.000001", …). Sign and SignedRequest
// build requests for the HTTP Events API signed with a signing secret.
package fakeslack
