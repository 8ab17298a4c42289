package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/intents/kb"
	"github.com/supportbot/supportbot/store"
)

func cmdKB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("kb", "Keep the knowledge base in git as readable YAML files.\n\n"+
		"  supportbot kb check  [DIR]   validate the files (file:line errors), change nothing\n"+
		"  supportbot kb import [DIR]   validate, then publish the files as the next live version\n"+
		"  supportbot kb export [DIR]   write the live knowledge base as files\n\n"+
		"DIR defaults to router.kb_dir. A bad file changes nothing.", stderr)
	cf := withConfig(fs)
	author := fs.String("author", os.Getenv("USER"), "`name` recorded in the version history")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return fmt.Errorf("%w: kb needs check, import or export", errUsage)
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	dir := cfg.Router.KBDir
	if fs.NArg() == 2 {
		dir = fs.Arg(1)
	}
	verb := fs.Arg(0)
	if verb == "check" {
		base, err := kb.LoadDir(os.DirFS(dir))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok: %d intents, %d FAQ entries, languages %v\n", dir, len(base.Intents), len(base.FAQs), base.AllLanguages())
		for _, w := range base.Lint() {
			fmt.Fprintln(stdout, "warning:", w)
		}
		return nil
	}
	if verb != "import" && verb != "export" {
		return fmt.Errorf("%w: unknown kb command %q (want check, import or export)", errUsage, verb)
	}
	st, err := store.Open(ctx, cfg.Store, newLogger("warn", "text", stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if verb == "import" {
		base, err := kb.LoadDir(os.DirFS(dir))
		if err != nil {
			return err
		}
		v, err := st.DocVersion(ctx, intents.KBDoc)
		if err != nil {
			return err
		}
		d, err := intents.Publish(ctx, st, base, v, *author, "imported from "+dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published knowledge base version %d: %d intents, %d FAQ entries\n", d.Version, len(base.Intents), len(base.FAQs))
		return nil
	}
	d, err := st.Doc(ctx, intents.KBDoc)
	if errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("the store has no knowledge base yet; run `supportbot kb import %s` or start the bot once", dir)
	}
	if err != nil {
		return err
	}
	base, err := kb.ParseJSON(d.Data)
	if err != nil {
		return err
	}
	if err := kb.WriteDir(dir, base); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported knowledge base version %d to %s\n", d.Version, dir)
	return nil
}
