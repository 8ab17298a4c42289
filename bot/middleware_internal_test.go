package bot

import (
	"bytes"
	"log/slog"
	"testing"
)

// The per-conversation logger writes exactly what slog's With would, also
// through further With and WithGroup calls, and only what its level lets
// through.
func TestConvLoggerWritesAsWith(t *testing.T) {
	logs := func(l func(*slog.Logger) *slog.Logger) string {
		var b bytes.Buffer
		h := slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			}})
		log := l(slog.New(h))
		log.Debug("hidden", "k", 0)
		log.Info("turn", "k", 1)
		log.With("a", 2).WithGroup("g").Warn("sent", "k", 3)
		return b.String()
	}
	got := logs(func(l *slog.Logger) *slog.Logger { return convLogger(l, "c:1") })
	want := logs(func(l *slog.Logger) *slog.Logger { return l.With("conversation", "c:1") })
	if got != want || got == "" {
		t.Errorf("convLogger wrote\n%s\nslog's With\n%s", got, want)
	}
}
