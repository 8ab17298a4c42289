package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/web"
)

// FuzzHandler drives the web UI's exported http.Handler as a logged-in
// admin (session cookie and CSRF token) with arbitrary methods, paths and
// bodies on every JSON endpoint: no request panics or gets a 500 (503 is
// the inbox's answer when no desk runs). Seeds:
// testdata/fuzz/FuzzHandler.
func FuzzHandler(f *testing.F) {
	st, err := embedded.Open(filepath.Join(f.TempDir(), "sb.db"), embedded.Options{SweepEvery: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ctx := context.Background()
	s, err := web.New(ctx, web.Options{Store: st, Channel: web.NewChannel(web.ChannelOptions{}),
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	if err := web.SaveAccount(ctx, st, "fuzzadmin", "Fuzz", web.RoleAdmin, "correct horse battery", "test", false); err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	f.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := loginAdmin(f, c, srv.URL)

	seeds := []struct{ method, path, body string }{
		{"PUT", "/admin/api/kb/faq/shipping", `{"questions":{"en":["how long"]},"answers":{"en":"3 days"}}`},
		{"PUT", "/admin/api/kb/intent/x", `{"examples":{"en":[1,2]}}`},
		{"DELETE", "/admin/api/kb/faq/nope", ``},
		{"POST", "/admin/api/kb/rollback", `{"version":-1}`},
		{"POST", "/admin/api/kb/import", "intents:\n  - name: [unclosed\n"},
		{"POST", "/admin/api/try", `{"text":"\u0000\ud800","lang":"xx"}`},
		{"PUT", "/admin/api/settings", `{"handoff":{"routing":"random"}}`},
		{"PUT", "/admin/api/notices", `[{}]`},
		{"POST", "/admin/api/accounts", `{"user":"","role":"god"}`},
		{"GET", "/admin/api/kb/diff?from=a&to=-3", ``},
		{"GET", "/admin/api/analytics?since=not-a-time", ``},
		{"GET", "/admin/chart/%00", ``},
		{"POST", "/inbox/api/conv/x/claim", `{}`},
		{"POST", "/inbox/api/status", `{"status":"sleeping"}`},
		{"GET", "/inbox/api/conv/..%2F..", ``},
		{"POST", "/login", `user=a&password=b`},
	}
	for _, sd := range seeds {
		f.Add(sd.method, sd.path, []byte(sd.body))
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			method = "POST"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u, err := url.Parse(srv.URL + path)
		if err != nil || u.Host != strings.TrimPrefix(srv.URL, "http://") || strings.HasPrefix(u.Path, "/events") ||
			strings.HasSuffix(u.Path, "/ws") || strings.HasSuffix(u.Path, "/events") || strings.HasSuffix(u.Path, "/logout") {
			return // not a URL of this server, or a stream / the session's own logout
		}
		req, err := http.NewRequest(method, u.String(), strings.NewReader(string(body)))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", srv.URL)
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
		res.Body.Close()
		// 503 is the deliberate answer of the inbox without a desk.
		if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, path, body, res.StatusCode, b)
		}
	})
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginAdmin logs c in through the login form and returns the session's
// CSRF token.
func loginAdmin(tb testing.TB, c *http.Client, base string) string {
	tb.Helper()
	r, err := c.Get(base + "/login")
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		tb.Fatal("no CSRF field on the login page")
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{
		"user": {"fuzzadmin"}, "password": {"correct horse battery"}, "csrf": {string(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		tb.Fatalf("login: %d", res.StatusCode)
	}
	r, err = c.Get(base + "/api/me")
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Body.Close()
	var me struct {
		CSRF string `json:"csrf"`
	}
	if err := json.NewDecoder(r.Body).Decode(&me); err != nil || me.CSRF == "" {
		tb.Fatalf("/api/me: %v %+v", err, me)
	}
	return me.CSRF
}
