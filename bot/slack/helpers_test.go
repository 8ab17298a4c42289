package slack_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/internal/fakeslack"
)

// IDs used across the tests.
const (
	handoffCh  = "C0HANDOFF"
	managerCh  = "C0MGR"
	helpCh     = "C0HELP"
	escGroup   = "S0ESC"
	customerDM = "D0CUST"
	customerU  = "U0CUST"
	alice      = "U0ALICE"
	bob        = "U0BOB"
	secret     = "signing-secret"
	wait       = 10 * time.Second
)

func testConfig() slack.Config {
	return slack.Config{Enabled: true, HandoffChannel: handoffCh, ManagerChannel: managerCh,
		EscalationGroup: escGroup, CustomerChannels: []string{helpCh}, PostsPerSecond: 1000}
}

func within(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// env is one adapter listening on a fake Slack, with a fake desk.
type env struct {
	t    testing.TB
	fake *fakeslack.Server
	ch   *slack.Channel
	desk *fakeDesk
	in   chan bot.Inbound
	// deliver, if set, replaces pushing to in.
	deliver func(context.Context, bot.Inbound)
}

type envOpt func(*slack.Config, *[]slack.Option)

func start(t testing.TB, opts ...envOpt) *env {
	t.Helper()
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	for _, u := range []fakeslack.User{{ID: customerU, Name: "cara", RealName: "Cara Customer"},
		{ID: alice, Name: "Alice", RealName: "Alice Agent"}, {ID: bob, Name: "Bob", RealName: "Bob Agent"}} {
		fake.AddUser(u)
	}
	e := &env{t: t, fake: fake, in: make(chan bot.Inbound, 256)}
	cfg := testConfig()
	sopts := []slack.Option{slack.WithAPIURL(fake.APIURL())}
	for _, o := range opts {
		o(&cfg, &sopts)
	}
	ch, err := slack.New(cfg, slack.Tokens{Bot: fake.BotToken, App: fake.AppToken, Signing: secret}, nil, testLog(t), sopts...)
	if err != nil {
		t.Fatal(err)
	}
	e.ch = ch
	e.desk = newFakeDesk(ch)
	ch.SetDesk(e.desk)
	return e
}

// listen runs Listen until the test ends and waits for the websocket.
func (e *env) listen() *env {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.ch.Listen(ctx, func(ctx context.Context, in bot.Inbound) {
			if e.deliver != nil {
				e.deliver(ctx, in)
				return
			}
			e.in <- in
		})
	}()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("Listen = %v after cancel, want nil", err)
			}
		case <-time.After(wait):
			e.t.Errorf("Listen did not return after cancel")
		}
	})
	return e
}

// connected waits until Listen takes events.
func (e *env) connected() *env {
	e.t.Helper()
	select {
	case <-e.ch.Ready():
	case <-time.After(wait):
		e.t.Fatal("Listen never became ready")
	}
	return e
}

func customerAddr() bot.Address {
	return bot.Address{Channel: "slack", Space: fakeslack.DefaultTeam, Room: customerDM}
}

func (e *env) next() bot.Inbound {
	e.t.Helper()
	select {
	case in := <-e.in:
		return in
	case <-time.After(wait):
		e.t.Fatal("nothing delivered")
	}
	return bot.Inbound{}
}

// say makes the customer write text in their DM with the bot.
func (e *env) say(text string) (eventID string) {
	e.t.Helper()
	return e.push(fakeslack.Message{Channel: customerDM, User: customerU, Text: text})
}

func (e *env) push(m fakeslack.Message) (eventID string) {
	e.t.Helper()
	payload, id := e.fake.Event(m)
	env, err := e.fake.PushEvent(within(e.t), payload)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.fake.WaitAck(within(e.t), env); err != nil {
		e.t.Fatalf("envelope %s not acked: %v", env, err)
	}
	return id
}

func (e *env) click(user string, p fakeslack.Post, actionID string) {
	e.t.Helper()
	if err := e.press(within(e.t), user, p, actionID); err != nil {
		e.t.Fatal(err)
	}
}

// press clicks the button actionID of p as user and waits for the ack; it
// may run on any goroutine.
func (e *env) press(ctx context.Context, user string, p fakeslack.Post, actionID string) error {
	var b *fakeslack.Button
	for _, x := range p.Buttons() {
		if x.ActionID == actionID {
			b = &x
		}
	}
	if b == nil {
		return fmt.Errorf("no %s button on %s/%s: %v", actionID, p.Channel, p.TS, p.Buttons())
	}
	payload := e.fake.BlockAction(fakeslack.Action{User: user, Channel: p.Channel, MessageTS: p.TS,
		ThreadTS: p.ThreadTS, ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value, Label: b.Text, Text: p.Text})
	env, err := e.fake.PushInteractive(ctx, payload)
	if err != nil {
		return err
	}
	_, err = e.fake.WaitAck(ctx, env)
	return err
}

