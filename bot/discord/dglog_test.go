package discord

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestLibraryLogGoesToTheBotsLog: an operator sees discordgo's errors in
// the bot's structured log, at the right level, not as "[DG0]" on stderr.
func TestLibraryLogGoesToTheBotsLog(t *testing.T) {
	var buf lockedBuf
	RouteLibraryLog(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { dgLog.Store(nil) })
	discordgo.Logger(discordgo.LogError, 1, "error reading from gateway %s websocket, %s", "wss://x", "EOF")
	discordgo.Logger(discordgo.LogDebug, 1, "heartbeat sent")
	out := buf.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "lib=discordgo") ||
		!strings.Contains(out, `error reading from gateway wss://x websocket, EOF`) {
		t.Errorf("log = %q, want the error at level ERROR with lib=discordgo", out)
	}
	if strings.Contains(out, "heartbeat") {
		t.Errorf("debug line logged at the default level: %q", out)
	}
}
