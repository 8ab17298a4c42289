package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/intents"
)

// Settings are what an admin changes in the console without editing
// config.toml: business hours, SLA times and routing. They are kept in the
// store as the "settings" document. The desk reads them when it starts
// (cmd/supportbot overlays them on [handoff] of config.toml with
// Settings.Apply); a running desk picks them up when Options.Apply is set.
type Settings struct {
	Routing    string `json:"routing"`     // broadcast | assign
	AfterHours string `json:"after_hours"` // wait | contact
	// SLA times, as Go durations ("5m").
	RenotifyAfter string `json:"renotify_after"`
	EscalateAfter string `json:"escalate_after"`
	UpdateEvery   string `json:"update_every"`
	// FirstResponseTarget is the goal for a human's first response, shown
	// beside the analytics ("" for none).
	FirstResponseTarget string `json:"first_response_target,omitempty"`
	// Business hours.
	Timezone string            `json:"timezone"`
	Weekly   map[string]string `json:"weekly,omitempty"`
	Holidays []string          `json:"holidays,omitempty"`
}

// SettingsFrom describes cfg as Settings (the console's starting point).
func SettingsFrom(cfg handoff.Config) Settings {
	cfg.SetDefaults()
	return Settings{Routing: cfg.Routing, AfterHours: cfg.AfterHours,
		RenotifyAfter: cfg.RenotifyAfter.String(), EscalateAfter: cfg.EscalateAfter.String(),
		UpdateEvery: cfg.UpdateEvery.String(), Timezone: cfg.Hours.Timezone,
		Weekly: cfg.Hours.Weekly, Holidays: cfg.Hours.Holidays}
}

// Apply returns cfg with the settings laid over it, validated. Errors name
// the setting at fault.
func (s Settings) Apply(cfg handoff.Config) (handoff.Config, error) {
	var errs []error
	dur := func(key, v string, dst *time.Duration) {
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 5m or 1h30m", key, v))
			return
		}
		*dst = d
	}
	if s.Routing != "" {
		cfg.Routing = s.Routing
	}
	if s.AfterHours != "" {
		cfg.AfterHours = s.AfterHours
	}
	dur("renotify_after", s.RenotifyAfter, &cfg.RenotifyAfter)
	dur("escalate_after", s.EscalateAfter, &cfg.EscalateAfter)
	dur("update_every", s.UpdateEvery, &cfg.UpdateEvery)
	var target time.Duration
	dur("first_response_target", s.FirstResponseTarget, &target)
	cfg.Hours = handoff.BusinessHours{Timezone: s.Timezone, Weekly: s.Weekly, Holidays: s.Holidays}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// LoadSettings reads the settings document; ok is false when there is none.
// A document that does not decode is an error with its version.
func LoadSettings(ctx context.Context, st bot.DocStore) (s Settings, version int64, ok bool, err error) {
	d, err := st.Doc(ctx, SettingsDoc)
	if errors.Is(err, bot.ErrNotFound) {
		return Settings{}, 0, false, nil
	}
	if err != nil {
		return Settings{}, 0, false, err
	}
	if err := json.Unmarshal(d.Data, &s); err != nil {
		return Settings{}, d.Version, false, fmt.Errorf("settings v%d: %w", d.Version, err)
	}
	return s, d.Version, true, nil
}

// Defaults is the handoff configuration settings start from (config.toml).
func (s *Server) defaults() handoff.Config {
	if d, ok := s.desk.(interface{ Config() handoff.Config }); ok {
		return d.Config()
	}
	c := handoff.Config{}
	c.SetDefaults()
	return c
}

