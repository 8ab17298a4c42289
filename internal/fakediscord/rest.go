package fakediscord

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type limitRule struct {
	method, contains string
	left             int
	after            time.Duration
}

// RateLimit makes the next n REST requests whose method is method and whose
// path contains contains (e.g. "POST", "/messages") fail with 429 and
// retry_after = after (body, Retry-After and X-RateLimit-* headers).
func (s *Server) RateLimit(method, contains string, n int, after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &limitRule{method: method, contains: contains, left: n, after: after})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, v := range []string{"/api/v9", "/api/v10"} {
		mux.HandleFunc("GET "+v+"/gateway", s.gateway)
		mux.HandleFunc("GET "+v+"/gateway/bot", s.gateway)
		mux.HandleFunc("GET "+v+"/users/@me", s.me)
		mux.HandleFunc("POST "+v+"/users/@me/channels", s.dmCreate)
		mux.HandleFunc("GET "+v+"/channels/{cid}", s.channelGet)
		mux.HandleFunc("POST "+v+"/channels/{cid}/messages", s.messageCreate)
		mux.HandleFunc("POST "+v+"/channels/{cid}/messages/{mid}/threads", s.threadFromMessage)
		mux.HandleFunc("POST "+v+"/channels/{cid}/threads", s.threadCreate)
		mux.HandleFunc("PUT "+v+"/channels/{cid}/thread-members/{uid}", s.threadMember)
		mux.HandleFunc("POST "+v+"/channels/{cid}/typing", s.typingCreate)
		mux.HandleFunc("POST "+v+"/interactions/{iid}/{token}/callback", s.callback)
		mux.HandleFunc("PUT "+v+"/applications/{app}/commands", s.commandsPut)
		mux.HandleFunc("PUT "+v+"/applications/{app}/guilds/{gid}/commands", s.commandsPut)
	}
	mux.HandleFunc("/gw", s.serveGateway)
	mux.HandleFunc("/gw/", s.serveGateway)
	return s.middleware(mux)
}

// middleware records the request, checks the token and injects 429s.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/gw") {
			next.ServeHTTP(w, r)
			return
		}
		p := trimAPI(r.URL.Path)
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+p)
		var rule *limitRule
		for _, l := range s.limits {
			if l.left > 0 && l.method == r.Method && strings.Contains(p, l.contains) {
				l.left--
				rule = l
				s.limited++
				break
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
		if rule != nil {
			secs := rule.after.Seconds()
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
			w.Header().Set("X-RateLimit-Limit", "5")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
			w.Header().Set("X-RateLimit-Scope", "user")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{
				"message": "You are being rate limited.", "retry_after": secs, "global": false})
			return
		}
		open := strings.HasPrefix(p, "/gateway") || strings.HasPrefix(p, "/interactions/")
		if !open && !s.authorized(r) {
			apiError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/gw"
	writeJSON(w, 200, map[string]any{"url": u, "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
}

func (s *Server) botUser() map[string]any {
	return map[string]any{"id": s.AppID, "username": s.opts.BotName, "bot": true, "discriminator": "0"}
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.botUser()) }

func (s *Server) dmCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.RecipientID == "" {
		apiError(w, 400, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	id, ok := s.dms[body.RecipientID]
	if !ok {
		id = s.newIDLocked()
		s.dms[body.RecipientID] = id
		s.channels[id] = &channel{ID: id, Type: 1}
	}
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": id, "type": 1,
		"recipients": []map[string]any{{"id": body.RecipientID, "username": "user" + body.RecipientID}}})
}

// DMChannel returns the DM channel the bot opened with user, if any.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dms[userID]
	return id, ok
}

func (s *Server) channelGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.channels[r.PathValue("cid")]
	var cp channel
	if ok {
		cp = *c
	}
	s.mu.Unlock()
	if !ok {
		apiError(w, 404, 10003, "Unknown Channel")
		return
	}
	writeJSON(w, 200, cp)
}

func (s *Server) messageCreate(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	var p Post
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	if strings.TrimSpace(p.Content) == "" && len(p.Components) == 0 {
		apiError(w, 400, 50006, "Cannot send an empty message")
		return
	}
	if n := len([]rune(p.Content)); n > 2000 {
		apiError(w, 400, 50035, fmt.Sprintf("Invalid Form Body: content must be 2000 or fewer in length (got %d)", n))
		return
	}
	cid := r.PathValue("cid")
	s.mu.Lock()
	p.ID, p.ChannelID, p.Raw, p.At = s.newIDLocked(), cid, raw, time.Now()
	s.posts = append(s.posts, p)
	guild := s.guildOfLocked(cid)
	s.notifyLocked()
	s.mu.Unlock()
	msg := map[string]any{"id": p.ID, "channel_id": cid, "content": p.Content, "author": s.botUser(),
		"timestamp": p.At.UTC().Format(time.RFC3339), "type": 0, "components": p.Components}
	if guild != "" {
		msg["guild_id"] = guild
	}
	writeJSON(w, 200, msg)
	if !s.opts.NoEcho {
		s.Dispatch("MESSAGE_CREATE", msg)
	}
}

func (s *Server) threadFromMessage(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	cid, mid := r.PathValue("cid"), r.PathValue("mid")
	s.mu.Lock()
	if _, ok := s.channels[mid]; ok { // Discord: a thread from a message has the message's ID
		s.mu.Unlock()
		apiError(w, 400, 160004, "A thread has already been created for this message")
		return
	}
	t := &channel{ID: mid, Type: 11, GuildID: s.guildOfLocked(cid), ParentID: cid, Name: body.Name, OwnerID: s.AppID}
	s.channels[mid] = t
	s.threads = append(s.threads, Thread{ID: mid, ParentID: cid, GuildID: t.GuildID, Name: body.Name, FromMessage: mid})
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, 201, t)
}

func (s *Server) threadCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	cid := r.PathValue("cid")
	s.mu.Lock()
	t := &channel{ID: s.newIDLocked(), Type: 11, GuildID: s.guildOfLocked(cid), ParentID: cid, Name: body.Name, OwnerID: s.AppID}
	s.channels[t.ID] = t
	s.threads = append(s.threads, Thread{ID: t.ID, ParentID: cid, GuildID: t.GuildID, Name: body.Name})
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, 201, t)
}

func (s *Server) threadMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.members = append(s.members, ThreadMember{ThreadID: r.PathValue("cid"), UserID: r.PathValue("uid")})
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) typingCreate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.typing = append(s.typing, r.PathValue("cid"))
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	var c Callback
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	c.InteractionID, c.Token, c.Raw = r.PathValue("iid"), r.PathValue("token"), raw
	s.mu.Lock()
	for _, old := range s.callbacks {
		if old.InteractionID == c.InteractionID {
			s.mu.Unlock()
			apiError(w, 400, 40060, "Interaction has already been acknowledged.")
			return
		}
	}
	s.callbacks = append(s.callbacks, c)
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) commandsPut(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	var cmds []map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &cmds)
	}
	if err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	set := CommandSet{AppID: r.PathValue("app"), GuildID: r.PathValue("gid"), Raw: raw}
	s.mu.Lock()
	for _, c := range cmds {
		name, _ := c["name"].(string)
		set.Names = append(set.Names, name)
		c["id"], c["application_id"], c["version"] = s.newIDLocked(), set.AppID, "1"
		if set.GuildID != "" {
			c["guild_id"] = set.GuildID
		}
	}
	s.commands = append(s.commands, set)
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, 200, cmds)
}
