package web

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store/embedded"
)

// stack is the whole bot wired as cmd/supportbot wires it: the embedded
// store in a temporary directory, the engine, the real router compiled
// from the starter knowledge base, the desk, and this package's server.
type stack struct {
	st     *embedded.Store
	eng    *bot.Engine
	desk   *handoff.Desk
	router *intents.Router
	web    *Server
	srv    *httptest.Server
}

const (
	testAdmin, testAdminPassword = "admin", "correct horse battery"
	testAgent, testAgentPassword = "ada", "ada's long password"
)

func newStack(t testing.TB) *stack {
	t.Helper()
	log := discard()
	if os.Getenv("SUPPORTBOT_TEST_LOG") != "" {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := embedded.Open(filepath.Join(t.TempDir(), "supportbot.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{st: st}
	s.eng = bot.New(bot.Config{}, st, nil, log)
	s.desk = handoff.NewDesk(handoff.Config{}, st, st, st, st, s.eng, log)
	s.router = intents.New(intents.Config{}, func(ctx context.Context, t *bot.Turn, reason bot.Reason, skill, topic string, prio int) error {
		return s.desk.Handoff(ctx, t, handoff.Request{Reason: reason, Skill: skill, Topic: topic, Priority: prio})
	}, log)
	if _, err := intents.Seed(ctx, st, os.DirFS(filepath.Join("..", "kb"))); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := s.router.Sync(ctx, st); err != nil {
		t.Fatalf("sync: %v", err)
	}
	s.eng.SetHandler(s.desk.Gate(s.router))
	ch := NewChannel(ChannelOptions{Transcripts: st, Log: log})
	s.eng.Add(ch)
	if s.web, err = New(ctx, Options{Store: st, Channel: ch, Desk: s.desk, Router: s.router, Log: log}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ user, name, role, pw string }{
		{testAdmin, "Admin", RoleAdmin, testAdminPassword}, {testAgent, "Ada", RoleAgent, testAgentPassword}} {
		if err := SaveAccount(ctx, st, a.user, a.name, a.role, a.pw, "test", false); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{}, 3)
	go func() { s.eng.Run(ctx); done <- struct{}{} }()
	go func() { s.desk.Run(ctx); done <- struct{}{} }()
	go func() { s.router.Watch(ctx, st, 100*time.Millisecond); done <- struct{}{} }()
	s.srv = httptest.NewServer(s.web.Handler())
	t.Cleanup(func() {
		start := time.Now()
		s.srv.CloseClientConnections()
		s.srv.Close()
		t.Logf("server closed in %v", time.Since(start))
		cancel()
		for range 3 {
			<-done
		}
		st.Close()
		t.Logf("stack stopped in %v", time.Since(start))
	})
	return s
}

// The stack comes up and the widget socket talks to the real router.
func TestStackAnswers(t *testing.T) {
	start := time.Now()
	s := newStack(t)
	t.Logf("stack up in %v", time.Since(start))
	v := newVisitor(s.srv.URL)
	v.connect(t)
	v.send(t, clientFrame{Type: "msg", ID: "q1", Text: "how long does delivery take?"})
	f := v.next(t)
	t.Logf("answer: %v", f)
	if f["kind"] != "answer" {
		t.Errorf("reply kind %v, want an answer", f["kind"])
	}
}
