package handoff

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// Timer kinds the desk schedules (bot.Timer.Kind).
const (
	timerRenotify = "handoff.renotify" // SLA level 1
	timerEscalate = "handoff.escalate" // SLA level 2
	timerFollowUp = "handoff.followup" // after hours: remind the team when it opens
)

func timerKey(kind string, id bot.ConversationID) string { return kind + ":" + string(id) }

func (d *Desk) schedule(ctx context.Context, t bot.Timer) {
	if d.timers == nil {
		return
	}
	if err := d.timers.Schedule(ctx, t); err != nil {
		d.log.Warn("schedule timer", "key", t.Key, "err", err)
	}
}

// scheduleSLA (re)starts the SLA clock of a waiting conversation at from.
func (d *Desk) scheduleSLA(ctx context.Context, id bot.ConversationID, from time.Time) {
	d.schedule(ctx, bot.Timer{Key: timerKey(timerRenotify, id), At: from.Add(d.conf().RenotifyAfter), Kind: timerRenotify, Conv: id})
	d.schedule(ctx, bot.Timer{Key: timerKey(timerEscalate, id), At: from.Add(d.conf().EscalateAfter), Kind: timerEscalate, Conv: id})
}

// cancelTimers stops the SLA and follow-up timers of id.
func (d *Desk) cancelTimers(ctx context.Context, id bot.ConversationID) {
	if d.timers == nil {
		return
	}
	for _, k := range []string{timerRenotify, timerEscalate, timerFollowUp} {
		if err := d.timers.Cancel(ctx, timerKey(k, id)); err != nil {
			d.log.Warn("cancel timer", "key", timerKey(k, id), "err", err)
		}
	}
}

// Run owns the desk's background work until ctx is canceled: due timers
// (SLA re-notify and escalation, after-hours follow-ups) on every replica,
// and, on the one replica holding the queue lease, the queue loop: Assign
// routing and queue-position updates to waiting customers. It returns nil
// after ctx is canceled and every goroutine the desk started has exited.
func (d *Desk) Run(ctx context.Context) error {
	defer func() {
		d.mu.Lock()
		d.closing = true
		d.mu.Unlock()
		d.wg.Wait()
	}()
	tick := time.NewTicker(d.conf().Tick)
	defer tick.Stop()
	q := &queueLoop{d: d, lastPos: map[bot.ConversationID]int{}, ghosts: map[bot.ConversationID]time.Time{}}
	defer q.resign()
	q.serve(ctx, true)
	for {
		kicked := false
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-d.kick:
			kicked = true
		}
		d.fireTimers(ctx)
		q.serve(ctx, kicked)
	}
}

// fireTimers handles every due timer.
func (d *Desk) fireTimers(ctx context.Context) {
	if d.timers == nil {
		return
	}
	for ctx.Err() == nil {
		due, err := d.timers.Due(ctx, d.now(), 50)
		if err != nil {
			d.log.Warn("due timers", "err", err)
			return
		}
		for _, t := range due {
			d.fire(ctx, t)
		}
		if len(due) < 50 {
			return
		}
	}
}

// fire handles one due timer: it reminds (level 1) or escalates (level 2)
// in every workspace if the conversation still waits, first showing the
// card in workspaces that never did (Assign routing found nobody). A timer
// that fails is tried again a minute later.
func (d *Desk) fire(ctx context.Context, t bot.Timer) {
	level := 0
	switch t.Kind {
	case timerRenotify, timerFollowUp:
		level = 1
	case timerEscalate:
		level = 2
	default:
		d.log.Warn("timer of unknown kind dropped", "key", t.Key, "kind", t.Kind)
		return
	}
	err := d.remind(ctx, t.Conv, level, t.Kind)
	if err != nil && !errors.Is(err, bot.ErrNotFound) && ctx.Err() == nil {
		d.log.Warn("timer failed; retrying in a minute", "key", t.Key, "err", err)
		t.At = d.now().Add(time.Minute)
		d.schedule(ctx, t)
	}
}

