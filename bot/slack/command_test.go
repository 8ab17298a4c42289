package slack_test

import (
	"strings"
	"testing"

	"github.com/supportbot/supportbot/internal/fakeslack"
)

func (e *env) command(user, text string) fakeslack.Post {
	e.t.Helper()
	before := e.fake.Len()
	env, err := e.fake.PushCommand(within(e.t), e.fake.CommandJSON(fakeslack.Command{Text: text, User: user, Channel: handoffCh}))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.fake.WaitAck(within(e.t), env); err != nil {
		e.t.Fatal(err)
	}
	return e.waitPostFrom(before, fakeslack.EphemeralTo(user))
}

func TestSupportCommand(t *testing.T) {
	e := start(t).listen().connected()
	if p := e.command(alice, "status"); !strings.Contains(p.Text, "not an agent yet") {
		t.Errorf("status before on: %q", p.Text)
	}
	if p := e.command(alice, " ON "); !strings.Contains(p.Text, "You are *on*") || p.ResponseType != "ephemeral" {
		t.Errorf("on: %q (%s)", p.Text, p.ResponseType)
	}
	if call := e.desk.waitCall(t, "status:"); call != "status:slack:"+alice+":on" {
		t.Errorf("desk got %q", call)
	}
	if p := e.command(alice, "status"); !strings.Contains(p.Text, "You are *on*, holding 0 of 1") {
		t.Errorf("status: %q", p.Text)
	}
	if p := e.command(alice, "away"); !strings.Contains(p.Text, "*away*") {
		t.Errorf("away: %q", p.Text)
	}
	if p := e.command(alice, "queue"); p.Text != "Nobody is waiting." {
		t.Errorf("empty queue: %q", p.Text)
	}
	if _, err := e.desk.handoff(within(t), fullCard(customerAddr()), customerAddr()); err != nil {
		t.Fatal(err)
	}
	card := e.waitPost(fakeslack.In(handoffCh))
	p := e.command(alice, "queue")
	if !strings.Contains(p.Text, "1 waiting") || !strings.Contains(p.Text, "Cara Customer (slack, nb, requested)") ||
		!strings.Contains(p.Text, strings.ReplaceAll(card.TS, ".", "")+"|card>") {
		t.Errorf("queue: %q", p.Text)
	}
	if p := e.command(alice, "off"); !strings.Contains(p.Text, "*off*") {
		t.Errorf("off: %q", p.Text)
	}
	if p := e.command(alice, "dance"); !strings.Contains(p.Text, "Usage") {
		t.Errorf("unknown word: %q", p.Text)
	}
}
