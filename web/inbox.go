package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// inbox is the agent inbox as a handoff.Workspace: the desk tells it about
// every new card, change and message, and it pushes them to the open
// inbox pages over server-sent events, on this replica and (with a Bus) on
// the others. Pages also reload the queue every few seconds, which covers
// a lost notice.
type inbox struct {
	log   *slog.Logger
	peers peers // the other replicas' inboxes (no Bus: none)
	mu    sync.Mutex
	subs  map[chan []byte]struct{}
}

var _ handoff.Workspace = (*inbox)(nil)

// inboxTopic is the agent inbox's topic on the Bus.
const inboxTopic = "web:inbox"

func newInbox(log *slog.Logger, bus Bus) *inbox {
	return &inbox{log: log, peers: newPeers(bus, inboxTopic), subs: map[chan []byte]struct{}{}}
}

// relay forwards the events published by the other replicas' desks to the
// pages open here, until ctx is canceled. ready as Bus.Subscribe.
func (ib *inbox) relay(ctx context.Context, ready chan<- struct{}) error {
	return ib.peers.listen(ctx, ready, func(ev []byte) {
		if json.Valid(ev) {
			ib.local(ev)
		}
	})
}

// Name implements handoff.Workspace.
func (ib *inbox) Name() string { return "web" }

type inboxEvent struct {
	Type  string        `json:"type"` // card, msg, remind
	Conv  string        `json:"conv"`
	Card  *handoff.Card `json:"card,omitempty"`
	Msg   *bot.Message  `json:"msg,omitempty"`
	Level int           `json:"level,omitempty"`
}

func (ib *inbox) publish(e inboxEvent) {
	b, err := json.Marshal(e)
	if err != nil {
		ib.log.Warn("inbox event", "err", err)
		return
	}
	ib.local(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ib.peers.publish(ctx, b); err != nil {
		ib.log.Warn("inbox event to other replicas", "err", err)
	}
}

// local pushes an encoded event to the pages open on this replica.
func (ib *inbox) local(b []byte) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	for ch := range ib.subs {
		select {
		case ch <- b:
		default: // a stuck page reloads on its next poll
		}
	}
}

func (ib *inbox) subscribe() chan []byte {
	ch := make(chan []byte, 64)
	ib.mu.Lock()
	ib.subs[ch] = struct{}{}
	ib.mu.Unlock()
	return ch
}

func (ib *inbox) unsubscribe(ch chan []byte) {
	ib.mu.Lock()
	delete(ib.subs, ch)
	ib.mu.Unlock()
}

// Announce implements handoff.Workspace.
func (ib *inbox) Announce(_ context.Context, c handoff.Card) (map[string]string, error) {
	ib.publish(inboxEvent{Type: "card", Conv: string(c.Conv), Card: &c})
	return nil, nil
}

// Update implements handoff.Workspace.
func (ib *inbox) Update(_ context.Context, c handoff.Card) error {
	ib.publish(inboxEvent{Type: "card", Conv: string(c.Conv), Card: &c})
	return nil
}

// Relay implements handoff.Workspace.
func (ib *inbox) Relay(_ context.Context, c handoff.Card, m bot.Message) error {
	ib.publish(inboxEvent{Type: "msg", Conv: string(c.Conv), Msg: &m})
	return nil
}

// Remind implements handoff.Workspace.
func (ib *inbox) Remind(_ context.Context, c handoff.Card, level int) error {
	ib.publish(inboxEvent{Type: "remind", Conv: string(c.Conv), Card: &c, Level: level})
	return nil
}

// heldLister is the optional store method listing what an agent holds
// (handoff.Store.Held).
type heldLister interface {
	Held(ctx context.Context, agent string) ([]bot.ConversationID, error)
}

func (s *Server) needDesk(w http.ResponseWriter) bool {
	if s.desk == nil {
		writeErr(w, http.StatusServiceUnavailable, "The handoff desk is not running.")
		return false
	}
	return true
}

// agent is u as the desk knows it, with the roster's skills and capacity.
func (s *Server) agent(ctx context.Context, u User) (handoff.Agent, bool) {
	a := handoff.Agent{ID: u.agentID(), Name: u.Name, Status: handoff.Off, Capacity: 3}
	all, err := s.desk.Agents(ctx)
	if err != nil {
		s.log.Warn("agents", "err", err)
		return a, false
	}
	for _, x := range all {
		if x.ID == a.ID {
			x.Name = u.Name
			return x, true
		}
	}
	return a, false
}

type inboxStateOut struct {
	Me     handoff.Agent   `json:"me"`
	User   User            `json:"user"`
	Queue  []handoff.Card  `json:"queue"`
	Mine   []handoff.Card  `json:"mine"`
	Agents []handoff.Agent `json:"agents"`
	Now    time.Time       `json:"now"`
}