func (d *Desk) remind(ctx context.Context, id bot.ConversationID, level int, kind string) error {
	c, err := d.conv.Conversation(ctx, id)
	if err != nil {
		return err
	}
	if c.State != bot.StateQueued {
		return nil
	}
	if d.unannounced(c) { // Assign routing found nobody: show it to everyone now
		if err := d.announce(ctx, id, ""); err != nil {
			d.log.Warn("announce before reminding", "conversation", id, "err", err)
		}
		if c, err = d.conv.Conversation(ctx, id); err != nil {
			return err
		}
	}
	card, err := d.card(ctx, c, nil)
	if err != nil {
		return err
	}
	for _, ws := range d.workspaces() {
		k := card
		k.Refs = refsOf(c, ws.Name())
		if err := ws.Remind(ctx, k, level); err != nil {
			d.log.Warn("remind", "workspace", ws.Name(), "conversation", id, "level", level, "err", err)
		}
	}
	d.record(ctx, bot.Event{Type: EventRemind, Conv: id, Channel: c.Address.Channel, Lang: c.Lang, Reason: c.Reason,
		Value: float64(level), Meta: map[string]string{"kind": kind, "priority": strconv.Itoa(c.Priority)}})
	return nil
}

// unannounced reports whether some workspace has never shown c.
func (d *Desk) unannounced(c *bot.Conversation) bool {
	for _, ws := range d.workspaces() {
		if refsOf(c, ws.Name()) == nil {
			return true
		}
	}
	return false
}

// queueLoop is the work one replica at a time does on the whole queue.
type queueLoop struct {
	d        *Desk
	leader   bool
	leasedAt time.Time
	served   time.Time
	lastPos  map[bot.ConversationID]int       // position last looked at, to skip unchanged ones
	ghosts   map[bot.ConversationID]time.Time // entries whose conversation is not queued, since
}

// ghostGrace is how long a queue entry may disagree with its conversation
// before it is removed (a turn that enqueued it may still be saving).
const ghostGrace = time.Minute

func (q *queueLoop) leaseTTL() time.Duration {
	return max(queueLeaseMinimum, 5*q.d.conf().Tick)
}

// lead acquires or renews the queue lease; it reports whether this replica holds it.
func (q *queueLoop) lead(ctx context.Context) bool {
	d := q.d
	if d.leaser == nil {
		return true
	}
	now := d.now()
	if q.leader && now.Sub(q.leasedAt) < q.leaseTTL()/3 {
		return true
	}
	ok, err := d.leaser.Lease(ctx, queueLeaseName, d.owner, q.leaseTTL())
	if err != nil {
		d.log.Warn("queue lease", "err", err)
		ok = false
	}
	if ok != q.leader {
		d.log.Info("queue loop", "leader", ok, "owner", d.owner)
		clear(q.lastPos)
	}
	q.leader, q.leasedAt = ok, now
	return ok
}

func (q *queueLoop) resign() {
	if q.leader && q.d.leaser != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.d.leaser.Unlease(ctx, queueLeaseName, q.d.owner); err != nil {
			q.d.log.Warn("queue unlease", "err", err)
		}
	}
}

// serve assigns waiting conversations (Assign routing) and tells
// customers whose place improved. Without a kick it runs every few ticks.
func (q *queueLoop) serve(ctx context.Context, kicked bool) {
	d := q.d
	if !q.lead(ctx) {
		return
	}
	now := d.now()
	if !kicked && now.Sub(q.served) < 5*d.conf().Tick {
		return
	}
	q.served = now
	entries, err := d.st.Queue(ctx)
	if err != nil {
		d.log.Warn("queue loop", "err", err)
		return
	}
	live, convs := q.live(ctx, entries)
	if d.conf().Routing == Assign {
		live = q.assign(ctx, live, convs)
	}
	if open, _ := d.Open(now); !open {
		clear(q.lastPos) // positions are told again once the team opens
		return
	}
	seen := make(map[bot.ConversationID]bool, len(live))
	for i, e := range live {
		seen[e.Conv] = true
		pos := i + 1
		if q.lastPos[e.Conv] == pos {
			continue
		}
		if err := d.tellPosition(ctx, e.Conv, pos); err != nil {
			d.log.Warn("queue position", "conversation", e.Conv, "err", err)
			continue
		}
		q.lastPos[e.Conv] = pos
	}
	for id := range q.lastPos {
		if !seen[id] {
			delete(q.lastPos, id)
		}
	}
}

