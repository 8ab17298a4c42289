package handoff

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Every agent action runs as a turn of the conversation through the Runner,
// so it is ordered with the customer's messages, and then updates the card
// in every workspace.

// errUnchanged ends a turn that found nothing to do (e.g. a second claim by
// the holder): nothing is saved, and the action succeeds.
var errUnchanged = errors.New("handoff: unchanged")

// act runs fn in a turn of id and returns the conversation as saved, or nil
// if fn returned errUnchanged.
func (d *Desk) act(ctx context.Context, id bot.ConversationID, fn func(ctx context.Context, t *bot.Turn) error) (*bot.Conversation, error) {
	var saved *bot.Conversation
	err := d.run.Do(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		saved = nil
		if err := fn(ctx, t); err != nil {
			return err
		}
		saved = cloneConv(t.Conv)
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return saved, nil
}

// agent fills a's name, skills and capacity from the roster when the caller
// gave only the ID.
func (d *Desk) agent(ctx context.Context, a Agent) Agent {
	if a.Name != "" {
		return a
	}
	if all, err := d.st.Agents(ctx); err == nil {
		for _, x := range all {
			if x.ID == a.ID {
				return x
			}
		}
	}
	a.Name = a.ID
	return a
}

// Claim gives the waiting conversation id to agent a. It is atomic across
// replicas: when another agent holds it, the error wraps bot.ErrClaimed.
// Claiming again by the holder succeeds and changes nothing. The customer
// is told that a joined; the card in every workspace shows the claim; SLA
// timers stop; a "claim" event records how long the customer waited.
// A conversation that is not waiting fails with ErrNotWaiting.
func (d *Desk) Claim(ctx context.Context, id bot.ConversationID, a Agent) error {
	a = d.agent(ctx, a)
	c, err := d.claim(ctx, id, a)
	if err != nil {
		return fmt.Errorf("claim %s: %w", id, err)
	}
	if c != nil {
		d.claimed(ctx, c)
	}
	return nil
}

// claim runs the claim turn, releasing the store claim if the turn failed.
func (d *Desk) claim(ctx context.Context, id bot.ConversationID, a Agent) (*bot.Conversation, error) {
	took := false
	c, err := d.act(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		var err error
		took, err = d.claimIn(ctx, t, a)
		return err
	})
	if err != nil && took && ctx.Err() == nil {
		d.undoClaim(ctx, id, a.ID)
	}
	return c, err
}

// undoClaim gives up a store claim whose turn failed, and makes the store
// agree with the conversation as saved: back in the queue (Store.Claim took
// it out) if it still waits, or claimed again by the agent who holds it.
func (d *Desk) undoClaim(ctx context.Context, id bot.ConversationID, agent string) {
	ctx = context.WithoutCancel(ctx)
	if err := d.st.Unclaim(ctx, id, agent); err != nil {
		d.log.Warn("undo claim", "conversation", id, "err", err)
		return
	}
	c, err := d.conv.Conversation(ctx, id)
	switch {
	case err != nil:
	case c.State == bot.StateQueued:
		err = d.st.Enqueue(ctx, entryOf(c))
	case c.State == bot.StateAgent && c.Agent != "":
		err = d.st.Claim(ctx, id, c.Agent)
	}
	if err != nil {
		d.log.Warn("undo claim: requeue", "conversation", id, "err", err)
	}
}

// claimIn claims t's conversation for a inside a turn. It reports whether
// it took the store's claim (to undo if the turn fails).
func (d *Desk) claimIn(ctx context.Context, t *bot.Turn, a Agent) (bool, error) {
	c := t.Conv
	switch {
	case c.State == bot.StateAgent && c.Agent == a.ID:
		return false, errUnchanged
	case c.State == bot.StateAgent:
		return false, fmt.Errorf("%w: held by %s", bot.ErrClaimed, holderName(c))
	case c.State != bot.StateQueued:
		return false, fmt.Errorf("%w (%s)", ErrNotWaiting, c.State)
	}
	if err := d.st.Claim(ctx, c.ID, a.ID); err != nil {
		return false, err
	}
	waited := t.Now.Sub(c.Queued)
	if err := c.Transition(bot.StateAgent, c.Reason, a.ID, t.Now); err != nil {
		return true, err
	}
	c.Set(dataAgentName, a.Name)
	for _, k := range []string{dataToldPos, dataToldAt, dataAwaitContact, dataAfterHours} {
		delete(c.Data, k)
	}
	t.Reply(bot.Reply{Kind: bot.KindNotice, Author: a.Name, Text: say(c.Lang, msgJoined, "{name}", a.Name),
		Meta: map[string]string{"agent": a.ID, "event": "joined"}})
	t.Record(bot.Event{Type: EventClaim, Agent: a.ID, Reason: c.Reason, Value: waited.Seconds()})
	return true, nil
}

