// Package cli is the terminal channel behind `supportbot chat`: a customer
// conversation on stdin and stdout, scriptable when stdin is piped (each input
// line gets its reply block, then it exits at EOF).
package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/supportbot/supportbot/bot"
)

// Channel is a bot.Channel on a terminal.
type Channel struct {
	in       io.Reader
	out      io.Writer
	room     string
	customer bot.Customer
	explain  bool
	prompt   bool
	wait     time.Duration

	run     string // this run's own part of message IDs
	mu      sync.Mutex
	seq     int
	choices []bot.Choice
	done    chan struct{}
}

var _ bot.Channel = (*Channel)(nil)

// Options configure a Channel.
type Options struct {
	Session  string        // conversation room; one per chat session
	Customer bot.Customer  // who is typing
	Explain  bool          // print the router's decision under each answer
	Prompt   bool          // print "you> " (interactive terminals)
	Wait     time.Duration // longest wait for a reply block before reading on; default 30s
}

// New returns a terminal channel reading in and writing out.
func New(in io.Reader, out io.Writer, o Options) *Channel {
	if o.Session == "" {
		o.Session = "terminal"
	}
	if o.Customer.ID == "" {
		o.Customer = bot.Customer{ID: "cli:you", Name: "you"}
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	// A session can be continued by a later run: its message IDs (and so
	// the platform keys that dedupe inbound events) must not repeat the
	// earlier run's, or its lines would be dropped as redeliveries.
	return &Channel{in: in, out: out, room: o.Session, customer: o.Customer, explain: o.Explain,
		prompt: o.Prompt, wait: o.Wait, done: make(chan struct{}), run: strconv.FormatUint(rand.Uint64(), 36)}
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return "cli" }

// Address is where this terminal's conversation lives.
func (c *Channel) Address() bot.Address { return bot.Address{Channel: "cli", Room: c.room} }

// Done is closed when the input reaches EOF.
func (c *Channel) Done() <-chan struct{} { return c.done }

// Listen reads lines and delivers each one, waiting for its reply block
// before reading the next, so piped output stays in order. It returns nil
// at EOF or when ctx is canceled (closing the input if it is an io.Closer).
func (c *Channel) Listen(ctx context.Context, deliver func(context.Context, bot.Inbound)) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	var reader sync.WaitGroup
	reader.Go(func() {
		sc := bufio.NewScanner(c.in)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	})
	defer func() {
		if cl, ok := c.in.(io.Closer); ok {
			cl.Close()
			reader.Wait()
		}
	}()
	for {
		c.showPrompt()
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			close(c.done)
			if err != nil {
				return fmt.Errorf("cli: read: %w", err)
			}
			return nil
		case line := <-lines:
			c.handle(ctx, line, deliver)
		}
	}
}

func (c *Channel) showPrompt() {
	if c.prompt {
		c.mu.Lock()
		fmt.Fprint(c.out, "you> ")
		c.mu.Unlock()
	}
}

func (c *Channel) handle(ctx context.Context, line string, deliver func(context.Context, bot.Inbound)) {
	text := strings.TrimSpace(line)
	c.mu.Lock()
	if n, err := strconv.Atoi(text); err == nil && n >= 1 && n <= len(c.choices) {
		text = c.choices[n-1].Value
	}
	c.seq++
	id := fmt.Sprintf("%s-%s-%d", c.room, c.run, c.seq)
	c.mu.Unlock()
	if !c.prompt {
		c.mu.Lock()
		fmt.Fprintf(c.out, "you> %s\n", line)
		c.mu.Unlock()
	}
	done := make(chan struct{})
	var once sync.Once
	deliver(ctx, bot.Inbound{Key: "cli:" + id, Ack: func() { once.Do(func() { close(done) }) },
		Msg: bot.Message{ID: id, From: c.Address(), Customer: c.customer, Role: bot.RoleCustomer, Text: text}})
	t := time.NewTimer(c.wait)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
	case <-t.C:
		c.mu.Lock()
		fmt.Fprintln(c.out, "(no reply yet; still waiting in the background)")
		c.mu.Unlock()
	}
}

// Send prints r as a reply block. Terminal output cannot ping anyone; control
// characters are removed so a reply cannot drive the terminal.
func (c *Channel) Send(_ context.Context, to bot.Address, r bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	who := "bot"
	if r.Kind == bot.KindAgent && r.Author != "" {
		who = r.Author + " (agent)"
	}
	text, _ := bot.Clean(r.Text, 1<<20)
	var b strings.Builder
	indent := strings.Repeat(" ", utf8.RuneCountInString(who)+2)
	first := true
	for _, para := range strings.Split(text, "\n") {
		for _, line := range wrap(para, Width-len(indent)) {
			if first {
				fmt.Fprintf(&b, "%s> %s\n", who, line)
				first = false
			} else {
				fmt.Fprintf(&b, "%s%s\n", indent, line)
			}
		}
	}
	if len(r.Choices) > 0 {
		c.choices = r.Choices
		for i, ch := range r.Choices {
			fmt.Fprintf(&b, "   [%d] %s\n", i+1, ch.Label)
		}
	}
	if c.explain && r.Meta["explain"] != "" {
		fmt.Fprintf(&b, "   · %s\n", r.Meta["explain"])
	}
	_, err := io.WriteString(c.out, b.String())
	return err
}

// Width is the terminal width replies are word-wrapped to.
const Width = 80

// wrap breaks s at spaces into lines of at most width runes; a longer word
// (a link) gets a line of its own. An empty s is one empty line.
func wrap(s string, width int) []string {
	var lines []string
	line, n := "", 0
	for _, w := range strings.Fields(s) {
		wn := utf8.RuneCountInString(w)
		if n > 0 && n+1+wn > width {
			lines = append(lines, line)
			line, n = "", 0
		}
		if n > 0 {
			line += " "
			n++
		}
		line += w
		n += wn
	}
	return append(lines, line)
}
