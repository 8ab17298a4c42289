package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/supportbot/supportbot/bot"
)

// Roles of an account. An admin can do everything an agent can.
const (
	RoleAdmin = "admin"
	RoleAgent = "agent"

	roleAdmin = RoleAdmin
	roleAgent = RoleAgent
)

// Document names this package keeps in the store.
const (
	AccountsDoc = "accounts"   // the accounts (bcrypt hashes)
	SecretDoc   = "web.secret" // the key that signs session cookies
	SettingsDoc = "settings"   // business hours, SLA times, routing
)

// Session settings.
const (
	sessionCookie = "sb_session"
	loginCookie   = "sb_login"
	sessionTTL    = 12 * time.Hour
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
	minPassword   = 10
)

// Account is one person who logs in to the inbox or the console.
type Account struct {
	User    string    `json:"user"`
	Name    string    `json:"name"` // shown to customers when the agent joins
	Role    string    `json:"role"` // RoleAdmin or RoleAgent
	Hash    string    `json:"hash"` // bcrypt
	Epoch   int       `json:"epoch"`
	Created time.Time `json:"created"`
}

// ErrExists is returned by CreateAccount for a user name already taken.
var ErrExists = errors.New("web: account exists")

var userRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// LoadAccounts returns the accounts and the version of their document (0: none yet).
func LoadAccounts(ctx context.Context, st bot.DocStore) ([]Account, int64, error) {
	d, err := st.Doc(ctx, AccountsDoc)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var accts []Account
	if err := json.Unmarshal(d.Data, &accts); err != nil {
		return nil, 0, fmt.Errorf("accounts v%d: %w", d.Version, err)
	}
	return accts, d.Version, nil
}

