package intents

import (
	"slices"
	"time"
)

// Notice is a known incident an admin publishes ("card payments are down").
// While it is active, answers to questions on its topics mention it.
type Notice struct {
	ID      string            `json:"id"`
	Texts   map[string]string `json:"texts"`   // per language
	Intents []string          `json:"intents"` // intent names or "faq:ID"; empty means every answer
	Start   time.Time         `json:"start"`
	End     time.Time         `json:"end"` // zero: until removed
}

// Active reports whether n applies at now.
func (n Notice) Active(now time.Time) bool {
	return !now.Before(n.Start) && (n.End.IsZero() || now.Before(n.End))
}

// Text returns the notice in lang, or English, or any language.
func (n Notice) Text(lang string) string {
	if s, ok := n.Texts[lang]; ok {
		return s
	}
	if s, ok := n.Texts["en"]; ok {
		return s
	}
	for _, s := range n.Texts {
		return s
	}
	return ""
}

// SetNotices replaces the published notices.
func (r *Router) SetNotices(ns []Notice) { r.notices.Store(&ns) }

func (r *Router) activeNotices(now time.Time, intent string) []Notice {
	p := r.notices.Load()
	if p == nil {
		return nil
	}
	var out []Notice
	for _, n := range *p {
		if n.Active(now) && (len(n.Intents) == 0 || slices.Contains(n.Intents, intent)) {
			out = append(out, n)
		}
	}
	return out
}
