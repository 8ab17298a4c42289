package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/supportbot/supportbot/store"
)

// cmdCustomer exports or deletes everything the store keeps about one
// customer (data-protection requests).
func cmdCustomer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("customer", "Find a customer's data in every key and index of the store.\n\n"+
		"  supportbot customer export ID   print it as JSON: conversations, transcripts, claims,\n"+
		"                                  queue entries, timers and analytics events\n"+
		"  supportbot customer delete ID   delete all of it (asks for --yes)\n\n"+
		"ID is the customer ID the bot shows on handoff cards and in exports, e.g.\n"+
		"slack:U0123ABC, discord:80351110224678912 or web:<session>. With the embedded store,\n"+
		"stop the bot first (the data file is locked while it runs).", stderr)
	cf := withConfig(fs)
	yes := fs.Bool("yes", false, "really delete (delete only)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "export" && fs.Arg(0) != "delete") || fs.Arg(1) == "" {
		fs.Usage()
		return fmt.Errorf("%w: customer needs export or delete, and a customer ID", errUsage)
	}
	verb, id := fs.Arg(0), fs.Arg(1)
	if verb == "delete" && !*yes {
		return fmt.Errorf("%w: customer delete removes %s's data for good: add --yes", errUsage, id)
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Store, newLogger("warn", "text", stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.ExportCustomer(ctx, id)
	if err != nil {
		return err
	}
	if verb == "export" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	msgs := 0
	for _, c := range d.Conversations {
		msgs += len(c.Transcript)
	}
	if err := st.DeleteCustomer(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted %s: %d conversations, %d messages, %d timers, %d events\n",
		id, len(d.Conversations), msgs, len(d.Timers), len(d.Events))
	return nil
}
