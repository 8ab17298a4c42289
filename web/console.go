package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/intents/kb"
)

// The console edits the knowledge base as the store keeps it: each save
// publishes a whole new version through intents.Publish (validated, with
// the admin as author and a note saying what changed), and every replica's
// router picks it up on its next poll of DocVersion.

// loadKB returns the latest knowledge base and its version (an empty base at 0).
func (s *Server) loadKB(ctx context.Context) (*kb.Base, int64, error) {
	d, err := s.st.Doc(ctx, intents.KBDoc)
	if errors.Is(err, bot.ErrNotFound) {
		return &kb.Base{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	b, err := kb.ParseJSON(d.Data)
	if err != nil {
		return nil, 0, fmt.Errorf("knowledge base v%d: %w", d.Version, err)
	}
	return b, d.Version, nil
}

// kbAt returns version v of the knowledge base.
func (s *Server) kbAt(ctx context.Context, v int64) (*kb.Base, error) {
	if v <= 0 {
		return &kb.Base{}, nil
	}
	d, err := s.st.DocAt(ctx, intents.KBDoc, v)
	if err != nil {
		return nil, err
	}
	return kb.ParseJSON(d.Data)
}

// publish normalises b (language codes, trimmed text), validates it and
// stores it as the version after expect. Validation problems are written
// as a 422 with one message per key; it reports whether it published.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, b *kb.Base, expect int64, u User, note string) (bot.Doc, bool) {
	data, err := b.JSON()
	if err == nil {
		b, err = kb.ParseJSON(data)
	}
	var d bot.Doc
	if err == nil {
		d, err = intents.Publish(r.Context(), s.st, b, expect, u.User, note)
	}
	switch {
	case err == nil:
		s.log.Info("knowledge base published", "version", d.Version, "author", u.User, "note", note)
		return d, true
	case errors.Is(err, kb.ErrInvalid):
		out := apiError{Error: "The knowledge base was not changed: please fix these problems."}
		for _, e := range kb.Errors(err) {
			out.Errors = append(out.Errors, fieldErr{Key: e.Key, Message: e.Msg})
		}
		if len(out.Errors) == 0 {
			out.Errors = []fieldErr{{Message: err.Error()}}
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
	case errors.Is(err, bot.ErrConflict):
		writeErr(w, http.StatusConflict, "Someone else published a change meanwhile. Reload and try again.")
	default:
		writeErr(w, statusOf(err), err.Error())
	}
	return bot.Doc{}, false
}

type kbOut struct {
	Version   int64    `json:"version"`
	Base      *kb.Base `json:"base"`
	Languages []string `json:"languages"` // every language in use, the default first
	Lint      []string `json:"lint,omitempty"`
	Live      int64    `json:"live"` // version the router on this replica uses
}

func (s *Server) kbGet(w http.ResponseWriter, r *http.Request, u User) {
	b, v, err := s.loadKB(r.Context())
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	out := kbOut{Version: v, Base: b, Languages: b.AllLanguages(), Lint: b.Lint()}
	if s.router != nil {
		if sn := s.router.Snapshot(); sn != nil {
			out.Live = sn.Version
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// kbEdit is one entry saved from the editor.
type kbEdit struct {
	// Base is the version the admin started from; the save fails with 409
	// if the entry changed since.
	Base   int64      `json:"base"`
	Intent *kb.Intent `json:"intent,omitempty"`
	FAQ    *kb.FAQ    `json:"faq,omitempty"`
	Note   string     `json:"note"`
}

// kbPut creates or replaces the intent or FAQ entry {name} (kind "intent"
// or "faq"); a different name in the body renames it.
func (s *Server) kbPut(w http.ResponseWriter, r *http.Request, u User) {
	kind, name := r.PathValue("kind"), r.PathValue("name")
	var in kbEdit
	if !decode(w, r, &in) {
		return
	}
	if (kind == "intent") != (in.Intent != nil) || (kind == "faq") != (in.FAQ != nil) {
		writeErr(w, http.StatusBadRequest, "send the "+kind+" to save")
		return
	}
	s.editKB(w, r, u, kind, name, in.Base, in.Note, func(b *kb.Base) (string, error) {
		if kind == "intent" {
			in.Intent.File = fileOf(b, kind, name)
			return upsert(&b.Intents, name, *in.Intent, func(x kb.Intent) string { return x.Name }), nil
		}
		in.FAQ.File = fileOf(b, kind, name)
		return upsert(&b.FAQs, name, *in.FAQ, func(x kb.FAQ) string { return x.ID }), nil
	})
}

func (s *Server) kbDelete(w http.ResponseWriter, r *http.Request, u User) {
	kind, name := r.PathValue("kind"), r.PathValue("name")
	base, _ := strconv.ParseInt(r.URL.Query().Get("base"), 10, 64)
	s.editKB(w, r, u, kind, name, base, "", func(b *kb.Base) (string, error) {
		n := len(b.Intents) + len(b.FAQs)
		if kind == "intent" {
			b.Intents = remove(b.Intents, name, func(x kb.Intent) string { return x.Name })
		} else {
			b.FAQs = remove(b.FAQs, name, func(x kb.FAQ) string { return x.ID })
		}
		if n == len(b.Intents)+len(b.FAQs) {
			return "", fmt.Errorf("%w: %s %s", bot.ErrNotFound, kind, name)
		}
		return "delete " + kind + " " + name, nil
	})
}

// editKB applies change to the latest knowledge base and publishes it. If
// the entry changed since version base (someone else edited it), it
// refuses with 409 rather than overwrite their edit.
func (s *Server) editKB(w http.ResponseWriter, r *http.Request, u User, kind, name string, base int64, note string,
	change func(*kb.Base) (string, error)) {
	if kind != "intent" && kind != "faq" {
		writeErr(w, http.StatusNotFound, "kind must be intent or faq")
		return
	}
	ctx := r.Context()
	for attempt := 0; ; attempt++ {
		b, v, err := s.loadKB(ctx)
		if err != nil {
			writeErr(w, statusOf(err), err.Error())
			return
		}
		if base > 0 && base != v {
			old, err := s.kbAt(ctx, base)
			if err != nil {
				writeErr(w, statusOf(err), err.Error())
				return
			}
			if !sameEntry(old, b, kind, name) {
				writeErr(w, http.StatusConflict, fmt.Sprintf("%s %q was changed by someone else since version %d. Reload to see their change.", kind, name, base))
				return
			}
		}
		what, err := change(b)
		if err != nil {
			writeErr(w, statusOf(err), err.Error())
			return
		}
		if note == "" {
			note = what
		} else {
			note = what + ": " + note
		}
		d, ok := s.publishQuiet(ctx, b, v, u, note)
		if ok == nil {
			writeJSON(w, http.StatusOK, map[string]any{"version": d.Version, "note": note})
			return
		}
		if errors.Is(ok, bot.ErrConflict) && attempt < 3 {
			continue // another entry changed meanwhile: apply ours to the new version
		}
		s.publish(w, r, b, v, u, note) // writes the error
		return
	}
}

// publishQuiet is publish without writing a response.
func (s *Server) publishQuiet(ctx context.Context, b *kb.Base, expect int64, u User, note string) (bot.Doc, error) {
	data, err := b.JSON()
	if err != nil {
		return bot.Doc{}, err
	}
	if b, err = kb.ParseJSON(data); err != nil {
		return bot.Doc{}, err
	}
	d, err := intents.Publish(ctx, s.st, b, expect, u.User, note)
	if err == nil {
		s.log.Info("knowledge base published", "version", d.Version, "author", u.User, "note", note)
	}
	return d, err
}

func sameEntry(a, b *kb.Base, kind, name string) bool {
	if kind == "intent" {
		x, okx := a.Intent(name)
		y, oky := b.Intent(name)
		return okx == oky && (!okx || reflect.DeepEqual(*x, *y))
	}
	x, okx := a.FAQ(name)
	y, oky := b.FAQ(name)
	return okx == oky && (!okx || reflect.DeepEqual(*x, *y))
}

// fileOf keeps an edited entry in its YAML file.
func fileOf(b *kb.Base, kind, name string) string {
	if kind == "intent" {
		if in, ok := b.Intent(name); ok {
			return in.File
		}
		return ""
	}
	if f, ok := b.FAQ(name); ok {
		return f.File
	}
	return ""
}

// upsert replaces the element called name with v, or appends v; it returns the note.
func upsert[E any](list *[]E, name string, v E, key func(E) string) string {
	for i, x := range *list {
		if key(x) == name {
			(*list)[i] = v
			if key(v) != name {
				return "rename " + name + " to " + key(v)
			}
			return "edit " + name
		}
	}
	*list = append(*list, v)
	return "create " + key(v)
}

func remove[E any](list []E, name string, key func(E) string) []E {
	out := list[:0]
	for _, x := range list {
		if key(x) != name {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) kbHistory(w http.ResponseWriter, r *http.Request, u User) {
	h, err := s.st.DocHistory(r.Context(), intents.KBDoc, 100)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	if h == nil {
		h = []bot.Doc{}
	}
	writeJSON(w, http.StatusOK, h)
}

// kbDiff compares version from (default: to-1) with version to (default: latest).
func (s *Server) kbDiff(w http.ResponseWriter, r *http.Request, u User) {
	ctx := r.Context()
	q := r.URL.Query()
	to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
	if to <= 0 {
		v, err := s.st.DocVersion(ctx, intents.KBDoc)
		if err != nil {
			writeErr(w, statusOf(err), err.Error())
			return
		}
		to = v
	}
	from, err := strconv.ParseInt(q.Get("from"), 10, 64)
	if err != nil {
		from = to - 1
	}
	a, err := s.kbAt(ctx, from)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	b, err := s.kbAt(ctx, to)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	changes := kb.Diff(a, b)
	if changes == nil {
		changes = []kb.Change{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "changes": changes})
}

// kbRollback publishes an old version's content as the newest version.
func (s *Server) kbRollback(w http.ResponseWriter, r *http.Request, u User) {
	var in struct {
		Version int64 `json:"version"`
	}
	if !decode(w, r, &in) {
		return
	}
	ctx := r.Context()
	old, err := s.kbAt(ctx, in.Version)
	if err != nil || in.Version <= 0 {
		writeErr(w, http.StatusNotFound, fmt.Sprintf("no version %d", in.Version))
		return
	}
	v, err := s.st.DocVersion(ctx, intents.KBDoc)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	if d, ok := s.publish(w, r, old, v, u, fmt.Sprintf("rollback to v%d", in.Version)); ok {
		writeJSON(w, http.StatusOK, map[string]any{"version": d.Version})
	}
}

// kbExport downloads the knowledge base as one YAML file (kb import reads it).
func (s *Server) kbExport(w http.ResponseWriter, r *http.Request, u User) {
	b, v, err := s.loadKB(r.Context())
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	data, err := b.YAML()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kb-v%d.yaml"`, v))
	_, _ = w.Write(data)
}

// kbImport replaces the knowledge base with an uploaded YAML file (the
// request body, or the multipart field "file"). Problems come back with
// their file line.
func (s *Server) kbImport(w http.ResponseWriter, r *http.Request, u User) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var data []byte
	var err error
	name := "upload.yaml"
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		f, h, ferr := r.FormFile("file")
		if ferr != nil {
			writeErr(w, http.StatusBadRequest, "no file uploaded")
			return
		}
		defer f.Close()
		name = h.Filename
		data, err = io.ReadAll(f)
	} else {
		if n := r.URL.Query().Get("name"); n != "" {
			name = n
		}
		data, err = io.ReadAll(r.Body)
	}
	if err != nil {
		writeErr(w, http.StatusBadRequest, "upload: "+err.Error())
		return
	}
	b, err := kb.ParseFile(name, data)
	if err != nil {
		out := apiError{Error: "The file was not imported: please fix these problems."}
		for _, e := range kb.Errors(err) {
			k := e.Key
			if e.Line > 0 {
				k = fmt.Sprintf("line %d: %s", e.Line, e.Key)
			}
			out.Errors = append(out.Errors, fieldErr{Key: k, Message: e.Msg})
		}
		if len(out.Errors) == 0 {
			out.Errors = []fieldErr{{Message: err.Error()}}
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	v, err := s.st.DocVersion(r.Context(), intents.KBDoc)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	if d, ok := s.publish(w, r, b, v, u, "import "+name); ok {
		writeJSON(w, http.StatusOK, map[string]any{"version": d.Version, "intents": len(b.Intents), "faq": len(b.FAQs)})
	}
}

type tryOut struct {
	intents.Decision
	Answer     string `json:"answer,omitempty"`
	AnswerLang string `json:"answer_lang,omitempty"`
	Version    int64  `json:"version"`
}

// try shows what the live router decides for a message ("Try it").
func (s *Server) try(w http.ResponseWriter, r *http.Request, u User) {
	if s.router == nil {
		writeErr(w, http.StatusServiceUnavailable, "The router is not running.")
		return
	}
	var in struct {
		Text   string `json:"text"`
		Lang   string `json:"lang"`
		Misses int    `json:"misses"`
	}
	if !decode(w, r, &in) {
		return
	}
	text, _ := bot.Clean(in.Text, 4000)
	if text == "" {
		writeErr(w, http.StatusBadRequest, "Write a message to try.")
		return
	}
	d, err := s.router.Explain(text, in.Lang, max(in.Misses, 0))
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	out := tryOut{Decision: d}
	if sn := s.router.Snapshot(); sn != nil {
		out.Version = sn.Version
		if d.Intent != "" {
			if a, l, err := sn.Base.Answer(strings.TrimPrefix(d.Intent, "faq:"), d.Lang); err == nil {
				out.Answer, out.AnswerLang = a.Text, l
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
