package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/internal/fakeopenai"
	"github.com/supportbot/supportbot/llm"
)

func llmSection(f *fakeopenai.Server, enabled bool, extra string) string {
	on := "false"
	if enabled {
		on = "true"
	}
	return "[llm]\nenabled = " + on + "\nbase_url = \"" + f.BaseURL() + "\"\nmodel = \"test-chat\"\n" + extra
}

// TestLLMOffMakesNoCalls: with [llm] off (the default), the full router
// and desk path — answers, an unsure question, a handoff — never calls
// the model, even with a key and a reachable server configured.
func TestLLMOffMakesNoCalls(t *testing.T) {
	f := fakeopenai.New(t)
	t.Setenv("OPENAI_API_KEY", "sk-test")
	stdin = strings.NewReader("hi\nis there a warranty on electronics\nwhat is the meaning of life\nhuman\nhello? anyone\n")
	t.Cleanup(func() { stdin = os.Stdin })
	cfg := testConfig(t, llmSection(f, false, "embedding_model = \"test-embed\"\n"))
	code, out, errOut := runCmd(t, context.Background(), "chat", "--config", cfg, "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if len(strings.Split(out, "you> ")) < 5 {
		t.Fatalf("the offline bot did not answer every line:\n%s", out)
	}
	if n := f.Count(); n != 0 {
		t.Fatalf("llm off, yet %d requests reached the model", n)
	}
}

// TestLLMOnAnswersWhenTheRouterIsUnsure: the same wiring with [llm] on.
func TestLLMOnAnswersWhenTheRouterIsUnsure(t *testing.T) {
	f := fakeopenai.New(t)
	f.OnChat(func(r fakeopenai.Request) fakeopenai.Response {
		if strings.Contains(r.Text(), `id="faq:product.warranty"`) {
			return fakeopenai.Response{Content: "Yes, products come with a warranty [faq:product.warranty]."}
		}
		return fakeopenai.Response{Content: "NO_ANSWER"}
	})
	t.Setenv("OPENAI_API_KEY", "sk-test")
	stdin = strings.NewReader("is there a warranty on electronics\n")
	t.Cleanup(func() { stdin = os.Stdin })
	cfg := testConfig(t, llmSection(f, true, ""))
	code, out, errOut := runCmd(t, context.Background(), "chat", "--config", cfg, "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Yes, products come with a warranty.") || f.Count() != 1 {
		t.Fatalf("%d requests, output:\n%s", f.Count(), out)
	}
	if got := f.Requests()[0].Header.Get("Authorization"); got != "Bearer sk-test" {
		t.Fatalf("key from the environment not used: %q", got)
	}
}

// TestConfigTOMLShowsTheLLMDefaults: config.toml documents every [llm]
// key with its default.
func TestConfigTOMLShowsTheLLMDefaults(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	c, err := loadConfig("../../config.toml", true)
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Default()
	if !reflect.DeepEqual(c.LLM, want) {
		t.Fatalf("config.toml [llm]\n%+v\ndefaults\n%+v", c.LLM, want)
	}
}

func TestBadLLMConfigNamesTheKey(t *testing.T) {
	tests := []struct{ body, want string }{
		{"[llm]\nenabled = true\napi = \"bard\"\n", "llm.api: must be openai or azure"},
		{"[llm]\nenabled = true\nbase_url = \"localhost:11434\"\n", "llm.base_url"},
		{"[llm]\nenabled = true\ntimeout = \"8s\"\n", "llm.timeout: must be at most half of bot.handler_timeout"},
		{"[llm]\nenabled = true\nmax_sources = 0\n", "llm.max_sources"},
		{"[llm]\napi_key = \"sk-in-the-file\"\n", "llm.api_key: unknown key"},
	}
	for _, tc := range tests {
		code, _, errOut := runCmd(t, context.Background(), "run", "--config", testConfig(t, tc.body), "--data-dir", t.TempDir())
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: code %d, stderr %q; want exit 2 and %q", tc.body, code, errOut, tc.want)
		}
	}
}

// TestEvalWithEmbeddingsReportsBoth: `eval --faq --data --llm` scores
// the offline ranking and the blend with embeddings.
func TestEvalWithEmbeddingsReportsBoth(t *testing.T) {
	f := fakeopenai.New(t)
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.jsonl")
	questions := filepath.Join(dir, "questions.jsonl")
	os.WriteFile(answers, []byte(`{"id":"a1","text":"Parcels arrive within three business days."}
{"id":"a2","text":"You can return an item within 60 days."}
{"id":"a3","text":"We accept cards, invoices and gift cards."}
`), 0o600)
	os.WriteFile(questions, []byte(`{"text":"when will my parcel arrive","intent":"a1"}
{"text":"can I send it back","intent":"a2"}
{"text":"how can I pay","intent":"a3"}
`), 0o600)
	cfg := testConfig(t, llmSection(f, false, "embedding_model = \"test-embed\"\n"))
	code, out, errOut := runCmd(t, context.Background(), "eval", "--config", cfg, "--faq", answers, "--data", questions, "--llm", "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var rep struct {
		Offline, LLM struct{ N int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Offline.N != 3 || rep.LLM.N != 3 {
		t.Fatalf("report %s (%v)", out, err)
	}
	if len(f.EmbeddedInputs()) != 6 {
		t.Fatalf("embedded %d texts", len(f.EmbeddedInputs()))
	}
}
