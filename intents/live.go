package intents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents/classify"
	"github.com/supportbot/supportbot/intents/kb"
)

// Document names of the knowledge base and the status notices in the store.
const (
	KBDoc      = "kb"
	NoticesDoc = "notices"
)

// DocReader is what the router needs to follow live edits (a bot.DocStore).
type DocReader interface {
	Doc(ctx context.Context, name string) (bot.Doc, error)
	DocVersion(ctx context.Context, name string) (int64, error)
}

// Publish validates base and stores it as the next version of the
// knowledge base, failing with an error wrapping bot.ErrConflict if
// someone else published since expect.
func Publish(ctx context.Context, st bot.DocStore, base *kb.Base, expect int64, author, note string) (bot.Doc, error) {
	if err := base.Validate(); err != nil {
		return bot.Doc{}, err
	}
	data, err := base.JSON()
	if err != nil {
		return bot.Doc{}, err
	}
	return st.PutDoc(ctx, bot.Doc{Name: KBDoc, Data: data, Author: author, Note: note}, expect)
}

// Seed publishes the files in fsys as version 1 when the store has no
// knowledge base yet, so a first run is useful. It reports whether it did.
func Seed(ctx context.Context, st bot.DocStore, fsys fs.FS) (bool, error) {
	v, err := st.DocVersion(ctx, KBDoc)
	if err != nil || v > 0 {
		return false, err
	}
	base, err := kb.LoadDir(fsys)
	if err != nil {
		return false, err
	}
	_, err = Publish(ctx, st, base, 0, "seed", "starter knowledge base from files")
	if errors.Is(err, bot.ErrConflict) {
		return false, nil // another replica seeded it first
	}
	return err == nil, err
}

// Sync loads the latest knowledge base and notices from st if they changed
// since the snapshot in use, and compiles it. An edit of a knowledge base
// in use first gets an interim model, trained from the one in use in a
// fraction of the time (Snapshot.Interim); the next Sync replaces it with
// a model trained from scratch, unless another edit comes first.
func (r *Router) Sync(ctx context.Context, st DocReader) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	v, err := st.DocVersion(ctx, KBDoc)
	if err != nil {
		return err
	}
	if cur := r.snap.Load(); v > 0 && (cur == nil || cur.Version != v || cur.Interim) {
		d, err := st.Doc(ctx, KBDoc)
		if err != nil {
			return err
		}
		base, err := kb.ParseJSON(d.Data)
		if err != nil {
			return fmt.Errorf("knowledge base v%d: %w", d.Version, err)
		}
		var s *Snapshot
		switch {
		case cur != nil && cur.Version == d.Version: // cur is interim
			s, err = r.exact(ctx, st, base, d.Version)
		case cur != nil && cur.Model != nil && cur.Model.Warmable():
			s, err = compileKB(ctx, base, d.Version, r.cfg.ModelCache, classify.Options{Warm: cur.Model})
		default:
			s, err = compileKB(ctx, base, d.Version, r.cfg.ModelCache, classify.Options{})
		}
		if errors.Is(err, errNewer) {
			return nil // the next Sync takes the newer version
		}
		if err != nil {
			return err
		}
		r.Use(s)
		r.log.Info("knowledge base loaded", "version", d.Version, "intents", len(base.Intents),
			"faq", len(base.FAQs), "trained", s.Trained.Round(time.Millisecond), "interim", s.Interim)
	}
	nv, err := st.DocVersion(ctx, NoticesDoc)
	if err != nil || nv == r.noticesVersion.Load() {
		return err
	}
	d, err := st.Doc(ctx, NoticesDoc)
	if err != nil {
		return err
	}
	var ns []Notice
	if err := json.Unmarshal(d.Data, &ns); err != nil {
		return fmt.Errorf("notices v%d: %w", d.Version, err)
	}
	r.SetNotices(ns)
	r.noticesVersion.Store(nv)
	return nil
}

// errNewer: a newer knowledge base was published during a compile.
var errNewer = errors.New("intents: a newer knowledge base was published")

// exactPoll is how often exact checks for a newer knowledge base.
const exactPoll = 100 * time.Millisecond

// exact compiles version of the knowledge base from scratch, on one core,
// to replace its interim snapshot. It gives up with errNewer as soon as st has a newer
// version, which then gets an interim model of its own without waiting.
func (r *Router) exact(ctx context.Context, st DocReader, base *kb.Base, version int64) (*Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	var newer atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		t := time.NewTicker(exactPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if v, err := st.DocVersion(ctx, KBDoc); err == nil && v != version {
					newer.Store(true)
					cancel()
					return
				}
			}
		}
	})
	if r.beforeExact != nil {
		r.beforeExact(ctx)
	}
	// On one core: the interim model answers meanwhile, and the bot keeps
	// the other cores for its traffic.
	s, err := compileKB(ctx, base, version, r.cfg.ModelCache, classify.Options{Workers: 1})
	if newer.Load() {
		return nil, errNewer
	}
	return s, err
}

// Watch calls Sync every interval until ctx is canceled, so every replica
// sees an edit within about one interval. Failures are logged and retried.
func (r *Router) Watch(ctx context.Context, st DocReader, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := r.Sync(ctx, st); err != nil && ctx.Err() == nil {
				r.log.Warn("knowledge base sync", "err", err)
			}
		}
	}
}