func (s *Server) inboxState(w http.ResponseWriter, r *http.Request, u User) {
	if !s.needDesk(w) {
		return
	}
	ctx := r.Context()
	out := inboxStateOut{User: u, Queue: []handoff.Card{}, Mine: []handoff.Card{}, Now: s.now()}
	out.Me, _ = s.agent(ctx, u)
	q, err := s.desk.Queue(ctx)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	out.Queue = append(out.Queue, q...)
	if hl, ok := s.st.(heldLister); ok {
		ids, err := hl.Held(ctx, u.agentID())
		if err != nil {
			writeErr(w, statusOf(err), err.Error())
			return
		}
		for _, id := range ids {
			c, err := s.desk.Card(ctx, id)
			if err != nil {
				s.log.Warn("inbox: card", "conversation", id, "err", err)
				continue
			}
			out.Mine = append(out.Mine, c)
		}
	}
	if out.Agents, err = s.desk.Agents(ctx); err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	if out.Agents == nil {
		out.Agents = []handoff.Agent{}
	}
	writeJSON(w, http.StatusOK, out)
}

// inboxConv returns one conversation's card and transcript (notes included).
func (s *Server) inboxConv(w http.ResponseWriter, r *http.Request, u User) {
	if !s.needDesk(w) {
		return
	}
	id := bot.ConversationID(r.PathValue("id"))
	card, err := s.desk.Card(r.Context(), id)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	msgs, err := s.st.Transcript(r.Context(), id, 500)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	for i := range msgs {
		delete(msgs[i].Meta, "explain") // keep the context panel readable; the console explains
	}
	writeJSON(w, http.StatusOK, map[string]any{"card": card, "messages": msgs})
}

func (s *Server) inboxAction(w http.ResponseWriter, r *http.Request, u User) {
	if !s.needDesk(w) {
		return
	}
	ctx := r.Context()
	id := bot.ConversationID(r.PathValue("id"))
	var in struct {
		Text  string `json:"text"`
		Agent string `json:"agent"`
		Skill string `json:"skill"`
	}
	if !decode(w, r, &in) {
		return
	}
	a, _ := s.agent(ctx, u)
	var err error
	switch r.PathValue("action") {
	case "claim":
		err = s.desk.Claim(ctx, id, a)
	case "reply":
		err = s.desk.Reply(ctx, id, a, in.Text)
	case "note":
		err = s.desk.Note(ctx, id, a, in.Text)
	case "release":
		err = s.desk.Release(ctx, id, a)
	case "transfer":
		err = s.desk.Transfer(ctx, id, a, in.Agent, in.Skill)
	case "resolve":
		err = s.desk.Resolve(ctx, id, a)
	default:
		writeErr(w, http.StatusNotFound, "unknown action")
		return
	}
	if err != nil {
		writeErr(w, deskStatus(err), deskMessage(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func deskStatus(err error) int {
	switch {
	case errors.Is(err, handoff.ErrEmpty), errors.Is(err, handoff.ErrUnknownAgent):
		return http.StatusBadRequest
	case errors.Is(err, handoff.ErrNotHolder), errors.Is(err, handoff.ErrNotWaiting),
		errors.Is(err, handoff.ErrAgentUnavailable), errors.Is(err, bot.ErrClaimed):
		return http.StatusConflict
	}
	return statusOf(err)
}

// deskMessage says what went wrong in words an agent understands.
func deskMessage(err error) string {
	switch {
	case errors.Is(err, bot.ErrClaimed), errors.Is(err, handoff.ErrNotHolder):
		return "Someone else holds this conversation. (" + err.Error() + ")"
	case errors.Is(err, handoff.ErrNotWaiting):
		return "This conversation is no longer waiting for a person."
	case errors.Is(err, handoff.ErrAgentUnavailable):
		return "That agent is not available."
	case errors.Is(err, handoff.ErrUnknownAgent):
		return "No such agent."
	case errors.Is(err, handoff.ErrEmpty):
		return "Write something first."
	}
	return err.Error()
}

func (s *Server) inboxStatus(w http.ResponseWriter, r *http.Request, u User) {
	if !s.needDesk(w) {
		return
	}
	var in struct {
		Status handoff.Availability `json:"status"`
	}
	if !decode(w, r, &in) {
		return
	}
	a, _ := s.agent(r.Context(), u)
	if err := s.desk.SetStatus(r.Context(), a, in.Status); err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "status": in.Status})
}

// inboxEvents streams workspace events as server-sent events.
func (s *Server) inboxEvents(w http.ResponseWriter, r *http.Request, u User) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeErr(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	ch := s.inbox.subscribe()
	defer s.inbox.unsubscribe(ch)
	fmt.Fprint(w, "retry: 2000\n: hello\n\n")
	fl.Flush()
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case b := <-ch:
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
		case <-t.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
