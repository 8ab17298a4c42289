package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// cmdHealth is the container HEALTHCHECK: it asks the running bot's /healthz.
func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("health", "Exit 0 if the bot on --http-addr answers /healthz with 200 (for Docker HEALTHCHECK).", stderr)
	addr := fs.String("http-addr", "", "`HOST:PORT` of the bot (env SUPPORTBOT_HTTP_ADDR; default 127.0.0.1:8080)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *addr == "" {
		*addr = os.Getenv("SUPPORTBOT_HTTP_ADDR")
	}
	if *addr == "" {
		*addr = "127.0.0.1:8080"
	}
	*addr = strings.Replace(*addr, "0.0.0.0:", "127.0.0.1:", 1)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+*addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprint(stdout, string(body))
	return nil
}
