package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/supportbot/supportbot/bot/discord"
)

func cmdDiscord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("discord", "Discord helpers.\n\n  supportbot discord invite-url   print the OAuth2 link that adds the bot to a server,\n"+
		"                                 with exactly the permissions it needs (no token needed)", stderr)
	cfgPath := fs.String("config", "./config.toml", "configuration `file`")
	appID := fs.String("app-id", "", "Discord application `ID` (default: discord.app_id, or env DISCORD_APP_ID)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "invite-url" {
		fs.Usage()
		return fmt.Errorf("%w: discord needs invite-url", errUsage)
	}
	if *appID == "" {
		cfg, err := loadConfig(*cfgPath, isSet(fs, "config"))
		if err != nil {
			return err
		}
		*appID = cfg.Discord.AppID
	}
	if *appID == "" {
		*appID = os.Getenv("DISCORD_APP_ID")
	}
	if *appID == "" {
		return fmt.Errorf("%w: no application ID: set discord.app_id in the config, DISCORD_APP_ID, or --app-id", errUsage)
	}
	fmt.Fprintln(stdout, discord.InviteURL(*appID))
	return nil
}