// claimed is what follows a saved claim: timers stop, positions move, cards update.
func (d *Desk) claimed(ctx context.Context, c *bot.Conversation) {
	d.eta.invalidate()
	d.cancelTimers(ctx, c.ID)
	d.poke()
	d.updateCards(ctx, c)
}

func holderName(c *bot.Conversation) string {
	if n := c.Data[dataAgentName]; n != "" {
		return n
	}
	return c.Agent
}

// Reply sends agent a's text to the customer (as bot.KindAgent with a's
// name). Text starting with Config.NotePrefix is an internal note instead
// (see Note). An unclaimed conversation is claimed by a first; one held by
// another agent fails with ErrNotHolder (and bot.ErrClaimed).
func (d *Desk) Reply(ctx context.Context, id bot.ConversationID, a Agent, text string) error {
	text = strings.TrimSpace(text)
	if note, ok := cutPrefixFold(text, d.conf().NotePrefix); ok {
		return d.Note(ctx, id, a, note)
	}
	if text == "" {
		return fmt.Errorf("reply %s: %w", id, ErrEmpty)
	}
	a = d.agent(ctx, a)
	claimedNow, took := false, false
	sent, original := text, "" // what the customer reads; the agent's words if translated
	c, err := d.act(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		c := t.Conv
		claimedNow, took = false, false
		switch {
		case c.State == bot.StateQueued:
			var err error
			if took, err = d.claimIn(ctx, t, a); err != nil {
				return err
			}
			claimedNow = true
		case c.State == bot.StateAgent && c.Agent != a.ID:
			return fmt.Errorf("%w (%w: held by %s)", ErrNotHolder, bot.ErrClaimed, holderName(c))
		case c.State != bot.StateAgent:
			return fmt.Errorf("%w (%s)", ErrNotWaiting, c.State)
		}
		sent, original = d.forCustomer(ctx, c, text)
		t.Reply(bot.Reply{Kind: bot.KindAgent, Author: a.Name, Text: sent, Original: original, Meta: map[string]string{"agent": a.ID}})
		return nil
	})
	if err != nil {
		if took && ctx.Err() == nil {
			d.undoClaim(ctx, id, a.ID)
		}
		return fmt.Errorf("reply %s: %w", id, err)
	}
	if claimedNow {
		d.claimed(ctx, c)
	}
	meta := map[string]string{"agent": a.ID}
	if original != "" {
		meta["translation"] = sent // agents see their own words; the customer read this
	}
	d.relay(ctx, c, bot.Message{From: c.Address, Customer: c.Customer, Role: bot.RoleAgent, Author: a.Name,
		Text: text, Lang: d.agentLang(c), Kind: bot.KindAgent, Meta: meta, At: d.now()})
	return nil
}

// cutPrefixFold cuts prefix from s ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return strings.TrimSpace(s[len(prefix):]), true
}

// Note adds agent a's internal note to the transcript (role system, Kind
// KindNote, Meta["agent"]) and relays it to the workspaces. It is never
// sent to the customer. Any agent may note any conversation.
func (d *Desk) Note(ctx context.Context, id bot.ConversationID, a Agent, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return fmt.Errorf("note %s: %w", id, ErrEmpty)
	}
	a = d.agent(ctx, a)
	var note bot.Message
	c, err := d.act(ctx, id, func(_ context.Context, t *bot.Turn) error {
		note = bot.Message{ID: "note-" + strconv.FormatInt(t.Now.UnixNano(), 36), From: t.Conv.Address,
			Customer: t.Conv.Customer, Role: bot.RoleSystem, Author: a.Name, Text: text, Kind: KindNote,
			Meta: map[string]string{"agent": a.ID}, At: t.Now}
		t.Note(note)
		return nil
	})
	if err != nil {
		return fmt.Errorf("note %s: %w", id, err)
	}
	d.relay(ctx, c, note)
	return nil
}

