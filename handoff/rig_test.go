package handoff_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/handoff/handofftest"
	"github.com/supportbot/supportbot/store/embedded"
)

// rig is a bot.Engine with the embedded store, a recording channel, the
// desk behind its Gate and a recording workspace. Every rig lives in a
// synctest bubble: rig.send returns once everything it caused is done.
type rig struct {
	t    *testing.T
	st   *embedded.Store
	eng  *bot.Engine
	desk *handoff.Desk
	ch   *handofftest.Channel
	ws   *handofftest.Workspace
	now  func() time.Time
	lang map[string]string // room → language the router detects
}

type rigOpt struct {
	base time.Time // fake "now" at the start; default Mon 2026-01-05 10:00 UTC
	opts []handoff.Option
	wrap func(handoff.Runner) handoff.Runner // e.g. to make turns fail
}

// newRig must be called inside synctest.Test.
func newRig(t *testing.T, cfg handoff.Config, o rigOpt) *rig {
	t.Helper()
	base := o.base
	if base.IsZero() {
		base = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	}
	start := time.Now()
	now := func() time.Time { return base.Add(time.Since(start)) }
	st, err := embedded.Open(filepath.Join(t.TempDir(), "desk.db"), embedded.Options{Now: now, SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if cfg.Tick == 0 {
		cfg.Tick = 10 * time.Second // few store writes while fake time runs
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	r := &rig{t: t, st: st, ch: handofftest.NewChannel("web"), ws: handofftest.NewWorkspace("slack"),
		now: now, lang: map[string]string{}}
	r.eng = bot.New(bot.Config{}, st, nil, log, bot.WithClock(now))
	r.eng.Add(r.ch)
	opts := append([]handoff.Option{handoff.WithClock(now), handoff.WithWorkspaces(r.ws)}, o.opts...)
	var run handoff.Runner = r.eng
	if o.wrap != nil {
		run = o.wrap(run)
	}
	r.desk = handoff.NewDesk(cfg, st, st, st, st, run, log, opts...)
	r.eng.SetHandler(r.desk.Gate(bot.HandlerFunc(r.route)))
	return r
}

// route is a tiny router: "human" and "complaint …" hand off, "angry …"
// hands off for negative sentiment, anything else gets a bot answer.
func (r *rig) route(ctx context.Context, t *bot.Turn) error {
	if l := r.lang[t.Msg.From.Room]; l != "" {
		t.Conv.Lang = l
	}
	text := strings.ToLower(t.Msg.Text)
	switch {
	case text == "human":
		return r.desk.Handoff(ctx, t, handoff.Request{Reason: bot.ReasonRequested})
	case strings.HasPrefix(text, "complaint"):
		return r.desk.Handoff(ctx, t, handoff.Request{Reason: bot.ReasonComplaint, Topic: "Complaint"})
	case strings.HasPrefix(text, "angry"):
		t.Conv.Sentiment = -0.8
		return r.desk.Handoff(ctx, t, handoff.Request{Reason: bot.ReasonNegativeSentiment})
	case strings.HasPrefix(text, "billing"):
		return r.desk.Handoff(ctx, t, handoff.Request{Reason: bot.ReasonIntentRule, Skill: "billing"})
	}
	t.Conv.Intent, t.Conv.Score = "faq.generic", 0.9
	t.Conv.Tried = append(t.Conv.Tried, "faq.generic")
	t.Reply(bot.Reply{Kind: bot.KindAnswer, Text: "bot: " + t.Msg.Text})
	return nil
}

// send makes customer (room = customer) write text a second after the
// previous step, and waits until the engine and the desk are idle.
func (r *rig) send(room, text string) { r.sendAs(room, room, text) }

// sendAs is send by customer in room.
func (r *rig) sendAs(room, customer, text string) {
	r.t.Helper()
	time.Sleep(time.Second)
	r.eng.Deliver(context.Background(), r.ch.Message(room, customer, text))
	synctest.Wait()
}

// id is the conversation ID of room.
func (r *rig) id(room string) bot.ConversationID {
	return bot.Address{Channel: "web", Room: room}.ConversationID()
}

func (r *rig) conv(room string) *bot.Conversation {
	r.t.Helper()
	c, err := r.st.Conversation(context.Background(), r.id(room))
	if err != nil {
		r.t.Fatalf("load %s: %v", room, err)
	}
	return c
}

// last is the text of the last reply to room.
func (r *rig) last(room string) string { return r.ch.Last(room).Reply.Text }

// agent puts an agent on duty.
func (r *rig) agent(id, name string, capacity int, skills ...string) handoff.Agent {
	r.t.Helper()
	a := handoff.Agent{ID: id, Name: name, Capacity: capacity, Skills: skills}
	if err := r.desk.SetStatus(context.Background(), a, handoff.On); err != nil {
		r.t.Fatal(err)
	}
	return a
}

// runDesk runs Desk.Run until the test ends.
func (r *rig) runDesk() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.desk.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Desk.Run: %v", err)
		}
	})
	synctest.Wait()
}

// seedWaits records claim events as if earlier customers waited ws.
func (r *rig) seedWaits(ws ...time.Duration) {
	r.t.Helper()
	for i, w := range ws {
		e := bot.Event{Type: handoff.EventClaim, At: r.now().Add(-time.Hour + time.Duration(i)*time.Minute), Value: w.Seconds()}
		if err := r.st.RecordEvent(context.Background(), e); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rig) events(typ string) []bot.Event {
	r.t.Helper()
	evs, err := r.st.Events(context.Background(), r.now().Add(-24*time.Hour), r.now().Add(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	var out []bot.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (r *rig) transcript(room string) []bot.Message {
	r.t.Helper()
	msgs, err := r.st.Transcript(context.Background(), r.id(room), 0)
	if err != nil {
		r.t.Fatal(err)
	}
	return msgs
}

func bubble(t *testing.T, f func(t *testing.T)) { synctest.Test(t, f) }

// settle waits until every goroutine of the bubble is idle.
func settle() { synctest.Wait() }

// replica is a second engine and desk on the same store, channel and
// workspace: another replica of the bot.
type replica struct {
	eng  *bot.Engine
	desk *handoff.Desk
}

func (r *rig) replica(cfg handoff.Config) *replica {
	if cfg.Tick == 0 {
		cfg.Tick = 10 * time.Second
	}
	log := slog.New(slog.NewTextHandler(r.t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := &replica{eng: bot.New(bot.Config{}, r.st, nil, log, bot.WithClock(r.now))}
	p.eng.Add(r.ch)
	p.desk = handoff.NewDesk(cfg, r.st, r.st, r.st, r.st, p.eng, log, handoff.WithClock(r.now), handoff.WithWorkspaces(r.ws))
	p.eng.SetHandler(p.desk.Gate(bot.HandlerFunc(r.route)))
	return p
}

// send makes customer write text to this replica.
func (p *replica) send(r *rig, room, text string) {
	time.Sleep(time.Second)
	p.eng.Deliver(context.Background(), r.ch.Message(room, room, text))
	synctest.Wait()
}

func (p *replica) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.desk.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	synctest.Wait()
}
