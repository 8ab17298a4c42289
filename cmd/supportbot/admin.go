package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/web"
)

// cmdAdmin manages web accounts: `supportbot admin create --user NAME`.
func cmdAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: supportbot admin create --user NAME [--name NAME] [--role admin|agent] [--reset]\n\n"+
			"Creates an account for the agent inbox and the admin console. The password is read from\n"+
			"SUPPORTBOT_ADMIN_PASSWORD or, if unset, from the first line of standard input.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return nil
		}
		return errUsage
	}
	fs := flags("admin create", "Create a web account (admin by default), or with --reset set the password of one.\n"+
		"The password comes from SUPPORTBOT_ADMIN_PASSWORD or the first line of standard input.", stderr)
	cf := withConfig(fs)
	user := fs.String("user", "", "user `name` to log in with (required)")
	name := fs.String("name", "", "display `name` customers see when the agent joins (default: the user name)")
	role := fs.String("role", web.RoleAdmin, "`role`: admin or agent")
	reset := fs.Bool("reset", false, "set the password (and role and name, if given) of an existing account")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *user == "" {
		return fmt.Errorf("%w: --user is required", errUsage)
	}
	pw := os.Getenv("SUPPORTBOT_ADMIN_PASSWORD")
	if pw == "" {
		fmt.Fprint(stderr, "Password: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	log := newLogger("warn", cfg.Log.Format, stderr)
	st, err := store.Open(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if *reset && !isSet(fs, "role") {
		*role = "" // keep the account's role
	}
	if err := web.SaveAccount(ctx, st, *user, *name, *role, pw, "cli", *reset); err != nil {
		if errors.Is(err, web.ErrExists) {
			return fmt.Errorf("%w (use --reset to set its password)", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "Account %q saved. Log in at http://%s/login\n", strings.ToLower(*user), cfg.HTTP.Addr)
	return nil
}

// webUI adds the web chat channel to the engine and returns the web UI
// (widget, agent inbox, admin console), whose inbox joins the desk as the
// "web" workspace. On a first start it creates the first admin account.
// With Redis, replies and inbox events reach the widgets and inbox pages
// connected to every replica (Redis pub/sub; the server's Run relays).
func (a *app) webUI(ctx context.Context) (*web.Server, error) {
	allow, err := web.ParseOrigins(a.cfg.HTTP.WidgetOrigins) // validated with the config
	if err != nil {
		return nil, err
	}
	bus, _ := a.st.(web.Bus)
	ch := web.NewChannel(web.ChannelOptions{Transcripts: a.st, AllowOrigin: allow, Bus: bus, Log: a.log})
	a.engine.Add(a.limit(ch))
	srv, err := web.New(ctx, web.Options{Store: a.st, Channel: ch, Desk: a.desk, Router: a.router, Bus: bus, Log: a.log,
		Apply: func(s web.Settings) error {
			hc, err := s.Apply(a.cfg.handoff())
			if err != nil {
				return err
			}
			return a.desk.SetConfig(hc)
		}})
	if err != nil {
		return nil, err
	}
	if err := firstAdmin(ctx, a.st, a.cfg.HTTP.Addr, a.log); err != nil {
		return nil, fmt.Errorf("first admin account: %w", err)
	}
	return srv, nil
}

// firstAdmin creates an admin account when there is none: from
// SUPPORTBOT_ADMIN_USER and SUPPORTBOT_ADMIN_PASSWORD, or "admin" with a
// random password that it logs, so a newcomer can log in.
func firstAdmin(ctx context.Context, st bot.DocStore, addr string, log *slog.Logger) error {
	accts, _, err := web.LoadAccounts(ctx, st)
	if err != nil || len(accts) > 0 {
		return err
	}
	user, pw := os.Getenv("SUPPORTBOT_ADMIN_USER"), os.Getenv("SUPPORTBOT_ADMIN_PASSWORD")
	if user == "" {
		user = "admin"
	}
	generated := pw == ""
	if generated {
		pw = web.RandomPassword()
	}
	err = web.SaveAccount(ctx, st, user, "Admin", web.RoleAdmin, pw, "system", false)
	switch {
	case errors.Is(err, web.ErrExists):
		return nil // another replica made it first
	case err != nil:
		return err
	case generated:
		log.Warn("created the first admin account: log in with this user and password, then add accounts in the console",
			"login", "http://"+addr+"/login", "user", user, "password", pw)
	default:
		log.Info("created the first admin account from SUPPORTBOT_ADMIN_USER/SUPPORTBOT_ADMIN_PASSWORD",
			"login", "http://"+addr+"/login", "user", user)
	}
	return nil
}

// deskConfig is [handoff] of config.toml with the settings saved in the
// admin console (the "settings" document) laid over it; the desk reads
// them when it starts.
func deskConfig(ctx context.Context, cfg Config, st bot.DocStore, log *slog.Logger) (handoff.Config, int64) {
	hc := cfg.handoff()
	set, v, ok, err := web.LoadSettings(ctx, st)
	switch {
	case err != nil && v == 0:
		log.Warn("console settings unreadable; using config.toml", "err", err)
		return hc, -1 // read again on the next check
	case err != nil:
		log.Warn("console settings invalid; using config.toml", "version", v, "err", err)
		return hc, v
	case !ok:
		return hc, v
	}
	applied, err := set.Apply(hc)
	if err != nil {
		log.Warn("console settings invalid; using config.toml", "version", v, "err", err)
		return hc, v
	}
	log.Info("handoff settings from the admin console", "version", v)
	return applied, v
}

// watchSettings applies console settings saved on any replica to this
// replica's desk within about one router.sync_every, with no restart.
func (a *app) watchSettings(ctx context.Context) error {
	seen := a.settingsV // the version the desk was built with: an edit since is not missed
	t := time.NewTicker(a.cfg.Router.SyncEvery.Duration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		v, err := a.st.DocVersion(ctx, web.SettingsDoc)
		if err != nil || v == seen {
			continue
		}
		hc, read := deskConfig(ctx, a.cfg, a.st, a.log)
		seen = read
		if err := a.desk.SetConfig(hc); err != nil {
			a.log.Warn("apply console settings", "version", read, "err", err)
		}
	}
}
