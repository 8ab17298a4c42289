package discord

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/bwmarrin/discordgo"
)

// discordgo logs through one package-wide hook (its own "[DGn]" lines on
// stderr by default).
var (
	dgLog     atomic.Pointer[slog.Logger]
	dgLogOnce sync.Once
)

// RouteLibraryLog sends discordgo's own log lines (gateway read errors,
// heartbeat failures) to log, with lib=discordgo, instead of stderr. The
// hook is process-wide: call it once, with the process's logger.
func RouteLibraryLog(log *slog.Logger) {
	dgLog.Store(log.With("lib", "discordgo"))
	dgLogOnce.Do(func() { discordgo.Logger = libraryLog })
}

// libraryLog is discordgo.Logger: its levels are LogError (0) to LogDebug (3).
func libraryLog(msgL, _ int, format string, a ...any) {
	l := dgLog.Load()
	if l == nil {
		return
	}
	lvl := slog.LevelDebug
	switch msgL {
	case discordgo.LogError:
		lvl = slog.LevelError
	case discordgo.LogWarning:
		lvl = slog.LevelWarn
	case discordgo.LogInformational:
		lvl = slog.LevelInfo
	}
	l.Log(context.Background(), lvl, fmt.Sprintf(format, a...))
}
