package cli_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/bot/channeltest"
	"github.com/supportbot/supportbot/bot/cli"
)

// term is a fake terminal: a pipe for input, and every reply block as a post.
type term struct {
	w     *io.PipeWriter
	posts chan string
}

func (t *term) Write(p []byte) (int, error) {
	s := string(p)
	if !strings.HasPrefix(s, "you> ") {
		t.posts <- s
	}
	return len(p), nil
}

func (t *term) Inject(tt *testing.T, text string) {
	go t.w.Write([]byte(text + "\n")) // the reader may be waiting on a reply block
}
func (t *term) InjectOwn(*testing.T, string) {}
func (t *term) Redeliver(*testing.T)         {}
func (t *term) NextPost(tt *testing.T) channeltest.Post {
	tt.Helper()
	select {
	case s := <-t.posts:
		p := channeltest.Post{To: bot.Address{Channel: "cli", Room: "terminal"}, Text: s}
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "[") {
				p.Choices = append(p.Choices, line)
			}
		}
		return p
	case <-time.After(channeltest.Wait):
		tt.Fatal("no output")
	}
	return channeltest.Post{}
}

// Press types the number of the button whose label matches value.
func (t *term) Press(tt *testing.T, p channeltest.Post, value string) {
	for i, c := range p.Choices {
		if strings.Contains(strings.ToLower(c), strings.ToLower(value)) {
			t.Inject(tt, strconv.Itoa(i+1))
			return
		}
	}
	tt.Fatalf("no button %q in %v", value, p.Choices)
}

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Features{Buttons: true}, func(t *testing.T) channeltest.Harness {
		r, w := io.Pipe()
		tm := &term{w: w, posts: make(chan string, 64)}
		return channeltest.Harness{Channel: cli.New(r, tm, cli.Options{}), Platform: tm}
	})
}

// A piped script gets each reply right under its line, then Listen ends at EOF.
func TestPipedScriptIsOrdered(t *testing.T) {
	var out strings.Builder
	ch := cli.New(strings.NewReader("hi\nbye\n"), &out, cli.Options{Explain: true})
	err := ch.Listen(context.Background(), func(ctx context.Context, in bot.Inbound) {
		ch.Send(ctx, in.Msg.From, bot.Reply{Text: "echo " + in.Msg.Text, Meta: map[string]string{"explain": "lang=en"}})
		in.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "you> hi\nbot> echo hi\n   · lang=en\nyou> bye\nbot> echo bye\n   · lang=en\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	select {
	case <-ch.Done():
	default:
		t.Error("Done not closed at EOF")
	}
}
