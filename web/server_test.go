package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store/embedded"
)

// bare is the server on an embedded store, with no desk and no router.
func bare(t *testing.T, now ...func() time.Time) (*embedded.Store, *httptest.Server) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "sb.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o := Options{Store: st, Channel: NewChannel(ChannelOptions{}), Log: discard()}
	if len(now) > 0 {
		o.Now = now[0]
	}
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveAccount(context.Background(), st, testAdmin, "Admin", RoleAdmin, testAdminPassword, "test", false); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return st, srv
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login posts the login form as a browser would and returns the response.
func login(t *testing.T, c *http.Client, base, user, password string) *http.Response {
	t.Helper()
	r, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body := new(strings.Builder)
	_, _ = (func() (int64, error) { defer r.Body.Close(); return ioCopy(body, r) })()
	m := csrfRE.FindStringSubmatch(body.String())
	if m == nil {
		t.Fatal("no CSRF field on the login page")
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{
		"user": {user}, "password": {password}, "csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestLoginSessionCookieAndCSRF(t *testing.T) {
	_, srv := bare(t)
	c := client()
	resp := login(t, c, srv.URL, testAdmin, testAdminPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", sess)
	}
	// State-changing requests need the token and this origin.
	post := func(token, origin string) int {
		req, _ := http.NewRequest("PUT", srv.URL+"/admin/api/notices", strings.NewReader(`{"base":0,"notices":[]}`))
		if token != "" {
			req.Header.Set(csrfHeader, token)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	var me User
	getJSON(t, c, srv.URL+"/api/me", &me)
	if got := post("", ""); got != http.StatusForbidden {
		t.Errorf("no token: %d, want 403", got)
	}
	if got := post(me.CSRF, "https://evil.example"); got != http.StatusForbidden {
		t.Errorf("foreign origin: %d, want 403", got)
	}
	if got := post(me.CSRF, srv.URL); got != http.StatusOK {
		t.Errorf("token and origin: %d, want 200", got)
	}
	// A login form posted without its token is refused too.
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader("user=admin&password="+url.QueryEscape(testAdminPassword)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("login without token: %d, want 403", r.StatusCode)
	}
	// Pages need a login; the API answers 401.
	anon := client()
	if r, _ := anon.Get(srv.URL + "/admin"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous /admin: %d, want a redirect to the login", r.StatusCode)
	}
	if r, _ := anon.Get(srv.URL + "/admin/api/kb"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous API: %d, want 401", r.StatusCode)
	}
}

func TestLoginIsRateLimited(t *testing.T) {
	frozen := time.Now() // the limiter refills with time; bcrypt under -race is slow
	_, srv := bare(t, func() time.Time { return frozen })
	c := client()
	codes := []int{}
	for range 7 {
		codes = append(codes, login(t, c, srv.URL, testAdmin, "wrong password!").StatusCode)
	}
	if codes[0] != http.StatusUnauthorized || codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Fatalf("codes %v: want 401 first and 429 after a few tries", codes)
	}
	if got := login(t, c, srv.URL, testAdmin, testAdminPassword).StatusCode; got != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %d, want 429", got)
	}
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	st, srv := bare(t)
	c := client()
	login(t, c, srv.URL, testAdmin, testAdminPassword)
	if r, _ := c.Get(srv.URL + "/api/me"); r.StatusCode != http.StatusOK {
		t.Fatalf("logged in: %d", r.StatusCode)
	}
	if err := SaveAccount(context.Background(), st, testAdmin, "", "", "a brand new password", "test", true); err != nil {
		t.Fatal(err)
	}
	// The accounts are cached for up to a second.
	eventually(t, "the old session to end", func() bool {
		r, err := c.Get(srv.URL + "/api/me")
		return err == nil && r.StatusCode == http.StatusUnauthorized
	})
}

func TestGroupUnanswered(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ev := func(text, lang string, min int) bot.Event {
		return bot.Event{Type: "unanswered", Text: text, Lang: lang, Reason: bot.ReasonOutOfScope, At: at.Add(time.Duration(min) * time.Minute)}
	}
	groups := groupUnanswered([]bot.Event{
		ev("do you sell gift wrapping", "en", 1),
		ev("can I get gift wrapping?", "en", 2),
		ev("Do you sell gift wrapping?", "en", 3),
		ev("what is the meaning of life", "en", 4),
		ev("selger dere gaveinnpakning", "nb", 5),
	})
	if len(groups) != 3 {
		t.Fatalf("%d groups, want 3: %+v", len(groups), groups)
	}
	if groups[0].Count != 3 || groups[0].Lang != "en" || !strings.Contains(groups[0].Text, "gift wrapping") {
		t.Errorf("first group %+v, want the three gift-wrapping questions", groups[0])
	}
}

func TestSettingsApply(t *testing.T) {
	base := handoff.Config{}
	base.SetDefaults()
	cfg, err := Settings{Routing: "assign", RenotifyAfter: "2m", EscalateAfter: "10m", Timezone: "Europe/Oslo",
		Weekly: map[string]string{"mon-fri": "08:00-16:00"}}.Apply(base)
	if err != nil || cfg.Routing != "assign" || cfg.RenotifyAfter != 2*time.Minute || cfg.Hours.Timezone != "Europe/Oslo" {
		t.Fatalf("Apply = %+v, %v", cfg, err)
	}
	_, err = Settings{Routing: "roulette", RenotifyAfter: "soon", Timezone: "Mars/Olympus"}.Apply(base)
	for _, want := range []string{"renotify_after", "routing", "timezone"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestChartsEscapeLabels(t *testing.T) {
	svg := hbarChart(`<script>alert(1)</script>`, []string{`"><img src=x onerror=alert(1)>`}, []float64{3}, "")
	if strings.Contains(svg, "<script>") || strings.Contains(svg, "<img") {
		t.Errorf("chart not escaped: %s", svg)
	}
}
