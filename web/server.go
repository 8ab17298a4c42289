// Package web serves the browser side of the bot from the binary's own
// embedded assets (no CDN, no JavaScript build step):
//
//   - the customer chat widget, embeddable with one <script src="/widget.js">
//     tag and live over a WebSocket (Channel, a bot.Channel named "web");
//   - the agent inbox, a handoff.Workspace named "web" that works through the
//     same handoff.Desk as Slack, so both see one state;
//   - the admin console: knowledge base (intents and FAQ entries, history,
//     diff, rollback, YAML import and export, "Try it"), unanswered
//     questions, analytics charts, settings, status notices, accounts and
//     the audit log.
//
// Agents and admins log in with accounts kept in the store (the "accounts"
// document, bcrypt hashes). Every state-changing request needs the
// session's CSRF token and a same-origin Origin header.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
)

//go:embed assets
var assetFS embed.FS

// assets is the embedded assets directory.
var assets, _ = fs.Sub(assetFS, "assets")

// Store is what the web side reads and writes: conversations and
// transcripts, versioned documents (knowledge base, notices, settings,
// accounts) and the analytics events. store.Store implements it.
type Store interface {
	bot.ConversationStore
	bot.TranscriptStore
	bot.DocStore
	bot.EventLog
}

// Desk is the part of *handoff.Desk the inbox uses.
type Desk interface {
	Queue(ctx context.Context) ([]handoff.Card, error)
	Card(ctx context.Context, id bot.ConversationID) (handoff.Card, error)
	Claim(ctx context.Context, id bot.ConversationID, a handoff.Agent) error
	Reply(ctx context.Context, id bot.ConversationID, a handoff.Agent, text string) error
	Note(ctx context.Context, id bot.ConversationID, a handoff.Agent, text string) error
	Release(ctx context.Context, id bot.ConversationID, a handoff.Agent) error
	Transfer(ctx context.Context, id bot.ConversationID, a handoff.Agent, toAgent, toSkill string) error
	Resolve(ctx context.Context, id bot.ConversationID, a handoff.Agent) error
	SetStatus(ctx context.Context, a handoff.Agent, s handoff.Availability) error
	Agents(ctx context.Context) ([]handoff.Agent, error)
	AddWorkspace(w handoff.Workspace)
}

var _ Desk = (*handoff.Desk)(nil)

// Router is the part of *intents.Router the console uses.
type Router interface {
	Explain(text, prevLang string, misses int) (intents.Decision, error)
	Snapshot() *intents.Snapshot
}

var _ Router = (*intents.Router)(nil)

// SettingsApplier is told about saved settings (e.g. a desk that can
// change business hours while it runs). Optional.
type SettingsApplier func(Settings) error

// Options configures New.
type Options struct {
	Store   Store    // required
	Channel *Channel // the widget's channel, registered with the engine; required
	Desk    Desk     // the agent inbox is disabled without it
	Router  Router   // "Try it" is disabled without it
	Apply   SettingsApplier
	// Bus, if set, carries the inbox's live events between replicas (Run
	// relays them); usually the Channel's Bus. Nil: one replica.
	Bus Bus
	Log *slog.Logger
	Now func() time.Time
}

// Server is the web UI. Handler serves it.
type Server struct {
	st     Store
	ch     *Channel
	desk   Desk
	router Router
	apply  SettingsApplier
	log    *slog.Logger
	now    func() time.Time
	auth   *auth
	inbox  *inbox
	mux    *http.ServeMux
}

// New returns the web UI and, when o.Desk is set, adds the agent inbox to
// the desk as the "web" workspace. It reads (or creates, on a first start)
// the session key from the store.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Store == nil || o.Channel == nil {
		return nil, errors.New("web: Store and Channel are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{st: o.Store, ch: o.Channel, desk: o.Desk, router: o.Router, apply: o.Apply,
		log: o.Log.With("component", "web"), now: o.Now, mux: http.NewServeMux()}
	a, err := newAuth(ctx, o.Store, s.log, o.Now)
	if err != nil {
		return nil, err
	}
	s.auth = a
	s.inbox = newInbox(s.log, o.Bus)
	if o.Desk != nil {
		o.Desk.AddWorkspace(s.inbox)
	}
	s.routes()
	return s, nil
}