func (e *env) waitPost(pred func(fakeslack.Post) bool) fakeslack.Post {
	e.t.Helper()
	p, err := e.fake.WaitPost(within(e.t), pred)
	if err != nil {
		e.t.Fatalf("post not seen: %v\nposts: %s", err, dump(e.fake.Posts()))
	}
	return p
}

func (e *env) waitPostFrom(from int, pred func(fakeslack.Post) bool) fakeslack.Post {
	e.t.Helper()
	p, err := e.fake.WaitPostFrom(within(e.t), from, pred)
	if err != nil {
		e.t.Fatalf("post not seen: %v\nposts: %s", err, dump(e.fake.Posts()[from:]))
	}
	return p
}

func dump(ps []fakeslack.Post) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n  %s %s ts=%s thread=%s user=%s: %q", p.Method, p.Channel, p.TS, p.ThreadTS, p.User, p.AllText())
	}
	return b.String()
}

// fullCard is a card with every field set, for a conversation of addr.
func fullCard(addr bot.Address) handoff.Card {
	now := time.Now()
	return handoff.Card{
		Conv: addr.ConversationID(), Customer: bot.Customer{ID: "slack:" + customerU, Name: "Cara Customer"},
		Platform: "slack", Lang: "nb", AgentLang: "en", Intent: "refund_status", Confidence: 0.42,
		Reason: bot.ReasonRequested, Tried: []string{"refund_policy", "faq:returns-window"},
		Sentiment: "negative",
		History: []handoff.Past{{Conv: "web::x:", Channel: "web", Outcome: "agent", CSAT: 2,
			Started: now.Add(-72 * time.Hour), Subject: "Parcel never arrived"}},
		Summary: "Customer waits for a refund of order 1234 since March.",
		Last: []bot.Message{
			{Role: bot.RoleCustomer, Text: "Hvor er refusjonen min?"},
			{Role: bot.RoleBot, Text: "Refunds take 5-7 days."},
			{Role: bot.RoleCustomer, Text: "I need a human"},
		},
		State: bot.StateQueued, Position: 1, Since: now.Add(-3 * time.Minute),
		Topic: "Refund status", Contact: "cara@example.test",
	}
}

// fakeDesk is a small in-memory desk with the real one's contract: atomic
// claim, reply claims an unclaimed conversation, and the workspace is told
// after every change.
type fakeDesk struct {
	ws  handoff.Workspace
	out bot.Sender

	mu     sync.Mutex
	convs  map[bot.ConversationID]*deskConv
	agents map[string]handoff.Agent
	notes  []string
	calls  chan string // "claim:<agent>:<conv>:<ok|taken>", "reply:…", "note:…", "resolve:…", "status:…"
}

type deskConv struct {
	card handoff.Card
	addr bot.Address
}

func newFakeDesk(ch *slack.Channel) *fakeDesk {
	return &fakeDesk{ws: ch, out: ch, convs: map[bot.ConversationID]*deskConv{},
		agents: map[string]handoff.Agent{}, calls: make(chan string, 1024)}
}

func (d *fakeDesk) called(s string) {
	select {
	case d.calls <- s:
	default:
	}
}

// handoff queues the conversation of addr and announces its card.
func (d *fakeDesk) handoff(ctx context.Context, card handoff.Card, addr bot.Address) (handoff.Card, error) {
	refs, err := d.ws.Announce(ctx, card)
	if err != nil {
		return card, err
	}
	card.Refs = refs
	d.mu.Lock()
	d.convs[card.Conv] = &deskConv{card: card, addr: addr}
	d.mu.Unlock()
	return card, nil
}

func (d *fakeDesk) card(id bot.ConversationID) handoff.Card {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.convs[id].card
}

func (d *fakeDesk) claim(id bot.ConversationID, a handoff.Agent) (handoff.Card, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.convs[id]
	switch {
	case !ok:
		return handoff.Card{}, false, fmt.Errorf("conversation %s: %w", id, bot.ErrNotFound)
	case c.card.Agent == a.ID:
		return c.card, false, nil
	case c.card.Agent != "":
		return handoff.Card{}, false, fmt.Errorf("claim %s: %w: held by %s", id, bot.ErrClaimed, c.card.Agent)
	}
	c.card.Agent, c.card.AgentName, c.card.State, c.card.Position = a.ID, a.Name, bot.StateAgent, 0
	return c.card, true, nil
}