// requeue puts t's conversation, held by a, back in the queue with reason,
// keeping its original place in line, and tells the customer.
func (d *Desk) requeue(ctx context.Context, t *bot.Turn, a Agent, reason bot.Reason, skill string, text msgKey) error {
	c := t.Conv
	if c.State != bot.StateAgent || c.Agent != a.ID {
		return notHolder(c)
	}
	if err := c.Transition(bot.StateQueued, reason, a.ID, t.Now); err != nil {
		return err
	}
	if skill != "" {
		c.Skill = skill
	}
	delete(c.Data, dataAgentName)
	c.Set(dataReleasedBy, a.ID)
	if err := d.st.Unclaim(ctx, c.ID, a.ID); err != nil {
		return err
	}
	if err := d.st.Enqueue(ctx, entryOf(c)); err != nil {
		return err
	}
	q, err := d.st.Queue(ctx)
	if err != nil {
		return err
	}
	pos := position(q, c.ID)
	t.Reply(bot.Reply{Kind: bot.KindQueue, Text: say(c.Lang, text) + " " + d.placeText(ctx, c.Lang, pos, false),
		Choices: leaveChoice(c.Lang), Meta: map[string]string{"position": strconv.Itoa(pos)}})
	c.Set(dataToldPos, strconv.Itoa(pos))
	c.Set(dataToldAt, t.Now.Format(time.RFC3339Nano))
	return nil
}

func notHolder(c *bot.Conversation) error {
	if c.State == bot.StateAgent {
		return fmt.Errorf("%w (held by %s)", ErrNotHolder, holderName(c))
	}
	return fmt.Errorf("%w (%s)", ErrNotHolder, c.State)
}

// requeued is what follows a saved release or transfer to a skill.
func (d *Desk) requeued(ctx context.Context, c *bot.Conversation) {
	d.scheduleSLA(ctx, c.ID, d.now())
	d.poke()
	d.updateCards(ctx, c)
}

// Release puts the conversation agent a holds back in the queue
// (ReasonReleased), at its original place in line. Only the holder may
// release (else ErrNotHolder).
func (d *Desk) Release(ctx context.Context, id bot.ConversationID, a Agent) error {
	a = d.agent(ctx, a)
	c, err := d.act(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		if err := d.requeue(ctx, t, a, bot.ReasonReleased, "", msgReleased); err != nil {
			return err
		}
		t.Record(bot.Event{Type: EventRelease, Agent: a.ID, Reason: bot.ReasonReleased})
		return nil
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", id, err)
	}
	d.requeued(ctx, c)
	return nil
}

