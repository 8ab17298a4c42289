package slack_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/slack"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/internal/fakeslack"
	"github.com/supportbot/supportbot/store/embedded"
)

// handedOff runs a customer's "I need a human" through the adapter and the
// desk, and returns the conversation, its address and the posted card.
func (e *env) handedOff() (bot.ConversationID, bot.Address, fakeslack.Post) {
	e.t.Helper()
	e.say("I need a human")
	in := e.next()
	card, err := e.desk.handoff(within(e.t), fullCard(in.Msg.From), in.Msg.From)
	if err != nil {
		e.t.Fatalf("announce: %v", err)
	}
	p := e.waitPost(fakeslack.In(handoffCh))
	if card.Refs[slack.RefChannel] != p.Channel || card.Refs[slack.RefTS] != p.TS {
		e.t.Fatalf("refs %v do not point at the card %s/%s", card.Refs, p.Channel, p.TS)
	}
	return card.Conv, in.Msg.From, p
}

func TestHandoffCardHasFullContext(t *testing.T) {
	e := start(t).listen().connected()
	e.say("I need a human")
	in := e.next()
	if !strings.HasPrefix(in.Key, "slack:Ev") || in.Msg.Text != "I need a human" {
		t.Fatalf("inbound = %q %q, want key slack:<event_id> and the text", in.Key, in.Msg.Text)
	}
	if in.Msg.Customer.ID != "slack:"+customerU || in.Msg.Customer.Name == "" {
		t.Errorf("customer = %+v, want slack:%s with a name from users.info", in.Msg.Customer, customerU)
	}
	if _, err := e.desk.handoff(within(t), fullCard(in.Msg.From), in.Msg.From); err != nil {
		t.Fatal(err)
	}
	p := e.waitPost(fakeslack.In(handoffCh))
	text := p.AllText()
	for _, want := range []string{
		"Cara Customer on slack",              // customer and platform
		"nb (shown in en)",                    // language
		"refund_status (42%)",                 // intent + confidence
		"requested",                           // reason code
		"refund_policy", "faq:returns-window", // what the bot answered
		"negative",                                                         // sentiment
		"1 previous conversation", "last CSAT 2/5", "Parcel never arrived", // history
		"refund of order 1234",                      // summary
		"Hvor er refusjonen min?", "I need a human", // last messages
		"Waiting for an agent",
		"Refund status", "cara@example.test", // topic, contact
	} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %q:\n%s", want, text)
		}
	}
	if b := p.Buttons(); len(b) != 1 || b[0].ActionID != "handoff_claim" || b[0].Value != string(in.Msg.From.ConversationID()) {
		t.Errorf("buttons = %+v, want one Claim carrying the conversation ID", b)
	}
}

