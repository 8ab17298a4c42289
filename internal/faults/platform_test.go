package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
)

// event is one customer message on the fake platform.
type event struct {
	Key  string `json:"key"`
	Room string `json:"room"`
	Text string `json:"text"`
}

// post is one message the bot posted.
type post struct {
	Room string    `json:"room"`
	Text string    `json:"text"`
	Key  string    `json:"key"`
	Kind string    `json:"kind"`
	At   time.Time `json:"-"`
}

// platform is the fake chat platform: customers' events wait in a queue,
// are handed to whichever connection polls, and come back (first in line)
// if not acked within redeliver. Like a platform with ordered delivery per
// conversation (Discord's gateway per shard), it hands out a room's next
// event only once the previous one is acked. Posts are recorded; a post whose key was seen is
// counted as a resend and dropped.
type platform struct {
	redeliver time.Duration

	mu       sync.Mutex
	queue    []event
	inflight map[string]time.Time // delivered, not acked: deadline
	byKey    map[string]event
	byText   map[string]string // room+"\x00"+text → event key
	answers  map[string]int    // event key → replies quoting it
	answerAt map[string]time.Time
	answered int             // events with a reply
	redeliv  map[string]bool // events handed out again after no ack
	acked    map[string]bool
	posts    []post // accepted, in order
	seen     map[string]bool
	resent   int
	fail     func() (status int, retryAfter time.Duration) // nil: accept
	failures int
	pollers  map[string]bool
	handled  int           // turns committed (Observer outcome handled), in-process engines only
	changed  chan struct{} // closed and replaced on every change
}

