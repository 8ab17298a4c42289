package main

import (
	"context"
	"io"
	"net/http"
	"os"
)

// onReady, if set, learns the HTTP address once the bot serves (tests).
var onReady func(addr string)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("run", "Serve the bot: web chat, agent inbox, admin console and /healthz on --http-addr;\n"+
		"Slack and Discord too when SLACK_APP_TOKEN/SLACK_BOT_TOKEN or DISCORD_TOKEN are set.", stderr)
	cf := withConfig(fs)
	addr := fs.String("http-addr", "", "`HOST:PORT` to serve HTTP on (env SUPPORTBOT_HTTP_ADDR; default 127.0.0.1:8080)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.HTTP.Addr = *addr
	}
	log := newLogger(cfg.Log.Level, cfg.Log.Format, stderr)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := a.connect(); err != nil {
		a.st.Close()
		return err
	}
	mux := http.NewServeMux()
	a.health(mux)
	if a.slack != nil {
		mux.Handle("/slack/", a.slack.Handler())
	}
	ui, err := a.webUI(ctx) // admin.go: chat widget, agent inbox, admin console
	if err != nil {
		a.st.Close()
		return err
	}
	mux.Handle("/", ui.Handler())
	listening := func(addr string) {
		log.Info("supportbot is up", "url", "http://"+addr+"/", "store", cfg.Store.Kind, "pid", os.Getpid())
		if onReady != nil {
			onReady(addr)
		}
	}
	return a.serve(ctx, httpServer(cfg.HTTP.Addr, a.guard(mux), log, listening), a.watchSettings, ui.Run)
}
