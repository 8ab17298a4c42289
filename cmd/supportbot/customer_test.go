package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/embedded"
)

func TestCustomerExportAndDelete(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, embedded.FileName), embedded.Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	for _, cust := range []string{"Ann", "Bob"} {
		c := bot.NewConversation(bot.Address{Channel: "web", Room: "room-" + cust}, bot.Customer{ID: "web:" + cust}, now)
		if err := st.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := st.Append(ctx, c.ID, bot.Message{ID: "1", Role: bot.RoleCustomer, Text: "hello from " + cust, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := testConfig(t, "")
	export := func(id string) store.CustomerData {
		t.Helper()
		code, out, errOut := runCmd(t, ctx, "customer", "--config", cfg, "--data-dir", dir, "export", id)
		if code != 0 {
			t.Fatalf("export: code %d: %s", code, errOut)
		}
		var d store.CustomerData
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("export is not JSON: %v\n%s", err, out)
		}
		return d
	}
	if d := export("web:Ann"); len(d.Conversations) != 1 || d.Conversations[0].Transcript[0].Text != "hello from Ann" {
		t.Fatalf("export: %+v", d)
	}
	if code, _, errOut := runCmd(t, ctx, "customer", "--config", cfg, "--data-dir", dir, "delete", "web:Ann"); code != 2 || !strings.Contains(errOut, "--yes") {
		t.Fatalf("delete without --yes: code %d, %q", code, errOut)
	}
	code, out, errOut := runCmd(t, ctx, "customer", "--config", cfg, "--data-dir", dir, "--yes", "delete", "web:Ann")
	if code != 0 || !strings.Contains(out, "1 conversations, 1 messages") {
		t.Fatalf("delete: code %d, %q %q", code, out, errOut)
	}
	if d := export("web:Ann"); !d.Empty() {
		t.Errorf("after delete: %+v", d)
	}
	if d := export("web:Bob"); len(d.Conversations) != 1 {
		t.Errorf("another customer lost data: %+v", d)
	}
	if code, _, _ := runCmd(t, ctx, "customer", "--config", cfg, "export"); code != 2 {
		t.Errorf("export without ID: code %d, want 2", code)
	}
}
