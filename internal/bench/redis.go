package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server this program started on a free loopback
// port, with its data in a temporary directory (the logic of
// internal/redistest, which needs a testing.TB).
type redisServer struct {
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts redis-server with AOF on (appendfsync everysec, the
// usual production setting) and RDB snapshots off.
func startRedis() (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not installed (scripts/bench installs redis-server and redis-tools)")
	}
	dir, err := os.MkdirTemp("", "supportbot-bench-redis")
	if err != nil {
		return nil, err
	}
	for range 3 { // another process may take the free port first
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		s := &redisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, done: make(chan struct{})}
		// AOF as docs/operations.md advises for this load on a small host:
		// at 5,000 msg/s the AOF grows 17 MB/s, and the default 64 MB
		// minimum started a rewrite (a fork, and a child busy on a core)
		// every few seconds, twice inside a 5 s row.
		s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--appendonly", "yes", "--appendfsync", "everysec", "--auto-aof-rewrite-min-size", "1gb",
			"--save", "", "--daemonize", "no", "--logfile", "redis.log")
		s.cmd.SysProcAttr = dieWithUs()
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		go func() { s.cmd.Wait(); close(s.done) }()
		if err := s.waitPing(); err == nil {
			return s, nil
		}
		s.kill()
	}
	os.RemoveAll(dir)
	return nil, errors.New("redis-server did not start")
}

func (s *redisServer) waitPing() error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("exited")
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("no PONG")
}

func (s *redisServer) URL() string { return "redis://" + s.Addr + "/0" }

func (s *redisServer) kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// close kills the server and removes its data.
func (s *redisServer) close() {
	s.kill()
	os.RemoveAll(s.dir)
}

// flush empties the server between rows and rewrites its AOF.
func (s *redisServer) flush() error {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	defer c.Close()
	if err := c.FlushAll(ctx).Err(); err != nil {
		return err
	}
	// Rewrite the AOF now, so that the writes of one row do not set off a
	// rewrite (a fork, and a child writing the file on one of the cores)
	// in the middle of the next.
	if err := c.BgRewriteAOF(ctx).Err(); err != nil && !strings.Contains(err.Error(), "already in progress") {
		return err // one set off by the last row's writes is waited for below
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			return err
		}
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			// Write the last row's files back now, not in the next row.
			syscall.Sync()
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redis: AOF rewrite still running after a minute")
		}
	}
}

// refResult is redis-benchmark's requests per second, by test.
type refResult struct {
	cmd string
	rps map[string]float64 // PING_INLINE, PING_MBULK, SET, GET
}

var rpsRe = regexp.MustCompile(`^"?([A-Z_]+)"?[:,]\s*"?([0-9.]+)`)

// redisReference runs redis-benchmark against s.
func redisReference(s *redisServer) (refResult, error) {
	host, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"-h", host, "-p", port, "-q", "-n", "200000", "-P", "1", "-t", "ping,set,get"}
	res := refResult{cmd: "redis-benchmark " + strings.Join(args, " "), rps: map[string]float64{}}
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return res, errors.New("redis-benchmark not installed (Debian's redis-tools)")
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return res, fmt.Errorf("redis-benchmark: %w", err)
	}
	// -q prints "SET: 81234.56 requests per second, p50=0.303 msec" with \r progress lines.
	sc := bufio.NewScanner(bytes.NewReader(bytes.ReplaceAll(out, []byte("\r"), []byte("\n"))))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.Contains(line, "requests per second") {
			continue
		}
		if m := rpsRe.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			res.rps[m[1]] = v
		}
	}
	if res.rps["SET"] == 0 {
		return res, fmt.Errorf("redis-benchmark: no SET figure in %q", out)
	}
	return res, nil
}

// dieWithUs makes a child process get SIGKILL when this program exits,
// however it exits.
func dieWithUs() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

// cpuTimes returns the CPU time (user and system) used so far by this
// process (the bot and the load generator) and by redis-server (INFO cpu).
// Unlike msg/s, their growth per message hardly depends on the load the
// other processes of a shared machine put on it.
func cpuTimes(srv *redisServer) (self, server cpuTime, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return self, server, err
	}
	self = cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true})
	defer c.Close()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		return self, server, err
	}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return self, server, fmt.Errorf("INFO cpu: %s: %w", line, err)
			}
			if k == "used_cpu_sys" {
				server.sys = time.Duration(f * float64(time.Second))
			} else {
				server.user = time.Duration(f * float64(time.Second))
			}
		}
	}
	return self, server, nil
}

// cpuTime is CPU time in user and in system (kernel) mode.
type cpuTime struct{ user, sys time.Duration }

// perMessage formats the growth from c0 to c as µs per message of n.
func (c cpuTime) perMessage(c0 cpuTime, n int) string {
	us := func(d time.Duration) string { return thousands(float64(d.Microseconds()) / float64(max(1, n))) }
	return fmt.Sprintf("%s µs (%s system)", us(c.user-c0.user+c.sys-c0.sys), us(c.sys-c0.sys))
}

// syscalls returns the read and write system calls made so far by the
// process pid (/proc/PID/io; 0, 0 where that is missing).
func syscalls(pid int) (r, w int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "syscr":
			r = n
		case "syscw":
			w = n
		}
	}
	return r, w
}