// Transfer moves the conversation agent a holds to another agent (toAgent,
// an agent ID; they must be On, else ErrAgentUnavailable, and known, else
// ErrUnknownAgent) or back to the queue for a skill (toSkill), with
// ReasonTransferred. An unclaimed conversation may be transferred to an
// agent by anyone.
func (d *Desk) Transfer(ctx context.Context, id bot.ConversationID, a Agent, toAgent, toSkill string) error {
	a = d.agent(ctx, a)
	if toAgent == "" && toSkill == "" {
		return fmt.Errorf("transfer %s: no agent or skill to transfer to", id)
	}
	if toAgent == "" {
		c, err := d.act(ctx, id, func(ctx context.Context, t *bot.Turn) error {
			if err := d.requeue(ctx, t, a, bot.ReasonTransferred, toSkill, msgTransferredSkill); err != nil {
				return err
			}
			t.Record(bot.Event{Type: EventTransfer, Agent: a.ID, Reason: bot.ReasonTransferred,
				Meta: map[string]string{"to_skill": toSkill}})
			return nil
		})
		if err != nil {
			return fmt.Errorf("transfer %s: %w", id, err)
		}
		d.requeued(ctx, c)
		return nil
	}

	to, err := d.findAgent(ctx, toAgent)
	if err != nil {
		return fmt.Errorf("transfer %s: %w", id, err)
	}
	if to.Status != On {
		return fmt.Errorf("transfer %s: %w: %s is %s", id, ErrAgentUnavailable, to.Name, to.Status)
	}
	claimedTo := false
	c, err := d.act(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		c := t.Conv
		claimedTo = false
		switch {
		case c.State == bot.StateAgent && c.Agent == to.ID:
			return errUnchanged
		case c.State == bot.StateAgent && c.Agent != a.ID, c.State != bot.StateAgent && c.State != bot.StateQueued:
			return notHolder(c)
		}
		if c.State == bot.StateAgent {
			if err := d.st.Unclaim(ctx, c.ID, a.ID); err != nil {
				return err
			}
		}
		if err := d.st.Claim(ctx, c.ID, to.ID); err != nil {
			return err
		}
		claimedTo = true
		wasQueued := c.State == bot.StateQueued
		waited := t.Now.Sub(c.Queued)
		if err := c.Transition(bot.StateAgent, bot.ReasonTransferred, to.ID, t.Now); err != nil {
			return err
		}
		c.Set(dataAgentName, to.Name)
		t.Reply(bot.Reply{Kind: bot.KindNotice, Author: to.Name, Text: say(c.Lang, msgTransferredAgent, "{name}", to.Name),
			Meta: map[string]string{"agent": to.ID, "event": "joined"}})
		t.Record(bot.Event{Type: EventTransfer, Agent: a.ID, Reason: bot.ReasonTransferred,
			Meta: map[string]string{"to_agent": to.ID}})
		if wasQueued {
			t.Record(bot.Event{Type: EventClaim, Agent: to.ID, Reason: c.Reason, Value: waited.Seconds()})
		}
		return nil
	})
	if err != nil {
		if claimedTo && ctx.Err() == nil {
			d.undoClaim(ctx, id, to.ID)
		}
		return fmt.Errorf("transfer %s: %w", id, err)
	}
	if c == nil {
		return nil
	}
	d.claimed(ctx, c)
	if err := d.announce(ctx, id, to.ID); err != nil {
		d.log.Warn("announce transfer", "conversation", id, "err", err)
	}
	return nil
}