func (d *fakeDesk) Claim(ctx context.Context, id bot.ConversationID, a handoff.Agent) error {
	card, changed, err := d.claim(id, a)
	if err != nil {
		d.called("claim:" + a.ID + ":taken")
		return err
	}
	d.called("claim:" + a.ID + ":ok")
	if changed {
		return d.ws.Update(ctx, card)
	}
	return nil
}

func (d *fakeDesk) Reply(ctx context.Context, id bot.ConversationID, a handoff.Agent, text string) error {
	card, changed, err := d.claim(id, a)
	if err != nil {
		d.called("reply:" + a.ID + ":taken")
		return err
	}
	if changed {
		if err := d.ws.Update(ctx, card); err != nil {
			return err
		}
	}
	d.mu.Lock()
	addr := d.convs[id].addr
	d.mu.Unlock()
	d.called("reply:" + a.ID + ":" + text)
	if err := d.out.Send(ctx, addr, bot.Reply{Kind: bot.KindAgent, Author: a.Name, Text: text}); err != nil {
		return err
	}
	return d.ws.Relay(ctx, card, bot.Message{Role: bot.RoleAgent, Author: a.Name, Text: text, Meta: map[string]string{"agent": a.ID}})
}

func (d *fakeDesk) Note(ctx context.Context, id bot.ConversationID, a handoff.Agent, text string) error {
	d.mu.Lock()
	d.notes = append(d.notes, text)
	card := d.convs[id].card
	d.mu.Unlock()
	d.called("note:" + a.ID + ":" + text)
	return d.ws.Relay(ctx, card, bot.Message{Role: bot.RoleSystem, Author: a.Name, Text: text, Meta: map[string]string{"agent": a.ID}})
}

func (d *fakeDesk) holderOnly(id bot.ConversationID, a handoff.Agent, next bot.State) (handoff.Card, bot.Address, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.convs[id]
	if !ok {
		return handoff.Card{}, bot.Address{}, bot.ErrNotFound
	}
	if c.card.Agent != a.ID {
		return handoff.Card{}, bot.Address{}, fmt.Errorf("not yours: %w", bot.ErrClaimed)
	}
	c.card.State = next
	if next == bot.StateQueued {
		c.card.Agent, c.card.AgentName = "", ""
	}
	return c.card, c.addr, nil
}

func (d *fakeDesk) Release(ctx context.Context, id bot.ConversationID, a handoff.Agent) error {
	card, _, err := d.holderOnly(id, a, bot.StateQueued)
	if err != nil {
		return err
	}
	d.called("release:" + a.ID)
	return d.ws.Update(ctx, card)
}

func (d *fakeDesk) Resolve(ctx context.Context, id bot.ConversationID, a handoff.Agent) error {
	card, addr, err := d.holderOnly(id, a, bot.StateResolved)
	if err != nil {
		return err
	}
	d.called("resolve:" + a.ID)
	if err := d.ws.Update(ctx, card); err != nil {
		return err
	}
	var choices []bot.Choice
	for i := 1; i <= 5; i++ {
		choices = append(choices, bot.Choice{Label: strings.Repeat("★", i), Value: fmt.Sprint(i)})
	}
	return d.out.Send(ctx, addr, bot.Reply{Kind: bot.KindCSAT, Text: "How did we do?", Choices: choices})
}

func (d *fakeDesk) SetStatus(_ context.Context, a handoff.Agent, s handoff.Availability) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	a.Status = s
	d.agents[a.ID] = a
	d.called("status:" + a.ID + ":" + string(s))
	return nil
}

func (d *fakeDesk) Agents(context.Context) ([]handoff.Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []handoff.Agent
	for _, a := range d.agents {
		for _, c := range d.convs {
			if c.card.Agent == a.ID && c.card.State == bot.StateAgent {
				a.Active++
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func (d *fakeDesk) Queue(context.Context) ([]handoff.Card, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []handoff.Card
	for _, c := range d.convs {
		if c.card.State == bot.StateQueued {
			out = append(out, c.card)
		}
	}
	return out, nil
}

// waitCall waits for a desk call starting with prefix.
func (d *fakeDesk) waitCall(t testing.TB, prefix string) string {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case s := <-d.calls:
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-timeout:
			t.Fatalf("desk call %q not seen", prefix)
			return ""
		}
	}
}
