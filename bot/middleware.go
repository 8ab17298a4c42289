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
			t.Log.Log(ctx, lvl, "turn", "state", t.Conv.State, "intent", t.Conv.Intent,
				"replies", len(t.replies), "took", time.Since(start), "err", err)
			return err
		})
	}
}