// Run relays the agent inbox's live events from the other replicas (with a
// Bus) until ctx is canceled; it returns nil then.
func (s *Server) Run(ctx context.Context) error { return s.inbox.relay(ctx, nil) }

// Handler serves the web UI.
func (s *Server) Handler() http.Handler { return s.mux }

// Workspace is the agent inbox as a handoff.Workspace (New already added it
// to the desk).
func (s *Server) Workspace() handoff.Workspace { return s.inbox }

func (s *Server) routes() {
	m := s.mux
	// Public: demo page, widget, its socket, login.
	m.HandleFunc("GET /{$}", s.page("index.html"))
	m.HandleFunc("GET /widget.js", s.asset("widget.js"))
	m.HandleFunc("GET /widget.css", s.asset("widget.css"))
	m.HandleFunc("GET /assets/{file}", s.assetFile)
	m.Handle("GET /chat/ws", s.ch)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.Handle("POST /logout", s.authed(roleAgent, s.logout))
	m.Handle("GET /api/me", s.authed(roleAgent, s.me))

	// Agent inbox.
	m.Handle("GET /inbox", s.pageFor(roleAgent, "inbox.html"))
	m.Handle("GET /inbox/api/state", s.authed(roleAgent, s.inboxState))
	m.Handle("GET /inbox/api/events", s.authed(roleAgent, s.inboxEvents))
	m.Handle("GET /inbox/api/conv/{id}", s.authed(roleAgent, s.inboxConv))
	m.Handle("POST /inbox/api/conv/{id}/{action}", s.authed(roleAgent, s.inboxAction))
	m.Handle("POST /inbox/api/status", s.authed(roleAgent, s.inboxStatus))

	// Admin console.
	m.Handle("GET /admin", s.pageFor(roleAdmin, "console.html"))
	m.Handle("GET /admin/api/kb", s.authed(roleAdmin, s.kbGet))
	m.Handle("PUT /admin/api/kb/{kind}/{name}", s.authed(roleAdmin, s.kbPut))
	m.Handle("DELETE /admin/api/kb/{kind}/{name}", s.authed(roleAdmin, s.kbDelete))
	m.Handle("GET /admin/api/kb/history", s.authed(roleAdmin, s.kbHistory))
	m.Handle("GET /admin/api/kb/diff", s.authed(roleAdmin, s.kbDiff))
	m.Handle("POST /admin/api/kb/rollback", s.authed(roleAdmin, s.kbRollback))
	m.Handle("GET /admin/api/kb/export", s.authed(roleAdmin, s.kbExport))
	m.Handle("POST /admin/api/kb/import", s.authed(roleAdmin, s.kbImport))
	m.Handle("POST /admin/api/try", s.authed(roleAdmin, s.try))
	m.Handle("GET /admin/api/unanswered", s.authed(roleAdmin, s.unanswered))
	m.Handle("GET /admin/api/analytics", s.authed(roleAdmin, s.analytics))
	m.Handle("GET /admin/chart/{name}", s.authed(roleAdmin, s.chart))
	m.Handle("GET /admin/api/settings", s.authed(roleAdmin, s.settingsGet))
	m.Handle("PUT /admin/api/settings", s.authed(roleAdmin, s.settingsPut))
	m.Handle("GET /admin/api/notices", s.authed(roleAdmin, s.noticesGet))
	m.Handle("PUT /admin/api/notices", s.authed(roleAdmin, s.noticesPut))
	m.Handle("GET /admin/api/audit", s.authed(roleAdmin, s.audit))
	m.Handle("GET /admin/api/accounts", s.authed(roleAdmin, s.accountsGet))
	m.Handle("POST /admin/api/accounts", s.authed(roleAdmin, s.accountsPost))
}
