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

// A long answer is word-wrapped to the terminal's 80 columns under its
// speaker, a link stays whole on a line of its own, and line breaks in the
// text are kept.
func TestLongRepliesWrapAtWordsWithin80Columns(t *testing.T) {
	var out strings.Builder
	ch := cli.New(strings.NewReader(""), &out, cli.Options{})
	long := strings.Repeat("Пријавите повраћај под Моје поруџбине, ", 6) +
		"https://nordlys-shop.example/sr/povracaj/" + strings.Repeat("x", 60) + " kraj.\nDruga linija."
	if err := ch.Send(context.Background(), bot.Address{Channel: "cli"}, bot.Reply{Text: long}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var words []string
	for i, l := range lines {
		if i == 0 && !strings.HasPrefix(l, "bot> ") || i > 0 && !strings.HasPrefix(l, "     ") {
			t.Errorf("line %d %q: not under the speaker", i, l)
		}
		if n := len([]rune(l)); n > cli.Width && !strings.Contains(l, "https://") {
			t.Errorf("line %d is %d columns: %q", i, n, l)
		}
		words = append(words, strings.Fields(strings.TrimPrefix(l, "bot> "))...)
	}
	if got, want := strings.Join(words, " "), strings.Join(strings.Fields(long), " "); got != want {
		t.Errorf("words changed by wrapping:\n%s\nwant\n%s", got, want)
	}
	if last := lines[len(lines)-1]; last != "     Druga linija." {
		t.Errorf("the text's own line break was lost: last line %q", last)
	}
	if len(lines) < 5 {
		t.Errorf("%d lines, want the long text wrapped: %q", len(lines), out.String())
	}
}