func (d *Desk) findAgent(ctx context.Context, id string) (Agent, error) {
	all, err := d.st.Agents(ctx)
	if err != nil {
		return Agent{}, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return Agent{}, fmt.Errorf("%w: %q", ErrUnknownAgent, id)
}

// Resolve closes the conversation agent a holds (or an unclaimed one) and
// hands it back to the bot: the customer is told, and asked one CSAT
// question (1–5 buttons). A "resolve" event records the seconds from
// handoff to resolve. Another agent's conversation fails with ErrNotHolder.
func (d *Desk) Resolve(ctx context.Context, id bot.ConversationID, a Agent) error {
	a = d.agent(ctx, a)
	c, err := d.act(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		c := t.Conv
		switch {
		case c.State == bot.StateAgent && c.Agent == a.ID:
			if err := d.st.Unclaim(ctx, c.ID, a.ID); err != nil {
				return err
			}
		case c.State == bot.StateQueued:
		default:
			return notHolder(c)
		}
		took := t.Now.Sub(since(c))
		if err := c.Transition(bot.StateResolved, bot.ReasonResolved, a.ID, t.Now); err != nil {
			return err
		}
		c.Agent = a.ID
		c.Set(dataAgentName, a.Name)
		clearEpisode(c)
		c.AwaitCSAT = true
		t.Reply(bot.Reply{Kind: bot.KindNotice, Author: a.Name, Text: say(c.Lang, msgResolved, "{name}", a.Name),
			Meta: map[string]string{"agent": a.ID, "event": "resolved"}})
		t.Reply(csatQuestion(c.Lang))
		t.Record(bot.Event{Type: EventResolve, Agent: a.ID, Reason: c.Reason, Value: took.Seconds()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("resolve %s: %w", id, err)
	}
	d.closeOut(ctx, id)
	d.updateCards(ctx, c)
	return nil
}

// SetStatus sets agent a's availability, creating or updating the agent
// in the roster: a's name, capacity, skills and languages replace the
// stored ones, except those left zero (so SetStatus(ctx, Agent{ID: id}, Away)
// only changes the status).
func (d *Desk) SetStatus(ctx context.Context, a Agent, s Availability) error {
	switch s {
	case On, Away, Off:
	default:
		return fmt.Errorf("set status: %q: want on, away or off", s)
	}
	if a.ID == "" {
		return fmt.Errorf("set status: %w: empty agent ID", ErrUnknownAgent)
	}
	if old, err := d.findAgent(ctx, a.ID); err == nil { // keep what the caller left out
		a.Name = cmp.Or(a.Name, old.Name)
		a.Capacity = cmp.Or(a.Capacity, old.Capacity)
		if a.Skills == nil {
			a.Skills = old.Skills
		}
		if a.Langs == nil {
			a.Langs = old.Langs
		}
	} else if !errors.Is(err, ErrUnknownAgent) {
		return fmt.Errorf("set status %s: %w", a.ID, err)
	}
	a.Name = cmp.Or(a.Name, a.ID)
	a.Status = s
	if err := d.st.PutAgent(ctx, a); err != nil {
		return fmt.Errorf("set status %s: %w", a.ID, err)
	}
	if s == On {
		d.poke()
	}
	return nil
}

// Agents lists the roster with how many conversations each agent holds.
func (d *Desk) Agents(ctx context.Context) ([]Agent, error) {
	all, err := d.st.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	return all, nil
}

// announce presents conversation id to the workspaces (to agent agentID
// when set: Assign routing, transfers; else to the handoff channel of each
// workspace that has not shown it yet) and keeps the refs they return. It
// runs as a turn, so refs are saved before the next customer message is
// relayed; a retried turn does not announce twice.
func (d *Desk) announce(ctx context.Context, id bot.ConversationID, agentID string) error {
	done := map[string]map[string]string{}
	err := d.run.Do(ctx, id, func(ctx context.Context, t *bot.Turn) error {
		c := t.Conv
		if agentID == "" && c.State != bot.StateQueued || agentID != "" && c.Agent != agentID {
			return errPeek // claimed, left or moved on before it was announced
		}
		card, err := d.card(ctx, c, nil)
		if err != nil {
			return err
		}
		for _, ws := range d.workspaces() {
			if _, ok := done[ws.Name()]; ok {
				continue
			}
			k := card
			k.Refs = refsOf(c, ws.Name())
			if agentID == "" && k.Refs != nil {
				continue // already in this workspace's handoff channel
			}
			refs, err := ws.Announce(ctx, k)
			if err != nil {
				d.log.Warn("announce", "workspace", ws.Name(), "conversation", id, "err", err)
				continue
			}
			done[ws.Name()] = refs
		}
		for name, refs := range done {
			for k, v := range refs {
				c.Set(dataRefPrefix+name+"."+k, v)
			}
		}
		return nil
	})
	if errors.Is(err, errPeek) {
		return nil
	}
	return err
}

// updateCards re-renders c's card in every workspace.
func (d *Desk) updateCards(ctx context.Context, c *bot.Conversation) {
	if c == nil {
		return
	}
	card, err := d.card(ctx, c, nil)
	if err != nil {
		d.log.Warn("update cards", "conversation", c.ID, "err", err)
		return
	}
	for _, ws := range d.workspaces() {
		k := card
		k.Refs = refsOf(c, ws.Name())
		if err := ws.Update(ctx, k); err != nil {
			d.log.Warn("update card", "workspace", ws.Name(), "conversation", c.ID, "err", err)
		}
	}
}

// refresh re-renders id's card once the turn in progress is saved.
func (d *Desk) refresh(ctx context.Context, id bot.ConversationID) error {
	c, err := d.peek(ctx, id)
	if err != nil {
		return err
	}
	d.updateCards(ctx, c)
	return nil
}
