package main

import (
	"context"
	"crypto/rand"
	"flag"
	"io"
	"os"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/cli"
)

func cmdChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("chat", "Talk to the bot as a customer in the terminal, like `rasa shell`.\n"+
		"With stdin piped, each line gets its reply block and the command exits at EOF.", stderr)
	cf := withConfig(fs)
	explain := fs.Bool("explain", false, "show the language, intent, confidence and decision under each reply")
	session := fs.String("session", "", "conversation `name` to continue (default: a new one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	if cfg.Log.Level == "info" {
		cfg.Log.Level = "warn" // keep the conversation readable
	}
	log := newLogger(cfg.Log.Level, cfg.Log.Format, stderr)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	if *session == "" {
		*session = "chat-" + rand.Text()[:8]
	}
	user := os.Getenv("USER")
	if user == "" {
		user = "you"
	}
	ch := cli.New(stdin, stdout, cli.Options{Session: *session, Explain: *explain, Prompt: isTerminal(stdin),
		Customer: bot.Customer{ID: "cli:" + user, Name: user}})
	a.engine.Add(ch)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return a.serve(ctx, func(ctx context.Context) error {
		select {
		case <-ch.Done():
			cancel()
		case <-ctx.Done():
		}
		return nil
	})
}

// stdin is the customer's keyboard or script; tests replace it.
var stdin io.Reader = os.Stdin

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