func (s *Server) settingsGet(w http.ResponseWriter, r *http.Request, u User) {
	set, v, ok, err := LoadSettings(r.Context(), s.st)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	if !ok {
		set = SettingsFrom(s.defaults())
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": v, "settings": set, "live": s.apply != nil})
}

func (s *Server) settingsPut(w http.ResponseWriter, r *http.Request, u User) {
	var in struct {
		Base     int64    `json:"base"`
		Settings Settings `json:"settings"`
	}
	if !decode(w, r, &in) {
		return
	}
	if _, err := in.Settings.Apply(s.defaults()); err != nil {
		out := apiError{Error: "The settings were not saved: please fix these problems."}
		for _, line := range strings.Split(err.Error(), "\n") {
			out.Errors = append(out.Errors, fieldErr{Message: line})
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	data, _ := json.MarshalIndent(in.Settings, "", "  ")
	d, err := s.st.PutDoc(r.Context(), bot.Doc{Name: SettingsDoc, Data: data, Author: u.User, Note: "edit settings"}, in.Base)
	if err != nil {
		if errors.Is(err, bot.ErrConflict) {
			writeErr(w, http.StatusConflict, "Someone else saved the settings meanwhile. Reload and try again.")
			return
		}
		writeErr(w, statusOf(err), err.Error())
		return
	}
	live := false
	if s.apply != nil {
		if err := s.apply(in.Settings); err != nil {
			s.log.Warn("apply settings", "err", err)
		} else {
			live = true
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": d.Version, "live": live})
}

func (s *Server) noticesGet(w http.ResponseWriter, r *http.Request, u User) {
	ns := []intents.Notice{}
	var v int64
	d, err := s.st.Doc(r.Context(), intents.NoticesDoc)
	switch {
	case errors.Is(err, bot.ErrNotFound):
	case err != nil:
		writeErr(w, statusOf(err), err.Error())
		return
	default:
		v = d.Version
		if err := json.Unmarshal(d.Data, &ns); err != nil {
			writeErr(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": v, "notices": ns, "now": s.now()})
}

// noticesPut replaces the status notices; the router shows active ones
// within a second on every replica.
func (s *Server) noticesPut(w http.ResponseWriter, r *http.Request, u User) {
	var in struct {
		Base    int64            `json:"base"`
		Notices []intents.Notice `json:"notices"`
	}
	if !decode(w, r, &in) {
		return
	}
	var problems []fieldErr
	ids := map[string]bool{}
	for i := range in.Notices {
		n := &in.Notices[i]
		key := fmt.Sprintf("notice %d", i+1)
		n.ID = strings.TrimSpace(n.ID)
		if n.ID == "" {
			n.ID = newID()[:8]
		}
		if ids[n.ID] {
			problems = append(problems, fieldErr{key, "id " + n.ID + " is used twice"})
		}
		ids[n.ID] = true
		for l, t := range n.Texts {
			if strings.TrimSpace(t) == "" {
				delete(n.Texts, l)
			}
		}
		if len(n.Texts) == 0 {
			problems = append(problems, fieldErr{key, "needs a text in at least one language"})
		}
		if n.Start.IsZero() {
			n.Start = s.now().UTC()
		}
		if !n.End.IsZero() && !n.End.After(n.Start) {
			problems = append(problems, fieldErr{key, "ends before it starts"})
		}
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "The notices were not saved.", Errors: problems})
		return
	}
	if in.Notices == nil {
		in.Notices = []intents.Notice{}
	}
	data, _ := json.MarshalIndent(in.Notices, "", "  ")
	note := fmt.Sprintf("%d status notice(s)", len(in.Notices))
	d, err := s.st.PutDoc(r.Context(), bot.Doc{Name: intents.NoticesDoc, Data: data, Author: u.User, Note: note}, in.Base)
	if err != nil {
		if errors.Is(err, bot.ErrConflict) {
			writeErr(w, http.StatusConflict, "Someone else saved the notices meanwhile. Reload and try again.")
			return
		}
		writeErr(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": d.Version})
}

// auditEntry is one change of a document: who, what, when.
type auditEntry struct {
	Doc     string    `json:"doc"`
	Version int64     `json:"version"`
	Author  string    `json:"author"`
	Note    string    `json:"note"`
	At      time.Time `json:"at"`
}

// audit lists the changes to the knowledge base, notices, settings and
// accounts, newest first, from the documents' history.
func (s *Server) audit(w http.ResponseWriter, r *http.Request, u User) {
	out := []auditEntry{}
	for _, name := range []string{intents.KBDoc, intents.NoticesDoc, SettingsDoc, AccountsDoc} {
		h, err := s.st.DocHistory(r.Context(), name, 200)
		if err != nil {
			writeErr(w, statusOf(err), err.Error())
			return
		}
		for _, d := range h {
			out = append(out, auditEntry{Doc: name, Version: d.Version, Author: d.Author, Note: d.Note, At: d.At})
		}
	}
	slices.SortFunc(out, func(a, b auditEntry) int { return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.Doc, b.Doc)) })
	if len(out) > 300 {
		out = out[:300]
	}
	writeJSON(w, http.StatusOK, out)
}