func TestClaimRaceOneWinner(t *testing.T) {
	e := start(t).listen().connected()
	conv, _, card := e.handedOff()
	before := e.fake.Len()
	var wg sync.WaitGroup
	for _, u := range []string{alice, bob} {
		wg.Go(func() {
			if err := e.press(within(t), u, card, "handoff_claim"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	first, second := e.desk.waitCall(t, "claim:"), e.desk.waitCall(t, "claim:")
	if strings.HasSuffix(first, ":ok") == strings.HasSuffix(second, ":ok") {
		t.Fatalf("claims %q and %q: want exactly one winner", first, second)
	}
	winner := e.desk.card(conv).Agent
	loser := bob
	if winner == "slack:"+bob {
		loser = alice
	}
	up := e.waitPostFrom(before, fakeslack.Updated(handoffCh, card.TS))
	if !strings.Contains(up.AllText(), "Claimed by <@"+strings.TrimPrefix(winner, "slack:")+">") {
		t.Errorf("updated card %q does not say who claimed it", up.AllText())
	}
	if b := up.Buttons(); len(b) != 2 || b[0].ActionID != "handoff_release" || b[1].ActionID != "handoff_resolve" {
		t.Errorf("claimed card buttons = %+v, want Release and Resolve", b)
	}
	eph := e.waitPostFrom(before, fakeslack.EphemeralTo(loser))
	if !strings.Contains(eph.Text, "Already taken by <@"+strings.TrimPrefix(winner, "slack:")+">") {
		t.Errorf("loser was told %q, want who took it", eph.Text)
	}
}

func TestThreadRelaysBothWays(t *testing.T) {
	e := start(t).listen().connected()
	conv, addr, card := e.handedOff()
	e.click(alice, card, "handoff_claim")
	e.waitPost(fakeslack.Updated(handoffCh, card.TS))

	// customer → agent: the desk relays into the card's thread.
	e.say("it was order 1234")
	in := e.next()
	if in.Msg.From.ConversationID() != conv {
		t.Fatalf("customer message landed in %s, want %s", in.Msg.From.ConversationID(), conv)
	}
	if err := e.ch.Relay(within(t), e.desk.card(conv), in.Msg); err != nil {
		t.Fatal(err)
	}
	got := e.waitPost(fakeslack.InThread(handoffCh, card.TS))
	if !strings.Contains(got.Text, "Cara Customer:* it was order 1234") {
		t.Errorf("relayed %q, want the customer's name and words", got.Text)
	}

	// agent → customer: a thread reply goes through Desk.Reply, with Slack
	// markup turned into plain text.
	before := e.fake.Len()
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS,
		Text: "Found it &amp; fixed, see <https://help.test/refunds|the refund page>, <@U0BOB> knows too"})
	call := e.desk.waitCall(t, "reply:slack:"+alice)
	if want := "reply:slack:" + alice + ":Found it & fixed, see the refund page (https://help.test/refunds), @Bob knows too"; call != want {
		t.Errorf("desk got %q\nwant %q", call, want)
	}
	out := e.waitPostFrom(before, func(p fakeslack.Post) bool { return p.Channel == addr.Room && p.Method == "chat.postMessage" })
	if !strings.Contains(out.Text, "Alice:* Found it &amp; fixed") {
		t.Errorf("customer got %q", out.Text)
	}
	for _, p := range e.fake.Posts()[before:] {
		if p.Channel == handoffCh && p.ThreadTS == card.TS && p.Method == "chat.postMessage" {
			t.Errorf("the agent's own reply was echoed into the thread: %q", p.Text)
		}
	}
}

func TestNoteStaysInternal(t *testing.T) {
	e := start(t).listen().connected()
	_, addr, card := e.handedOff()
	e.click(alice, card, "handoff_claim")
	e.waitPost(fakeslack.Updated(handoffCh, card.TS))
	before := e.fake.Len()
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "NOTE: VIP customer, refund manually"})
	if call := e.desk.waitCall(t, "note:"); call != "note:slack:"+alice+":VIP customer, refund manually" {
		t.Errorf("desk got %q", call)
	}
	// a later marker proves the note's turn is over
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "marker"})
	e.desk.waitCall(t, "reply:")
	e.waitPostFrom(before, fakeslack.Contains("marker"))
	for _, p := range e.fake.Posts()[before:] {
		if strings.Contains(p.AllText(), "VIP") {
			t.Errorf("the note was posted (%s to %s): %q", p.Method, p.Channel, p.Text)
		}
		if p.Channel == addr.Room && !strings.Contains(p.Text, "marker") {
			t.Errorf("customer got %q", p.Text)
		}
	}
}

func TestThreadReplyClaimsUnclaimedCard(t *testing.T) {
	e := start(t).listen().connected()
	conv, _, card := e.handedOff()
	e.push(fakeslack.Message{Channel: handoffCh, User: bob, ThreadTS: card.TS, Text: "Hi, Bob here"})
	e.desk.waitCall(t, "reply:slack:"+bob)
	up := e.waitPost(fakeslack.Updated(handoffCh, card.TS))
	if !strings.Contains(up.AllText(), "Claimed by <@"+bob+">") || e.desk.card(conv).Agent != "slack:"+bob {
		t.Errorf("card after reply: %q", up.AllText())
	}
	// Alice now replies too: she is told it is taken, the customer gets nothing from her.
	before := e.fake.Len()
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "me too"})
	eph := e.waitPostFrom(before, fakeslack.EphemeralTo(alice))
	if !strings.Contains(eph.Text, "already taken by <@"+bob+">") || eph.ThreadTS != card.TS {
		t.Errorf("alice was told %q in thread %q", eph.Text, eph.ThreadTS)
	}
}

