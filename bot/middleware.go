package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Recover turns a panic in next into an error, so one bad message never
// crashes a worker.
func Recover() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, t *Turn) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("bot: handler panicked: %v\n%s", r, debug.Stack())
				}
			}()
			return next.Handle(ctx, t)
		})
	}
}

// Timeout bounds each turn to d.
func Timeout(d time.Duration) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, t *Turn) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next.Handle(ctx, t)
		})
	}
}

// Logging logs each turn at debug level, with its duration and outcome.
func Logging() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, t *Turn) error {
			start := time.Now()
			err := next.Handle(ctx, t)
			lvl := slog.LevelDebug
			if err != nil {
				lvl = slog.LevelWarn
			}
			if t.Log.Enabled(ctx, lvl) { // else the arguments alone cost allocations every turn
				t.Log.Log(ctx, lvl, "turn", "state", t.Conv.State, "intent", t.Conv.Intent,
					"replies", len(t.replies), "took", time.Since(start), "err", err)
			}
			return err
		})
	}
}

// convLogger is log with the conversation's ID as an attribute. Most turns
// log nothing, so the attribute is formatted only when a record is
// written: slog.Logger.With formats it at once (a TextHandler, about seven
// allocations a turn).
func convLogger(log *slog.Logger, id ConversationID) *slog.Logger {
	return slog.New(&lazyAttrs{h: log.Handler(), id: id})
}

// lazyAttrs is h with the conversation attribute, then attrs, added when a
// record is handled. It keeps the ID rather than its attribute, which would
// cost each turn a slice.
type lazyAttrs struct {
	h     slog.Handler
	id    ConversationID
	attrs []slog.Attr
}

func (l *lazyAttrs) Enabled(ctx context.Context, lvl slog.Level) bool { return l.h.Enabled(ctx, lvl) }

func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return l.with().Handle(ctx, r)
}

func (l *lazyAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &lazyAttrs{h: l.h, id: l.id, attrs: append(l.attrs[:len(l.attrs):len(l.attrs)], as...)}
}

func (l *lazyAttrs) WithGroup(name string) slog.Handler { return l.with().WithGroup(name) }

// with is h with the attributes added.
func (l *lazyAttrs) with() slog.Handler {
	return l.h.WithAttrs(append([]slog.Attr{slog.String("conversation", string(l.id))}, l.attrs...))
}
