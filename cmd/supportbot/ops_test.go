package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/internal/redistest"
)

// startBot runs "supportbot run" with config extra and returns its address.
func startBot(t *testing.T, extra string) string {
	t.Helper()
	ready := make(chan string, 1)
	onReady = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := runCmd(t, ctx, "run", "--config", testConfig(t, extra), "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0")
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("bot did not stop within 30s")
		}
		onReady = nil
	})
	select {
	case addr := <-ready:
		return addr
	case <-time.After(30 * time.Second):
		t.Fatal("not ready in 30s")
	}
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHealthzFollowsRedis: /healthz is 503 while redis-server is down and
// 200 again once it is back, with no restart of the bot; /metrics counts
// the failed pings.
func TestHealthzFollowsRedis(t *testing.T) {
	srv := redistest.Start(t)
	t.Setenv("REDIS_URL", srv.URL())
	base := "http://" + startBot(t, "[store]\nkind = \"redis\"\n")
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, base+p); code != 200 {
			t.Fatalf("%s with Redis up: %d %s", p, code, body)
		}
	}
	srv.Stop()
	start := time.Now()
	code, body := get(t, base+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("/healthz with Redis down: %d %q, want 503 naming the store", code, body)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d, want 503", code)
	}
	t.Logf("unhealthy reported in %v", time.Since(start).Round(time.Millisecond))
	srv.Restart(t) // returns once redis-server answers PING
	back := time.Now()
	// No retry: the first probe after redis-server answers must pass (the
	// client drops its dead connections when it takes them from the pool).
	code, body = get(t, base+"/healthz")
	if code != 200 {
		t.Fatalf("/healthz once Redis is back: %d %q", code, body)
	}
	t.Logf("healthy again %v after redis-server answered", time.Since(back).Round(time.Millisecond))
	_, text := get(t, base+"/metrics")
	for _, want := range []string{`supportbot_store_errors_total{kind="unavailable",op="ping"}`,
		"supportbot_handoff_queue_length 0", "supportbot_agents{status=\"on\"}", "supportbot_router_duration_seconds_count",
		"supportbot_inbound_pending 0", "supportbot_outbox_depth 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestOversizedRequestIsRefused: any endpoint refuses a body over
// http.max_body with 413.
func TestOversizedRequestIsRefused(t *testing.T) {
	base := "http://" + startBot(t, "[http]\nmax_body = 65536\n")
	for _, path := range []string{"/", "/healthz", "/slack/events", "/api/anything"} {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(strings.Repeat("x", 70000)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with 70000 bytes: %d, want 413", path, resp.StatusCode)
		}
	}
	_, text := get(t, base+"/metrics")
	if !strings.Contains(text, "supportbot_http_requests_too_large_total 4") {
		t.Errorf("/metrics does not count 4 refused requests")
	}
}

type notReady struct {
	*channeltest.Fake
	ready chan struct{}
}

func (n notReady) Ready() <-chan struct{} { return n.ready }

func TestReadyzWaitsForChannels(t *testing.T) {
	ch := notReady{channeltest.NewFake("slack"), make(chan struct{})}
	chans := []bot.Channel{channeltest.NewFake("cli"), ch}
	if err := channelsReady(chans); err == nil || !strings.Contains(err.Error(), "slack") {
		t.Fatalf("not connected: %v, want an error naming slack", err)
	}
	close(ch.ready)
	if err := channelsReady(chans); err != nil {
		t.Fatalf("connected: %v", err)
	}
}
