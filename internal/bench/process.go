package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store/embedded"
)

type processResult struct {
	first    time.Duration   // the first start-up, which trains and caches the model
	starts   []time.Duration // each later start-up to /readyz 200, model cached
	idleRSS  int64
	loadRSS  int64
	loadMsgs int
	loadTook time.Duration
}

func (p processResult) start() time.Duration {
	s := slices.Clone(p.starts)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchProcess publishes the CLINC150 knowledge base into a fresh data
// directory, starts `supportbot run` on it once to train and cache the
// model, then starts times more, timing each start from exec until GET
// /readyz answers 200, and reads VmRSS after two seconds of idleness. Last it pipes messages into `supportbot chat` and
// samples its VmRSS while it answers them.
func benchProcess(bin string, c *clinc, texts []string, starts, msgs int) (processResult, error) {
	var res processResult
	dir, err := os.MkdirTemp("", "supportbot-bench-proc")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	st, err := embedded.Open(filepath.Join(dir, embedded.FileName), embedded.Options{Log: quiet()})
	if err != nil {
		return res, err
	}
	_, err = intents.Publish(context.Background(), st, c.base, 0, "bench", "CLINC150")
	st.Close()
	if err != nil {
		return res, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[log]\nlevel = \"warn\"\n[router]\nkb_dir = \""+filepath.Join(dir, "no-kb")+"\"\n"), 0o600); err != nil {
		return res, err
	}
	if res.first, _, err = startOnce(bin, cfg, dir, false); err != nil {
		return res, err
	}
	for i := range starts {
		d, rss, err := startOnce(bin, cfg, dir, i == starts-1)
		if err != nil {
			return res, err
		}
		res.starts = append(res.starts, d)
		if rss > 0 {
			res.idleRSS = rss
		}
	}
	// Under load: one conversation, messages piped as fast as it answers.
	cmd := exec.Command(bin, "chat", "--config", cfg, "--data-dir", dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cmd.SysProcAttr = dieWithUs()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	done := make(chan error, 1)
	go func() {
		for i := range msgs {
			if _, err := io.WriteString(in, texts[i%len(texts)]+"\n"); err != nil {
				break
			}
		}
		in.Close()
		done <- cmd.Wait()
	}()
	pid := strconv.Itoa(cmd.Process.Pid)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			res.loadTook, res.loadMsgs = time.Since(t0), msgs
			if err != nil {
				return res, fmt.Errorf("supportbot chat: %w", err)
			}
			return res, nil
		case <-tick.C:
			if n, err := vmRSS(pid); err == nil && n > res.loadRSS {
				res.loadRSS = n
			}
		}
	}
}

// startOnce runs `supportbot run` until /readyz is 200 and returns the time
// that took; with idle it also returns VmRSS after a second of idleness.
func startOnce(bin, cfg, dir string, idle bool) (time.Duration, int64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	var stderr strings.Builder
	cmd := exec.Command(bin, "run", "--config", cfg, "--data-dir", dir, "--http-addr", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	cmd.SysProcAttr = dieWithUs()
	client := &http.Client{Timeout: time.Second}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			return 0, 0, fmt.Errorf("supportbot run exited before ready: %s", stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(t0) > time.Minute {
			return 0, 0, fmt.Errorf("supportbot run not ready within a minute: %s", stderr.String())
		}
	}
	took := time.Since(t0)
	if !idle {
		return took, 0, nil
	}
	time.Sleep(2 * time.Second)
	rss, err := vmRSS(strconv.Itoa(cmd.Process.Pid))
	return took, rss, err
}
