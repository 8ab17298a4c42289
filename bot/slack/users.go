package slack

import (
	"context"
	"strings"
	"sync"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

// nameCache keeps users.info display names.
type nameCache struct {
	mu sync.Mutex
	m  map[string]string
}

func newNameCache() *nameCache { return &nameCache{m: map[string]string{}} }

// userName returns the display name of a Slack user, "" if unknown.
func (c *Channel) userName(ctx context.Context, id string) string {
	c.names.mu.Lock()
	n, ok := c.names.m[id]
	c.names.mu.Unlock()
	if ok {
		return n
	}
	var name string
	err := c.retry(ctx, func() error {
		u, err := c.api.GetUserInfoContext(ctx, id)
		if err == nil {
			name = firstNonEmpty(u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name)
		}
		return err
	})
	if err != nil {
		c.log.Debug("users.info", "user", id, "err", err)
		return ""
	}
	c.names.mu.Lock()
	defer c.names.mu.Unlock()
	if len(c.names.m) >= 10000 {
		clear(c.names.m)
	}
	c.names.m[id] = name
	return name
}

// nameFunc adapts userName for Plain.
func (c *Channel) nameFunc(ctx context.Context) func(string) string {
	return func(id string) string { return c.userName(ctx, id) }
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return strings.TrimSpace(x)
		}
	}
	return ""
}

// agent returns the desk's record of Slack user id (ID "slack:<id>"), or a
// new one named from users.info.
func (c *Channel) agent(ctx context.Context, d Desk, id string) handoff.Agent {
	aid := Name + ":" + id
	if agents, err := d.Agents(ctx); err == nil {
		for _, a := range agents {
			if a.ID == aid {
				if a.Name == "" {
					a.Name = c.userName(ctx, id)
				}
				return a
			}
		}
	}
	name := c.userName(ctx, id)
	if name == "" {
		name = id
	}
	return handoff.Agent{ID: aid, Name: name}
}

// customer identifies a Slack user as a customer.
func (c *Channel) customerOf(ctx context.Context, id string) bot.Customer {
	return bot.Customer{ID: Name + ":" + id, Name: c.userName(ctx, id)}
}