// SaveAccount creates the account user, or with reset sets its password (and
// role and name if given), signing out its sessions. author and the note
// go to the document's history (the audit log).
func SaveAccount(ctx context.Context, st bot.DocStore, user, name, role, password, author string, reset bool) error {
	user = strings.ToLower(strings.TrimSpace(user))
	if !userRE.MatchString(user) {
		return fmt.Errorf("user name %q: use 1-32 lower-case letters, digits, '.', '_' or '-'", user)
	}
	if role != "" && role != RoleAdmin && role != RoleAgent {
		return fmt.Errorf("role %q: want %q or %q", role, RoleAdmin, RoleAgent)
	}
	if len(password) < minPassword {
		return fmt.Errorf("password: at least %d characters", minPassword)
	}
	if len(password) > 72 {
		return errors.New("password: at most 72 bytes (bcrypt)")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	for range 5 {
		accts, v, err := LoadAccounts(ctx, st)
		if err != nil {
			return err
		}
		i := accountIndex(accts, user)
		note := "create account " + user
		switch {
		case i >= 0 && !reset:
			return fmt.Errorf("%w: %s", ErrExists, user)
		case i >= 0:
			accts[i].Hash = string(hash)
			accts[i].Epoch++
			if role != "" {
				accts[i].Role = role
			}
			if name != "" {
				accts[i].Name = name
			}
			note = "reset password of " + user
		default:
			if role == "" {
				role = RoleAgent
			}
			if name == "" {
				name = user
			}
			accts = append(accts, Account{User: user, Name: name, Role: role, Hash: string(hash), Created: time.Now().UTC()})
			note += " (" + role + ")"
		}
		data, err := json.Marshal(accts)
		if err != nil {
			return err
		}
		_, err = st.PutDoc(ctx, bot.Doc{Name: AccountsDoc, Data: data, Author: author, Note: note}, v)
		if !errors.Is(err, bot.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("accounts: %w", bot.ErrConflict)
}

func accountIndex(accts []Account, user string) int {
	for i, a := range accts {
		if a.User == user {
			return i
		}
	}
	return -1
}

// RandomPassword returns a password for a first admin.
func RandomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// dummyHash is compared against for unknown users.
var dummyHash = sync.OnceValue(func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte(RandomPassword()), bcrypt.DefaultCost)
	return string(h)
})

// User is a logged-in account in a request.
type User struct {
	User  string `json:"user"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	CSRF  string `json:"csrf"`
	nonce string
}

func allowed(have, need string) bool { return have == RoleAdmin || have == need }

// agentID is the desk's ID of a web user.
func (u User) agentID() string { return "web:" + u.User }

// auth signs sessions and checks logins.
type auth struct {
	st  bot.DocStore
	key []byte
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	limiters map[string]*limiter
	revoked  map[string]time.Time // session nonces logged out, until expiry
	cache    []Account
	cacheV   int64
	cacheAt  time.Time
}

type limiter struct {
	*rate.Limiter
	seen time.Time
}

func newAuth(ctx context.Context, st bot.DocStore, log *slog.Logger, now func() time.Time) (*auth, error) {
	key, err := sessionKey(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("web: session key: %w", err)
	}
	return &auth{st: st, key: key, log: log, now: now, limiters: map[string]*limiter{}, revoked: map[string]time.Time{}}, nil
}

// sessionKey reads the shared signing key, creating it on a first start.
func sessionKey(ctx context.Context, st bot.DocStore) ([]byte, error) {
	for range 3 {
		d, err := st.Doc(ctx, SecretDoc)
		if err == nil && len(d.Data) >= 32 {
			return d.Data, nil
		}
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			return nil, err
		}
		v, err := st.DocVersion(ctx, SecretDoc)
		if err != nil {
			return nil, err
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		_, err = st.PutDoc(ctx, bot.Doc{Name: SecretDoc, Data: key, Author: "system", Note: "session signing key"}, v)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, bot.ErrConflict) {
			return nil, err
		}
	}
	return nil, bot.ErrConflict
}

func (a *auth) mac(parts ...string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// accounts returns the accounts, re-read at most once a second.
func (a *auth) accounts(ctx context.Context) ([]Account, error) {
	a.mu.Lock()
	if a.cache != nil && a.now().Sub(a.cacheAt) < time.Second {
		defer a.mu.Unlock()
		return a.cache, nil
	}
	a.mu.Unlock()
	accts, v, err := LoadAccounts(ctx, a.st)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.cache, a.cacheV, a.cacheAt = accts, v, a.now()
	a.mu.Unlock()
	return accts, nil
}

func (a *auth) forget() {
	a.mu.Lock()
	a.cache = nil
	a.mu.Unlock()
}

type session struct {
	User  string `json:"u"`
	Epoch int    `json:"e"`
	Exp   int64  `json:"x"`
	Nonce string `json:"n"`
}

func (a *auth) cookieValue(s session) string {
	b, _ := json.Marshal(s)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + a.mac("session", p)
}

// user returns the logged-in user of r.
func (a *auth) user(r *http.Request) (User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return User{}, false
	}
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(a.mac("session", p))) {
		return User{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return User{}, false
	}
	var s session
	if json.Unmarshal(b, &s) != nil || a.now().Unix() > s.Exp {
		return User{}, false
	}
	a.mu.Lock()
	_, out := a.revoked[s.Nonce]
	a.mu.Unlock()
	if out {
		return User{}, false
	}
	accts, err := a.accounts(r.Context())
	if err != nil {
		return User{}, false
	}
	i := accountIndex(accts, s.User)
	if i < 0 || accts[i].Epoch != s.Epoch {
		return User{}, false // deleted, or password changed since
	}
	acct := accts[i]
	return User{User: acct.User, Name: acct.Name, Role: acct.Role, CSRF: a.mac("csrf", s.Nonce), nonce: s.Nonce}, true
}

// sameOrigin reports whether r comes from a page of this server: its
// Origin (or, without one, Referer) names this host. A request with
// neither (not a browser) passes; the CSRF token still guards it.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// authed runs h for a logged-in user with role; state-changing requests
// must carry the session's CSRF token (header or form field) and come from
// this origin, else 403.
func (s *Server) authed(role string, h func(http.ResponseWriter, *http.Request, User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.auth.user(r)
		if !ok {
			writeErr(w, http.StatusUnauthorized, "Please log in.")
			return
		}
		if !allowed(u.Role, role) {
			writeErr(w, http.StatusForbidden, "This needs the "+role+" role.")
			return
		}
		if unsafeMethod(r.Method) {
			tok := r.Header.Get(csrfHeader)
			if tok == "" {
				tok = r.FormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(tok), []byte(u.CSRF)) != 1 || !sameOrigin(r) {
				writeErr(w, http.StatusForbidden, "Missing or invalid CSRF token; reload the page.")
				return
			}
		}
		h(w, r, u)
	})
}

func secure(r *http.Request) bool { return r.TLS != nil }

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, strict bool) {
	ss := http.SameSiteLaxMode
	if strict {
		ss = http.SameSiteStrictMode
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: secure(r), SameSite: ss})
}

var loginTmpl = template.Must(template.ParseFS(assetFS, "assets/login.html"))

type loginData struct {
	CSRF, Next, Error, User string
}

// loginPage shows the form with a fresh pre-login CSRF token.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	nonce := newID()
	setCookie(w, r, loginCookie, nonce, 3600, true)
	d.CSRF = s.auth.mac("login", nonce)
	secureHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := loginTmpl.Execute(w, d); err != nil {
		s.log.Warn("login page", "err", err)
	}
}

// safeNext keeps redirects after login on this site.
func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") {
		return "/inbox"
	}
	return n
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow takes a login attempt from the rate limits: 5 tries then one every
// 12 s per IP and user, 20 then one every 2 s per IP.
func (a *auth) allow(ip, user string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.limiters) > 10000 {
		for k, l := range a.limiters {
			if now.Sub(l.seen) > time.Hour {
				delete(a.limiters, k)
			}
		}
	}
	get := func(k string, every time.Duration, burst int) *limiter {
		l, ok := a.limiters[k]
		if !ok {
			l = &limiter{Limiter: rate.NewLimiter(rate.Every(every), burst)}
			a.limiters[k] = l
		}
		l.seen = now
		return l
	}
	perUser := get("u|"+ip+"|"+user, 12*time.Second, 5)
	perIP := get("ip|"+ip, 2*time.Second, 20)
	return perUser.AllowN(now, 1) && perIP.AllowN(now, 1)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	user := strings.ToLower(strings.TrimSpace(r.PostFormValue("user")))
	next := safeNext(r.PostFormValue("next"))
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) ||
		!hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(s.auth.mac("login", c.Value))) {
		s.renderLogin(w, r, http.StatusForbidden, loginData{Next: next, User: user,
			Error: "Your login form expired or came from another site. Please try again."})
		return
	}
	if !s.auth.allow(clientIP(r), user) {
		s.log.Warn("login rate limited", "user", user, "ip", clientIP(r))
		s.renderLogin(w, r, http.StatusTooManyRequests, loginData{Next: next, User: user,
			Error: "Too many attempts. Wait a minute and try again."})
		return
	}
	accts, err := s.auth.accounts(r.Context())
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	i := accountIndex(accts, user)
	hash := dummyHash() // an unknown user costs as much time as a wrong password
	if i >= 0 {
		hash = accts[i].Hash
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(r.PostFormValue("password"))) != nil || i < 0 {
		s.log.Info("login failed", "user", user, "ip", clientIP(r))
		s.renderLogin(w, r, http.StatusUnauthorized, loginData{Next: next, User: user, Error: "Wrong user name or password."})
		return
	}
	acct := accts[i]
	sess := session{User: acct.User, Epoch: acct.Epoch, Exp: s.now().Add(sessionTTL).Unix(), Nonce: newID()}
	setCookie(w, r, sessionCookie, s.auth.cookieValue(sess), int(sessionTTL.Seconds()), false)
	setCookie(w, r, loginCookie, "", -1, true)
	s.log.Info("login", "user", acct.User, "role", acct.Role)
	if next == "/inbox" && acct.Role == RoleAdmin && r.PostFormValue("next") == "" {
		next = "/admin"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, u User) {
	s.auth.mu.Lock()
	now := s.now()
	for k, t := range s.auth.revoked {
		if now.After(t) {
			delete(s.auth.revoked, k)
		}
	}
	s.auth.revoked[u.nonce] = now.Add(sessionTTL)
	s.auth.mu.Unlock()
	setCookie(w, r, sessionCookie, "", -1, false)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// me tells the page who is logged in and the CSRF token to send back.
func (s *Server) me(w http.ResponseWriter, r *http.Request, u User) {
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) accountsGet(w http.ResponseWriter, r *http.Request, u User) {
	accts, _, err := LoadAccounts(r.Context(), s.st)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	type pub struct {
		User, Name, Role string
		Created          time.Time
	}
	out := []pub{}
	for _, a := range accts {
		out = append(out, pub{a.User, a.Name, a.Role, a.Created})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) accountsPost(w http.ResponseWriter, r *http.Request, u User) {
	var in struct {
		User, Name, Role, Password string
		Reset                      bool
	}
	if !decode(w, r, &in) {
		return
	}
	err := SaveAccount(r.Context(), s.st, in.User, in.Name, in.Role, in.Password, u.User, in.Reset)
	switch {
	case errors.Is(err, ErrExists):
		writeErr(w, http.StatusConflict, err.Error())
	case errors.Is(err, bot.ErrConflict), errors.Is(err, bot.ErrUnavailable):
		writeErr(w, statusOf(err), err.Error())
	case err != nil:
		writeErr(w, http.StatusBadRequest, err.Error())
	default:
		s.auth.forget()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}
