package bot

import "context"

// Inbound is one platform event handed to the engine by a Channel.
type Inbound struct {
	// Key dedupes platform retries and gateway resumes: the platform's event
	// or message ID, prefixed with the channel name ("slack:Ev123").
	Key string
	Msg Message
	// Ack, if set, is called once the engine has durably accepted (or
	// deliberately dropped) the event; adapters whose platform allows late
	// acknowledgement ack then, others ack on receipt and leave it nil.
	Ack func()
}

// A Channel connects the bot to one chat platform (see bot/cli, bot/slack,
// bot/discord, web). Every implementation passes bot/channeltest.
type Channel interface {
	// Name is the short, stable name used in Address.Channel.
	Name() string
	// Listen connects and calls deliver for every customer message until ctx
	// is canceled (then it returns nil) or the connection fails for good (then
	// it returns an error). It never delivers messages from bots or from the
	// bot itself. deliver may block briefly for back-pressure; it is safe to
	// call from several goroutines.
	Listen(ctx context.Context, deliver func(context.Context, Inbound)) error
	// Send posts r to the customer at to (to.Thread included). Safe for
	// concurrent use. It never lets r.Text ping anyone (@everyone, @here,
	// user or role mentions) and escapes markup the platform would interpret.
	Send(ctx context.Context, to Address, r Reply) error
}

// Sender reaches any Address; the Engine implements it by picking the
// Channel named to.Channel.
type Sender interface {
	Send(ctx context.Context, to Address, r Reply) error
}

// Typer is an optional Channel capability: show "typing…" at to.
type Typer interface {
	Typing(ctx context.Context, to Address) error
}

// Readier is an optional Channel capability that /readyz checks: Ready is
// closed once the channel has connected to its platform and can deliver
// messages. A channel without it is ready as soon as it is added.
type Readier interface {
	Ready() <-chan struct{}
}
