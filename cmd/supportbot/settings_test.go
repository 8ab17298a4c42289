package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/web"
)

// Settings saved in the console (on any replica) reach this replica's desk
// with no restart.
func TestConsoleSettingsApplyLive(t *testing.T) {
	cfg, err := loadConfig(testConfig(t, ""), true)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store.DataDir = t.TempDir()
	cfg.Router.SyncEvery.Duration = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.st.Close()
	if a.desk.Config().Routing != handoff.Broadcast {
		t.Fatalf("routing %q at start", a.desk.Config().Routing)
	}
	done := make(chan error, 1)
	go func() { done <- a.watchSettings(ctx) }()
	data, _ := json.Marshal(web.Settings{Routing: handoff.Assign, AfterHours: handoff.AfterHoursContact,
		RenotifyAfter: "2m", EscalateAfter: "9m", UpdateEvery: "3m", Timezone: "Europe/Oslo"})
	if _, err := a.st.PutDoc(ctx, bot.Doc{Name: web.SettingsDoc, Data: data, Author: "admin"}, 0); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for a.desk.Config().Routing != handoff.Assign {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the desk still routes %q 10s after the settings were saved", a.desk.Config().Routing)
		}
	}
	if c := a.desk.Config(); c.RenotifyAfter != 2*time.Minute || c.AfterHours != handoff.AfterHoursContact {
		t.Errorf("desk config %+v", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
