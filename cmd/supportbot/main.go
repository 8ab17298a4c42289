// Command supportbot is the support bot: one binary with subcommands.
//
//	supportbot [run]          serve: channels, web UI, /healthz (default)
//	supportbot chat           talk to the bot in the terminal
//	supportbot eval           measure the router on labelled data
//	supportbot kb             import, export or check the knowledge base files
//	supportbot discord        Discord helpers (invite-url)
//	supportbot customer       export or delete a customer's data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // business hours work in a scratch image

	"github.com/supportbot/supportbot/internal/conf"
)

// exitUsage is the exit code for bad flags and bad configuration.
const exitUsage = 2

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "serve the bot: channels, web chat, agent inbox, admin console (default)", cmdRun},
		{"chat", "talk to the bot in the terminal (scriptable: pipe lines in)", cmdChat},
		{"eval", "measure the router on labelled data, or cross-validate the live knowledge base", cmdEval},
		{"kb", "import, export or check knowledge-base files (kb import|export|check)", cmdKB},
		{"discord", "Discord helpers: invite-url", cmdDiscord},
		{"admin", "web accounts: admin create --user NAME (password from stdin or SUPPORTBOT_ADMIN_PASSWORD)", cmdAdmin},
		{"health", "check a running bot's /healthz (Docker HEALTHCHECK)", cmdHealth},
		{"customer", "export or delete everything stored about one customer (customer export|delete ID)", cmdCustomer},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args, stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, conf.ErrInvalid), errors.Is(err, errUsage):
			fmt.Fprintln(stderr, err)
			return exitUsage
		default:
			fmt.Fprintf(stderr, "supportbot %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "supportbot: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "supportbot: a support bot with human handoff.\n\nUsage: supportbot [command] [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'supportbot COMMAND --help' for the flags of a command.")
}

// flags returns a FlagSet for a subcommand that prints its usage to w.
func flags(name, summary string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: supportbot %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning flag errors into usage errors (exit code 2).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func newLogger(level, format string, w io.Writer) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
