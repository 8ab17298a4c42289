package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/handoff/handofftest"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store"
)

// timedWorkspace is handofftest's recording workspace that also notes when
// each conversation's card was announced.
type timedWorkspace struct {
	*handofftest.Workspace
	mu sync.Mutex
	at map[bot.ConversationID]chan time.Time
}

func (w *timedWorkspace) wait(id bot.ConversationID) chan time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.at[id]
	if !ok {
		c = make(chan time.Time, 1)
		w.at[id] = c
	}
	return c
}

func (w *timedWorkspace) Announce(ctx context.Context, c handoff.Card) (map[string]string, error) {
	now := time.Now()
	refs, err := w.Workspace.Announce(ctx, c)
	select {
	case w.wait(c.Conv) <- now:
	default:
	}
	return refs, err
}

type handoffResult struct {
	n, claims        int
	p50, p99         time.Duration
	claim50, claim99 time.Duration
	claimers         int
}

// benchHandoff asks for a human in convs conversations, one after the
// other, timing each from the customer's message to the card's Announce.
// Then, per conversation, claimers agents click Claim at once; every
// click (the winner's and the losers') is timed. On Redis the rig takes
// the full durable path (the stream inbox).
func benchHandoff(st store.Store, snap *intents.Snapshot, convs, claimers int) (handoffResult, error) {
	ws := &timedWorkspace{Workspace: handofftest.NewWorkspace("bench"), at: map[bot.ConversationID]chan time.Time{}}
	r := startRig(st, snap, ws)
	defer r.close()
	ctx := context.Background()
	agents := make([]handoff.Agent, claimers)
	for i := range agents {
		agents[i] = handoff.Agent{ID: "web:agent" + strconv.Itoa(i), Name: "Agent " + strconv.Itoa(i)}
		if err := r.desk.SetStatus(ctx, agents[i], handoff.On); err != nil {
			return handoffResult{}, err
		}
	}
	res := handoffResult{claimers: claimers}
	var card, claim latencies
	for c := range convs {
		room := 1_000_000 + c
		id := bot.Address{Channel: "load", Room: "r" + strconv.Itoa(room)}.ConversationID()
		t0 := time.Now()
		r.ch.Say(room, "I want to talk to a human please", nil)
		select {
		case at := <-ws.wait(id):
			card = append(card, at.Sub(t0))
		case <-time.After(10 * time.Second):
			return res, fmt.Errorf("handoff: no card for %s within 10s", id)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		won := 0
		gate := make(chan struct{})
		for _, a := range agents {
			wg.Go(func() {
				<-gate
				t := time.Now()
				err := r.desk.Claim(ctx, id, a)
				d := time.Since(t)
				mu.Lock()
				defer mu.Unlock()
				claim = append(claim, d)
				if err == nil {
					won++
				} else if !errors.Is(err, bot.ErrClaimed) && !errors.Is(err, handoff.ErrNotWaiting) {
					res.n = -1
				}
			})
		}
		close(gate)
		wg.Wait()
		if won != 1 || res.n < 0 {
			return res, fmt.Errorf("handoff: %d agents won the claim of %s (want 1)", won, id)
		}
		// Free the agents (capacity 1) for the next conversation.
		for _, a := range agents {
			if err := r.desk.Resolve(ctx, id, a); err == nil {
				break
			}
		}
	}
	res.n, res.claims = len(card), len(claim)
	res.p50, res.p99 = card.pct(50), card.pct(99)
	res.claim50, res.claim99 = claim.pct(50), claim.pct(99)
	return res, nil
}