func TestResolveThenCSAT(t *testing.T) {
	e := start(t).listen().connected()
	conv, addr, card := e.handedOff()
	e.click(alice, card, "handoff_claim")
	claimed := e.waitPost(fakeslack.Updated(handoffCh, card.TS))
	before := e.fake.Len()
	e.click(alice, claimed, "handoff_resolve")
	resolved := e.waitPostFrom(before, fakeslack.Updated(handoffCh, card.TS))
	if !strings.Contains(resolved.AllText(), "Resolved") || len(resolved.Buttons()) != 0 {
		t.Errorf("resolved card: %q buttons %v", resolved.AllText(), resolved.Buttons())
	}
	csat := e.waitPostFrom(before, func(p fakeslack.Post) bool { return p.Channel == addr.Room && len(p.Buttons()) == 5 })
	e.click(customerU, csat, "choice_4")
	in := e.next()
	if in.Msg.Text != "5" || in.Msg.From.ConversationID() != conv || in.Msg.Customer.ID != "slack:"+customerU {
		t.Errorf("pressing ★★★★★ delivered %q in %s from %s", in.Msg.Text, in.Msg.From.ConversationID(), in.Msg.Customer.ID)
	}
	done := e.waitPostFrom(before, fakeslack.Updated(addr.Room, csat.TS))
	if len(done.Buttons()) != 0 || !strings.Contains(done.AllText(), "★★★★★") {
		t.Errorf("CSAT message after the press: %q %v, want the choice and no buttons", done.AllText(), done.Buttons())
	}
}

func TestReleaseAndForeignResolve(t *testing.T) {
	e := start(t).listen().connected()
	_, _, card := e.handedOff()
	e.click(alice, card, "handoff_claim")
	claimed := e.waitPost(fakeslack.Updated(handoffCh, card.TS))
	before := e.fake.Len()
	e.click(bob, claimed, "handoff_resolve")
	if eph := e.waitPostFrom(before, fakeslack.EphemeralTo(bob)); !strings.Contains(eph.Text, "Already taken by <@"+alice+">") {
		t.Errorf("bob was told %q", eph.Text)
	}
	e.click(alice, claimed, "handoff_release")
	up := e.waitPostFrom(before, fakeslack.Updated(handoffCh, card.TS))
	if b := up.Buttons(); len(b) != 1 || b[0].ActionID != "handoff_claim" {
		t.Errorf("released card buttons = %v, want Claim again", b)
	}
}