func newPlatform(t *testing.T, redeliver time.Duration) (*platform, string) {
	p := &platform{redeliver: redeliver, inflight: map[string]time.Time{}, byKey: map[string]event{},
		byText: map[string]string{}, answers: map[string]int{}, answerAt: map[string]time.Time{}, redeliv: map[string]bool{},
		acked: map[string]bool{}, seen: map[string]bool{}, pollers: map[string]bool{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", p.serveEvents)
	mux.HandleFunc("POST /ack", p.serveAck)
	mux.HandleFunc("POST /send", p.serveSend)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// changedLocked wakes everyone waiting for a change; p.mu is held.
func (p *platform) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// say queues a customer message.
func (p *platform) say(room, text string) event {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := event{Key: fmt.Sprintf("e%d", len(p.byKey)+1), Room: room, Text: text}
	p.byKey[e.Key] = e
	p.byText[room+"\x00"+text] = e.Key
	p.queue = append(p.queue, e)
	p.changedLocked()
	return e
}

// observe is the Observer of in-process engines: it counts handled turns.
func (p *platform) observe(_ bot.Inbound, o bot.Outcome, _ time.Duration) {
	if o != bot.Handled {
		return
	}
	p.mu.Lock()
	p.handled++
	p.changedLocked()
	p.mu.Unlock()
}

// setFail makes sends fail as fn says (nil: accept them).
func (p *platform) setFail(fn func() (int, time.Duration)) {
	p.mu.Lock()
	p.fail = fn
	p.mu.Unlock()
}

// waitFor waits until cond (called with p.mu held) holds or d passes.
func (p *platform) waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// serveEvents hands up to max queued (or overdue unacked) events to the
// caller, waiting up to a second for one.
func (p *platform) serveEvents(w http.ResponseWriter, r *http.Request) {
	max, _ := strconv.Atoi(r.URL.Query().Get("max"))
	if max <= 0 {
		max = 50
	}
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	if r := r.URL.Query().Get("r"); r != "" {
		p.mu.Lock()
		if !p.pollers[r] {
			p.pollers[r] = true
			p.changedLocked()
		}
		p.mu.Unlock()
	}
	for {
		p.mu.Lock()
		now := time.Now()
		var again []event
		for k, dl := range p.inflight { // redeliver what was not acked in time
			if now.After(dl) {
				delete(p.inflight, k)
				p.redeliv[k] = true
				again = append(again, p.byKey[k])
			}
		}
		if len(again) > 0 {
			sort.Slice(again, func(i, j int) bool { return keyNum(again[i].Key) < keyNum(again[j].Key) })
			p.queue = append(again, p.queue...)
		}
		busy := map[string]bool{}
		for k := range p.inflight {
			busy[p.byKey[k].Room] = true
		}
		var out []event
		rest := p.queue[:0:0]
		for _, e := range p.queue {
			if len(out) < max && !busy[e.Room] {
				out = append(out, e)
				busy[e.Room] = true
				p.inflight[e.Key] = now.Add(p.redeliver)
			} else {
				rest = append(rest, e)
			}
		}
		p.queue = rest
		ch := p.changed
		p.mu.Unlock()
		if len(out) > 0 {
			json.NewEncoder(w).Encode(out)
			return
		}
		select {
		case <-ch:
		case <-timeout.C:
			w.Write([]byte("[]"))
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (p *platform) serveAck(w http.ResponseWriter, r *http.Request) {
	var keys []string
	if err := json.NewDecoder(r.Body).Decode(&keys); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	for _, k := range keys {
		delete(p.inflight, k)
		p.acked[k] = true
	}
	p.changedLocked()
	p.mu.Unlock()
}

func (p *platform) serveSend(w http.ResponseWriter, r *http.Request) {
	var m post
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.At = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		if status, after := p.fail(); status != 0 {
			p.failures++
			p.changedLocked()
			if after > 0 {
				w.Header().Set("Retry-After", strconv.FormatFloat(after.Seconds(), 'f', 3, 64))
			}
			http.Error(w, "failing on purpose", status)
			return
		}
	}
	if m.Key != "" && p.seen[m.Key] {
		p.resent++
		return
	}
	p.seen[m.Key] = true
	p.posts = append(p.posts, m)
	if txt, ok := strings.CutPrefix(m.Text, "re: "); ok {
		if k, ok := p.byText[m.Room+"\x00"+txt]; ok {
			if p.answers[k]++; p.answers[k] == 1 {
				p.answered++
				p.answerAt[k] = m.At
			}
		}
	}
	p.changedLocked()
}

// ---- figures

// figures are a fault test's results. OutOfOrder counts replies that came
// before the reply to an earlier message of the same room, among messages
// the platform delivered once; Reordered counts those involving a message
// the platform had to deliver again (its first receiver died before
// acknowledging it, so it reached the bot late).
type figures struct {
	Sent, Answered, Lost, Duplicated, Resent, OutOfOrder, Redelivered, Reordered int
}

func (p *platform) figures() figures {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := figures{Sent: len(p.byKey), Resent: p.resent, Answered: p.answered, Lost: len(p.byKey) - p.answered,
		Redelivered: len(p.redeliv)}
	for _, c := range p.answers {
		f.Duplicated += max(0, c-1)
	}
	// Replies in a room must come in the order the customer wrote.
	type last struct {
		i     int
		redel bool
	}
	prev := map[string]last{}
	for _, m := range p.posts {
		txt, ok := strings.CutPrefix(m.Text, "re: ")
		if !ok {
			continue
		}
		i, redel := seqOf(txt), p.redeliv[p.byText[m.Room+"\x00"+txt]]
		if l := prev[m.Room]; i < l.i {
			if redel || l.redel {
				f.Reordered++
			} else {
				f.OutOfOrder++
			}
		}
		prev[m.Room] = last{i, redel}
	}
	return f
}

func keyNum(k string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(k, "e"))
	return n
}

// seqOf is the message number in a text "<room>/m<i>".
func seqOf(text string) int {
	_, n, _ := strings.Cut(text, "/m")
	i, _ := strconv.Atoi(n)
	return i
}

// unansweredLocked counts events without a reply yet; p.mu is held.
func (p *platform) unansweredLocked() int { return len(p.byKey) - p.answered }

// apologies counts the apologies (notices) per room.
func (p *platform) apologies() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := map[string]int{}
	for _, m := range p.posts {
		if m.Kind == string(bot.KindNotice) {
			n[m.Room]++
		}
	}
	return n
}

// ---- the channel adapter

// platChannel is the bot.Channel of the fake platform.
type platChannel struct {
	url, name string
	http      *http.Client
}

func newPlatChannel(url, replica string) *platChannel {
	return &platChannel{url: url, name: replica, http: &http.Client{Timeout: 10 * time.Second}}
}

func (c *platChannel) Name() string { return "plat" }

// Listen polls the platform for events; each is acked when the engine
// calls Inbound.Ack (after the inbox stored it).
func (c *platChannel) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/events?max=50&r="+c.name, nil)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				sleepCtx(ctx, 100*time.Millisecond)
			}
			continue
		}
		var evs []event
		err = json.NewDecoder(resp.Body).Decode(&evs)
		resp.Body.Close()
		if err != nil {
			continue
		}
		for _, e := range evs {
			in := bot.Inbound{Key: "plat:" + e.Key, Msg: bot.Message{ID: e.Key, Text: e.Text, Role: bot.RoleCustomer,
				From:     bot.Address{Channel: "plat", Room: e.Room},
				Customer: bot.Customer{ID: "plat:" + e.Room, Name: e.Room}}}
			in.Ack = func() { c.ack(e.Key) }
			deliver(ctx, in)
		}
	}
	return nil
}

func (c *platChannel) ack(key string) {
	b, _ := json.Marshal([]string{key})
	resp, err := c.http.Post(c.url+"/ack", "application/json", bytes.NewReader(b))
	if err == nil {
		resp.Body.Close()
	}
}

// Send posts r; 429 and 5xx come back as bot.RetryAfter errors.
func (c *platChannel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	b, _ := json.Marshal(post{Room: to.Room, Text: r.Text, Key: bot.SendKey(ctx), Kind: string(r.Kind)})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/send", bytes.NewReader(b))
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("plat: send: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		after, _ := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64)
		return bot.Retryable(fmt.Errorf("plat: send: %s", resp.Status), time.Duration(after*float64(time.Second)))
	default:
		return fmt.Errorf("plat: send: %s", resp.Status)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// echo answers every message with "re: <text>".
func echo(_ context.Context, t *bot.Turn) error {
	t.Reply(bot.Reply{Text: "re: " + t.Msg.Text, Kind: bot.KindAnswer})
	return nil
}

// slowEcho is echo taking d per turn, like a handler waiting for a model,
// so that accepted work piles up in the inbox.
func slowEcho(d time.Duration) bot.HandlerFunc {
	return func(ctx context.Context, t *bot.Turn) error {
		sleepCtx(ctx, d)
		return echo(ctx, t)
	}
}