// live drops entries whose conversation no longer waits, and removes those
// that have disagreed for ghostGrace.
func (q *queueLoop) live(ctx context.Context, entries []Entry) ([]Entry, map[bot.ConversationID]*bot.Conversation) {
	d := q.d
	now := d.now()
	out := entries[:0:0]
	convs := map[bot.ConversationID]*bot.Conversation{}
	seen := map[bot.ConversationID]bool{}
	for _, e := range entries {
		c, err := d.conv.Conversation(ctx, e.Conv)
		switch {
		case err == nil && c.State == bot.StateQueued:
			out = append(out, e)
			convs[e.Conv] = c
			continue
		case err != nil && !errors.Is(err, bot.ErrNotFound):
			d.log.Warn("queue loop: load", "conversation", e.Conv, "err", err)
			out = append(out, e)
			continue
		}
		seen[e.Conv] = true
		first, ok := q.ghosts[e.Conv]
		if !ok {
			q.ghosts[e.Conv] = now
			continue
		}
		if now.Sub(first) >= ghostGrace {
			if err := d.st.Dequeue(ctx, e.Conv); err != nil {
				d.log.Warn("queue loop: dequeue", "conversation", e.Conv, "err", err)
				continue
			}
			d.log.Info("removed a stale queue entry", "conversation", e.Conv)
			delete(q.ghosts, e.Conv)
		}
	}
	for id := range q.ghosts {
		if !seen[id] {
			delete(q.ghosts, id)
		}
	}
	return out, convs
}

// assign gives waiting conversations, in queue order, to the agents the
// Selector picks, and returns the ones still waiting. A conversation claimed
// meanwhile (bot.ErrClaimed) is skipped and the next one served. An agent
// who released a conversation is not given it back while someone else fits.
func (q *queueLoop) assign(ctx context.Context, live []Entry, convs map[bot.ConversationID]*bot.Conversation) []Entry {
	d := q.d
	if open, _ := d.Open(d.now()); !open || len(live) == 0 {
		return live
	}
	agents, err := d.st.Agents(ctx)
	if err != nil {
		d.log.Warn("assign: agents", "err", err)
		return live
	}
	var waiting []Entry
	for _, e := range live {
		pick := d.sel.Select(agents, e)
		if c := convs[e.Conv]; pick != nil && c != nil && c.Data[dataReleasedBy] == pick.ID {
			others := slices.DeleteFunc(slices.Clone(agents), func(a Agent) bool { return a.ID == pick.ID })
			if other := d.sel.Select(others, e); other != nil {
				pick = other
			}
		}
		if pick == nil {
			waiting = append(waiting, e)
			continue
		}
		a := *pick
		c, err := d.claim(ctx, e.Conv, a)
		switch {
		case errors.Is(err, bot.ErrClaimed), errors.Is(err, ErrNotWaiting):
			continue
		case err != nil:
			d.log.Warn("assign", "conversation", e.Conv, "agent", a.ID, "err", err)
			waiting = append(waiting, e)
			continue
		}
		for i := range agents {
			if agents[i].ID == a.ID {
				agents[i].Active++
			}
		}
		if c == nil {
			continue
		}
		d.eta.invalidate()
		d.cancelTimers(ctx, c.ID)
		if err := d.announce(ctx, c.ID, a.ID); err != nil {
			d.log.Warn("announce assignment", "conversation", c.ID, "err", err)
		}
	}
	return waiting
}
