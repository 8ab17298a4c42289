package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
)

func runCmd(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// testConfig writes a config using the repo's starter knowledge base.
func testConfig(t *testing.T, extra string) string {
	t.Helper()
	kb, err := filepath.Abs("../../kb")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.toml")
	body := "[router]\nkb_dir = " + `"` + kb + `"` + "\n" + extra
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelpOnEveryCommand(t *testing.T) {
	code, out, _ := runCmd(t, context.Background(), "--help")
	if code != 0 || !strings.Contains(out, "Commands:") {
		t.Fatalf("supportbot --help: code %d, output %q", code, out)
	}
	for _, c := range commands() {
		code, _, errOut := runCmd(t, context.Background(), c.name, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: supportbot "+c.name) {
			t.Errorf("%s --help: code %d, output %q", c.name, code, errOut)
		}
	}
}

func TestBadConfigNamesFileLineKeyAndExitsTwo(t *testing.T) {
	tests := []struct{ body, want string }{
		{"[http]\nadress = \"x\"\n", ":6: http.adress: unknown key"},
		{"[bot]\nhandler_timeout = \"fast\"\n", ":6: bot.handler_timeout:"},
		{"[bot]\nmax_turns = 0\n", ":6: bot.max_turns: must be between 1 and 100000, got 0"},
		{"[handoff]\nrouting = \"random\"\n", ":6: handoff.routing:"},
		{"[log]\nlevel = \"loud\"\n", ":6: log.level: must be debug, info, warn or error"},
		{"[store]\nkind = \"mongo\"\n", ":6: store.kind:"},
		{"[http]\nwidget_origins = [\"https://shop.example.com/cart\"]\n", ":6: http.widget_origins: not an origin"},
		{"[store]\nkind = \"redis\"\n[store.redis]\naddrs = [\"127.0.0.1:1\"]\ninbox_partitions = 0\ninbox_batch = 0\ninbox_claim_after = \"10ms\"\n",
			":11: store.redis.inbox_claim_after: redis: inbox_claim_after 10ms: must be at least 1s"},
	}
	for _, tc := range tests {
		p := testConfig(t, "\n\n"+tc.body)
		code, _, errOut := runCmd(t, context.Background(), "run", "--config", p, "--data-dir", t.TempDir())
		if code != 2 || !strings.Contains(errOut, p+tc.want) {
			t.Errorf("config %q: code %d, stderr %q; want exit 2 and %q", tc.body, code, errOut, p+tc.want)
		}
	}
	if code, _, errOut := runCmd(t, context.Background(), "run", "--config", "/nonexistent.toml"); code != 2 {
		t.Errorf("missing explicit config: code %d (%s)", code, errOut)
	}
}

func TestRedisUnreachableAtStartNamesTheAddress(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1")
	p := testConfig(t, "[store]\nkind = \"redis\"\n")
	code, _, errOut := runCmd(t, context.Background(), "run", "--config", p)
	if code != 1 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("code %d, stderr %q; want a clear error naming 127.0.0.1:1", code, errOut)
	}
}

func TestPipedChatAnswersEachLineInItsLanguage(t *testing.T) {
	stdin = strings.NewReader("hi\nhow long does shipping take?\nhvor lang tid tar frakten?\nкако да вратим производ?\n")
	t.Cleanup(func() { stdin = os.Stdin })
	code, out, errOut := runCmd(t, context.Background(), "chat", "--config", testConfig(t, ""), "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	blocks := strings.Split(out, "you> ")[1:]
	if len(blocks) != 4 {
		t.Fatalf("got %d reply blocks, want 4:\n%s", len(blocks), out)
	}
	for i, want := range []string{"Nordlys", "business day", "virkedag", "60 дана"} {
		if !strings.Contains(blocks[i], want) {
			t.Errorf("reply %d does not contain %q:\n%s", i+1, want, blocks[i])
		}
	}
}

// TestChatSessionContinues: a second `chat --session` on the same data
// answers too, and its lines join the first run's conversation (each run's
// message IDs are its own, so none is taken for a redelivered one).
func TestChatSessionContinues(t *testing.T) {
	cfg, dir := testConfig(t, ""), t.TempDir()
	for i, line := range []string{"hi", "how long does shipping take?"} {
		stdin = strings.NewReader(line + "\n")
		code, out, errOut := runCmd(t, context.Background(), "chat", "--config", cfg, "--data-dir", dir, "--session", "s1")
		stdin = os.Stdin
		if code != 0 {
			t.Fatalf("run %d: code %d: %s", i+1, code, errOut)
		}
		if blocks := strings.Split(out, "you> ")[1:]; len(blocks) != 1 || !strings.Contains(blocks[0], "bot>") {
			t.Fatalf("run %d got no answer:\n%s", i+1, out)
		}
	}
	code, out, errOut := runCmd(t, context.Background(), "customer", "--config", cfg, "--data-dir", dir, "export", "cli:you")
	if code != 0 {
		t.Fatalf("export: code %d: %s", code, errOut)
	}
	var d struct {
		Conversations []struct {
			Transcript []bot.Message `json:"transcript"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if len(d.Conversations) != 1 || len(d.Conversations[0].Transcript) != 4 {
		t.Fatalf("want one conversation of 4 messages (2 lines, 2 answers), got %+v", d.Conversations)
	}
}

func TestRunServesHealthAndStopsOnSignal(t *testing.T) {
	ready := make(chan string, 1)
	onReady = func(addr string) { ready <- addr }
	t.Cleanup(func() { onReady = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := runCmd(t, ctx, "run", "--config", testConfig(t, ""), "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0")
		done <- code
	}()
	var addr string
	select {
	case addr = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("not ready in 30s")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after shutdown", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop within 30s")
	}
}
