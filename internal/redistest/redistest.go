// Package redistest starts real redis-server processes (Debian's
// /usr/bin/redis-server) for tests: one node on a free loopback port with its
// data in t.TempDir() and AOF on (appendfsync always), or a 3-master Cluster.
// Servers are killed in t.Cleanup. It never imitates Redis and never touches a
// Redis it did not start.
//
// Without redis-server the test is skipped, or fails when the environment
// variable CI is set.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartTimeout bounds the wait for a server to answer PING.
const StartTimeout = 15 * time.Second

// Server is one redis-server process.
type Server struct {
	Addr string // 127.0.0.1:port
	dir  string
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// binary returns the path of name, or skips (fails under CI) t.
func binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not installed; ./scripts/test installs it (apt-get install -y redis-server)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start starts a server on a free loopback port with AOF on and RDB off,
// waits until it answers PING and kills it when t ends. Extra redis-server
// arguments (e.g. "--maxmemory", "10mb") may follow.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := binary(t, "redis-server")
	dir := t.TempDir()
	var err error
	for range 3 { // another process may take the free port before redis binds it
		s := &Server{dir: dir}
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
			"--daemonize", "no", "--logfile", "redis.log"}, extra...)
		if err = s.start(bin); err == nil {
			t.Cleanup(s.kill)
			return s
		}
	}
	t.Fatalf("redistest: %v", err)
	return nil
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Dir is the server's data directory (it holds appendonlydir and redis.log).
func (s *Server) Dir() string { return s.dir }

// Restart kills the server with SIGKILL, like a crash, and starts it again on
// the same port and data directory; it returns when the server answers PING,
// so everything acknowledged before the kill was read back from the AOF.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.kill()
	if err := s.start(binary(t, "redis-server")); err != nil {
		t.Fatalf("redistest: restart: %v", err)
	}
}

// Stop kills the server (SIGKILL) and waits for it; Restart starts it again.
func (s *Server) Stop() { s.kill() }

// Do sends one command and returns its reply as text (integers in decimal,
// nil as ""). It is for setup and checks, not for the code under test.
func (s *Server) Do(args ...string) (string, error) { return do(s.Addr, args...) }

func (s *Server) start(bin string) error {
	cmd := exec.Command(bin, s.args...)
	cmd.Dir = s.dir
	dieWithTest(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // owned: waited for by kill
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(StartTimeout)
	for {
		reply, err := do(s.Addr, "PING")
		if err == nil && reply == "PONG" {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server %s exited: %s%s", s.Addr, out.String(), s.logTail())
		case <-time.After(10 * time.Millisecond): // bounded polling until the server is up
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server %s did not answer PING in %v (last: %q, %v)%s",
				s.Addr, StartTimeout, reply, err, s.logTail())
		}
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n" + string(b)
}

// kill ends the process with SIGKILL and waits for it.
func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// do is a minimal RESP client: one command, one reply.
func do(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return line, nil // arrays are not needed here
	}
}

// Cluster is a Redis Cluster of three masters (no replicas).
type Cluster struct {
	Nodes []*Server
}

// Addrs are the nodes' addresses, for a cluster client.
func (c *Cluster) Addrs() []string {
	a := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		a[i] = n.Addr
	}
	return a
}

// StartCluster starts three cluster-enabled servers, joins them with
// redis-cli --cluster create and waits until every node reports
// cluster_state:ok. It takes a few seconds.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli := binary(t, "redis-cli")
	c := &Cluster{}
	for range 3 {
		c.Nodes = append(c.Nodes, Start(t, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for {
			info, err := n.Do("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster node %s not ok: %v\n%s", n.Addr, err, info)
			}
			select { // bounded polling until the cluster is up
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return c
}
