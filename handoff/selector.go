package handoff

import (
	"slices"
	"strings"
)

// LeastLoaded is the default Selector: among agents that are On, under
// their Capacity (0 means 1), have the entry's skill (if any) and speak its
// language (if any; agents with no languages listed take every language),
// it picks the one holding the fewest conversations, then the one with the
// most free capacity, then the smallest ID.
type LeastLoaded struct{}

// Select implements Selector.
func (LeastLoaded) Select(agents []Agent, e Entry) *Agent {
	var best *Agent
	for i := range agents {
		a := &agents[i]
		if !Fits(*a, e) {
			continue
		}
		if best == nil || lessLoaded(a, best) {
			best = a
		}
	}
	return best
}

func lessLoaded(a, b *Agent) bool {
	if a.Active != b.Active {
		return a.Active < b.Active
	}
	if fa, fb := a.Free(), b.Free(); fa != fb {
		return fa > fb
	}
	return a.ID < b.ID
}

// Fits reports whether a may take e now: On, under capacity, with the skill
// and the language.
func Fits(a Agent, e Entry) bool {
	if a.Status != On || a.Free() <= 0 {
		return false
	}
	if e.Skill != "" && !slices.ContainsFunc(a.Skills, func(s string) bool { return strings.EqualFold(s, e.Skill) }) {
		return false
	}
	if e.Lang != "" && len(a.Langs) > 0 && !slices.ContainsFunc(a.Langs, func(l string) bool { return sameLang(l, e.Lang) }) {
		return false
	}
	return true
}

// Free is how many more conversations a can take (Capacity 0 means 1).
func (a Agent) Free() int {
	return max(a.Capacity, 1) - a.Active
}

// sameLang compares primary language subtags ("en-GB" is "en"); Serbian,
// Croatian and Bosnian count as one language, as do the Norwegian variants.
func sameLang(a, b string) bool {
	norm := func(l string) string {
		l = strings.ToLower(l)
		if i := strings.IndexAny(l, "-_"); i >= 0 {
			l = l[:i]
		}
		switch l {
		case "sr", "hr", "bs", "sh", "cnr":
			return "sr"
		case "no", "nb", "nn":
			return "nb"
		}
		return l
	}
	return norm(a) == norm(b)
}
