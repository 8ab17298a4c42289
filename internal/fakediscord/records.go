package fakediscord

import (
	"encoding/json"
	"slices"
	"time"
)

// AllowedMentions is the allowed_mentions object of a post. Parse is nil
// when the field was absent, and empty (not nil) for "parse": [].
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Users       []string `json:"users"`
	Roles       []string `json:"roles"`
	RepliedUser bool     `json:"replied_user"`
}

// None reports whether the object allows no mention at all.
func (a *AllowedMentions) None() bool {
	return a != nil && a.Parse != nil && len(a.Parse) == 0 && len(a.Users) == 0 &&
		len(a.Roles) == 0 && !a.RepliedUser
}

// Reference is a message_reference.
type Reference struct {
	MessageID string `json:"message_id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
}

// Button is one button of an action row.
type Button struct {
	Type     int    `json:"type"`
	Label    string `json:"label"`
	Style    int    `json:"style"`
	CustomID string `json:"custom_id"`
	Disabled bool   `json:"disabled"`
}

// Row is an action row of components.
type Row struct {
	Type       int      `json:"type"`
	Components []Button `json:"components"`
}

// Post is one message the bot created (POST /channels/{id}/messages).
type Post struct {
	ID              string           `json:"-"`
	ChannelID       string           `json:"-"`
	Content         string           `json:"content"`
	Components      []Row            `json:"components"`
	AllowedMentions *AllowedMentions `json:"allowed_mentions"`
	Reference       *Reference       `json:"message_reference"`
	Raw             json.RawMessage  `json:"-"`
	At              time.Time        `json:"-"`
}

// CustomIDs lists the custom_id of every button, in order.
func (p Post) CustomIDs() []string {
	var ids []string
	for _, r := range p.Components {
		for _, b := range r.Components {
			ids = append(ids, b.CustomID)
		}
	}
	return ids
}

// Callback is one interaction response (POST /interactions/{id}/{token}/callback).
type Callback struct {
	InteractionID string          `json:"-"`
	Token         string          `json:"-"`
	Type          int             `json:"type"`
	Data          *CallbackData   `json:"data"`
	Raw           json.RawMessage `json:"-"`
}

// CallbackData is the data of an interaction response.
type CallbackData struct {
	Content         string           `json:"content"`
	Flags           int              `json:"flags"`
	Components      []Row            `json:"components"`
	AllowedMentions *AllowedMentions `json:"allowed_mentions"`
}

// Thread is one thread the bot started.
type Thread struct {
	ID          string
	ParentID    string
	GuildID     string
	Name        string
	FromMessage string // "" for a thread started without a message
}

// ThreadMember is one PUT /channels/{thread}/thread-members/{user}.
type ThreadMember struct{ ThreadID, UserID string }

// CommandSet is one bulk overwrite of application commands.
type CommandSet struct {
	AppID   string
	GuildID string // "" for global commands
	Names   []string
	Raw     json.RawMessage
}

// Identify is one IDENTIFY the gateway received.
type Identify struct {
	SessionID string
	Shard     [2]int
	Intents   int
}

// Posts returns every post so far, in order.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// PostsTo returns the posts to one channel.
func (s *Server) PostsTo(channelID string) []Post {
	var out []Post
	for _, p := range s.Posts() {
		if p.ChannelID == channelID {
			out = append(out, p)
		}
	}
	return out
}

// Callbacks returns every interaction response so far.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.callbacks)
}

// Typing returns the channel IDs of every typing call, in order.
func (s *Server) Typing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.typing)
}

// Threads returns the threads the bot started.
func (s *Server) Threads() []Thread {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.threads)
}

// ThreadMembers returns the thread-member additions.
func (s *Server) ThreadMembers() []ThreadMember {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.members)
}

// Commands returns the application command overwrites.
func (s *Server) Commands() []CommandSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// Identifies returns every IDENTIFY received.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.identifies)
}

// Resumes counts successful RESUMEs.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Heartbeats counts heartbeats received.
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}

// RateLimited counts 429 responses sent.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// Requests lists "METHOD /path" of every REST request, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Connected counts gateway connections that finished IDENTIFY or RESUME
// and are still open.
func (s *Server) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.sess != nil {
			n++
		}
	}
	return n
}

// WaitPost waits for the first post (including earlier ones) matching match.
func (s *Server) WaitPost(timeout time.Duration, match func(Post) bool) (Post, error) {
	var got Post
	err := s.Wait(timeout, func() bool {
		for _, p := range s.Posts() {
			if match(p) {
				got = p
				return true
			}
		}
		return false
	})
	return got, err
}

// WaitCallback waits for the response to interaction id.
func (s *Server) WaitCallback(timeout time.Duration, id string) (Callback, error) {
	var got Callback
	err := s.Wait(timeout, func() bool {
		for _, c := range s.Callbacks() {
			if c.InteractionID == id {
				got = c
				return true
			}
		}
		return false
	})
	return got, err
}