func TestRemindAndEscalate(t *testing.T) {
	e := start(t).listen().connected()
	conv, _, card := e.handedOff()
	k := e.desk.card(conv)
	ctx := within(t)

	if err := e.ch.Remind(ctx, k, 1); err != nil {
		t.Fatal(err)
	}
	r1 := e.waitPost(fakeslack.InThread(handoffCh, card.TS))
	if !r1.Broadcast || !strings.Contains(r1.Text, "still waiting") || strings.Contains(r1.Text, "<!") {
		t.Errorf("level 1 = %q broadcast=%v, want a quiet bump in the thread", r1.Text, r1.Broadcast)
	}

	before := e.fake.Len()
	if err := e.ch.Remind(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	r2 := e.waitPostFrom(before, fakeslack.InThread(handoffCh, card.TS))
	if !strings.HasPrefix(r2.Text, "<!subteam^"+escGroup+">") || !r2.Broadcast {
		t.Errorf("level 2 = %q, want the escalation group mentioned", r2.Text)
	}

	k.Reason = bot.ReasonComplaint
	before = e.fake.Len()
	if err := e.ch.Remind(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	m := e.waitPostFrom(before, fakeslack.In(managerCh))
	if !strings.Contains(m.Text, "Complaint from Cara Customer") ||
		!strings.Contains(m.Text, "https://slack.com/archives/"+handoffCh+"/p"+strings.ReplaceAll(card.TS, ".", "")) {
		t.Errorf("complaint escalation = %q, want the customer and a link to the card", m.Text)
	}
}

func TestMentionInjectionArrivesEscaped(t *testing.T) {
	e := start(t).listen().connected()
	// What a customer on another platform may type, verbatim.
	evil := "<!everyone> <!here> <!subteam^S0ESC|@support> <@U0ALICE> @here @channel hi & bye"
	addr := bot.Address{Channel: "web", Room: "w1"}
	k := fullCard(addr)
	k.Customer.Name = "<@U0ALICE> @channel"
	k.Summary, k.Last = evil, []bot.Message{{Role: bot.RoleCustomer, Text: evil}}
	if _, err := e.desk.handoff(within(t), k, addr); err != nil {
		t.Fatal(err)
	}
	if err := e.ch.Relay(within(t), e.desk.card(k.Conv), bot.Message{Role: bot.RoleCustomer, Text: evil}); err != nil {
		t.Fatal(err)
	}
	cardPost := e.waitPost(fakeslack.In(handoffCh))
	relay := e.waitPost(fakeslack.InThread(handoffCh, cardPost.TS))
	for _, p := range []fakeslack.Post{cardPost, relay} {
		if why := pings(p); why != "" {
			t.Errorf("%s would ping: %s\n%s", p.Method, why, p.AllText())
		}
	}
	if !strings.Contains(relay.Text, "&lt;!everyone&gt;") || !strings.Contains(relay.Text, "hi &amp; bye") {
		t.Errorf("relay %q, want the text escaped, not dropped", relay.Text)
	}
}

// pings says why Slack would notify someone for p, "" if nobody.
func pings(p fakeslack.Post) string {
	text := strings.NewReplacer("<!date^", "").Replace(p.AllText()) // our own timestamps
	for _, s := range []string{"<!", "<@", "<#"} {
		if strings.Contains(text, s) {
			return "markup " + s
		}
	}
	low := strings.ToLower(text)
	for _, w := range []string{"@here", "@channel", "@everyone"} {
		if strings.Contains(low, w) {
			return "bare " + w
		}
	}
	return ""
}

func TestThreadFoundAfterRestart(t *testing.T) {
	e := start(t).listen().connected()
	conv, _, card := e.handedOff()
	// A second process (a restart, another replica) with an empty index:
	// it finds the card thread from the desk's queue (Card.Refs).
	ch, err := slack.New(testConfig(), slack.Tokens{Bot: e.fake.BotToken, App: e.fake.AppToken}, e.desk, testLog(t),
		slack.WithAPIURL(e.fake.APIURL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Listen(ctx, func(context.Context, bot.Inbound) {}) }()
	defer func() { cancel(); <-done }()
	if err := e.fake.WaitConnections(within(t), 2); err != nil {
		t.Fatal(err)
	}
	// the fake pushes to the newest connection: the new process
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "on it"})
	if call := e.desk.waitCall(t, "reply:"); call != "reply:slack:"+alice+":on it" {
		t.Errorf("desk got %q", call)
	}
	if e.desk.card(conv).Agent != "slack:"+alice {
		t.Error("the reply did not reach the conversation")
	}
}

var _ handoff.Workspace = (*slack.Channel)(nil)

func TestThreadFoundInStoreAfterRestart(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "bot.db"), embedded.Options{SweepEvery: -1, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	withStore := func(_ *slack.Config, o *[]slack.Option) {
		*o = append(*o, slack.WithThreadStore(st), slack.WithDeduper(st))
	}
	e := start(t, withStore).listen().connected()
	posted := time.Now()
	_, _, card := e.handedOff()
	e.click(alice, card, "handoff_claim") // claimed: no longer in the queue
	e.waitPost(fakeslack.Updated(handoffCh, card.TS))
	// The record does not pile up for good: the store drops it after ThreadKeep.
	rec, err := st.Doc(context.Background(), "slack.thread/"+handoffCh+"/"+card.TS)
	if err != nil {
		t.Fatal(err)
	}
	if exp := rec.Expires; exp.Before(posted.Add(slack.ThreadKeep)) || exp.After(time.Now().Add(slack.ThreadKeep)) {
		t.Errorf("thread record expires %v, want ThreadKeep (%v) after the card was posted", exp, slack.ThreadKeep)
	}

	// A new process with an empty memory finds the thread in the store.
	ch, err := slack.New(testConfig(), slack.Tokens{Bot: e.fake.BotToken, App: e.fake.AppToken}, e.desk, testLog(t),
		slack.WithAPIURL(e.fake.APIURL()), slack.WithThreadStore(st), slack.WithDeduper(st))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Listen(ctx, func(context.Context, bot.Inbound) {}) }()
	defer func() { cancel(); <-done }()
	if err := e.fake.WaitConnections(within(t), 2); err != nil {
		t.Fatal(err)
	}
	payload, _ := e.fake.Event(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "back after the restart"})
	for range 2 { // and a retry of it, deduped through the store
		env, err := e.fake.PushEvent(within(t), payload)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.fake.WaitAck(within(t), env); err != nil {
			t.Fatal(err)
		}
	}
	if call := e.desk.waitCall(t, "reply:"); call != "reply:slack:"+alice+":back after the restart" {
		t.Errorf("desk got %q", call)
	}
	e.push(fakeslack.Message{Channel: handoffCh, User: alice, ThreadTS: card.TS, Text: "marker"})
	if call := e.desk.waitCall(t, "reply:"); call != "reply:slack:"+alice+":marker" {
		t.Errorf("the retried reply reached the desk twice; next call %q", call)
	}
}
