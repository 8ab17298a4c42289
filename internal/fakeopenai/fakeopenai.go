// Package fakeopenai is a local OpenAI-compatible server for tests: the
// real go-openai client talks to it over HTTP on 127.0.0.1. Chat
// completions are scripted per test (a queue of canned responses, or a
// function of the request), embeddings are deterministic hashed
// character-trigram vectors (so cosine similarity behaves like fuzzy
// lexical overlap), and every request is recorded and counted.
//
// Slow responses block until the request's context ends or Release is
// called: tests never sleep.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	openai "github.com/sashabaranov/go-openai"
)

// Response is one scripted answer to a chat completion (or embeddings)
// request.
type Response struct {
	Content    string // assistant message content
	Status     int    // HTTP status; 0 is 200. Non-2xx sends an OpenAI error body.
	RetryAfter string // Retry-After header (with 429)
	Block      bool   // wait until the request context ends or Release is called, then answer
	Stream     bool   // answer a stream request as server-sent events (Content split into words)
	Prompt     int    // usage.prompt_tokens; 0 estimates len/4
	Completion int    // usage.completion_tokens; 0 estimates len/4
	NoUsage    bool   // omit usage
}

// Request is one recorded request.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
	Chat   *openai.ChatCompletionRequest   // for /chat/completions
	Embed  *openai.EmbeddingRequestStrings // for /embeddings
}

// Text is every message content of a chat request, joined.
func (r Request) Text() string {
	if r.Chat == nil {
		return ""
	}
	var b strings.Builder
	for _, m := range r.Chat.Messages {
		b.WriteString(m.Role + ": " + m.Content + "\n")
	}
	return b.String()
}

// Server is the fake. Zero-config it answers every chat with "OK" and every
// embeddings request with hashed trigram vectors.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	script   []Response
	chatFn   func(Request) Response
	embedFn  func([]string) ([][]float32, *Response)
	requests []Request
	release  chan struct{}
	released bool
	busy     atomic.Int64 // nanoseconds spent answering (the "model's own time")
}

// ServerTime is the total time the server spent answering requests: the
// model's own time, to subtract when measuring the client's overhead.
func (s *Server) ServerTime() time.Duration { return time.Duration(s.busy.Load()) }

// New starts a server on 127.0.0.1 and closes it when t ends.
func New(t testing.TB) *Server {
	s := &Server{release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.Release()
		s.Server.Close()
	})
	return s
}

// BaseURL is the go-openai BaseURL: the server URL with /v1.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Script queues chat responses, used in order before OnChat's function.
func (s *Server) Script(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// OnChat answers chat requests the script does not cover.
func (s *Server) OnChat(fn func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatFn = fn
}

// OnEmbed replaces the embedding function; a non-nil *Response with a
// status answers with that error (or blocks) instead.
func (s *Server) OnEmbed(fn func(inputs []string) ([][]float32, *Response)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embedFn = fn
}

// Release unblocks every blocked request, now and later.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.released {
		s.released = true
		close(s.release)
	}
}

// Requests returns the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is the number of requests received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Chats returns the recorded chat requests.
func (s *Server) Chats() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Chat != nil {
			out = append(out, r)
		}
	}
	return out
}

// EmbeddedInputs returns every string sent for embedding, in order.
func (s *Server) EmbeddedInputs() []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Embed != nil {
			out = append(out, r.Embed.Input...)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { s.busy.Add(int64(time.Since(start))) }()
	body, _ := io.ReadAll(r.Body)
	req := Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		var cr openai.ChatCompletionRequest
		if err := json.Unmarshal(body, &cr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Chat = &cr
		s.record(req)
		s.chat(w, r, req)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/embeddings"):
		var er openai.EmbeddingRequestStrings
		if err := json.Unmarshal(body, &er); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Embed = &er
		s.record(req)
		s.embed(w, r, req)
	default:
		s.record(req)
		writeError(w, Response{Status: http.StatusNotFound, Content: "no such endpoint"})
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

func (s *Server) next(req Request) Response {
	s.mu.Lock()
	if len(s.script) > 0 {
		r := s.script[0]
		s.script = s.script[1:]
		s.mu.Unlock()
		return r
	}
	fn := s.chatFn
	s.mu.Unlock()
	if fn != nil {
		return fn(req)
	}
	return Response{Content: "OK"}
}

// wait blocks until the client gives up or Release; it reports whether to answer.
func (s *Server) wait(r *http.Request) bool {
	select {
	case <-r.Context().Done():
		return false
	case <-s.release:
		return true
	}
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, req Request) {
	resp := s.next(req)
	if resp.Block && !s.wait(r) {
		return
	}
	if resp.Status != 0 && resp.Status/100 != 2 {
		writeError(w, resp)
		return
	}
	usage := openai.Usage{PromptTokens: resp.Prompt, CompletionTokens: resp.Completion}
	if usage.PromptTokens == 0 {
		usage.PromptTokens = len(req.Text())/4 + 1
	}
	if usage.CompletionTokens == 0 {
		usage.CompletionTokens = len(resp.Content)/4 + 1
	}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	if req.Chat.Stream {
		s.stream(w, req, resp, usage)
		return
	}
	out := openai.ChatCompletionResponse{ID: "chatcmpl-fake", Object: "chat.completion", Model: req.Chat.Model,
		Choices: []openai.ChatCompletionChoice{{Index: 0, FinishReason: openai.FinishReasonStop,
			Message: openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: resp.Content}}}}
	if !resp.NoUsage {
		out.Usage = usage
	}
	writeJSON(w, out)
}

func (s *Server) stream(w http.ResponseWriter, req Request, resp Response, usage openai.Usage) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	for i, word := range strings.SplitAfter(resp.Content, " ") {
		send(openai.ChatCompletionStreamResponse{ID: "chatcmpl-fake", Object: "chat.completion.chunk", Model: req.Chat.Model,
			Choices: []openai.ChatCompletionStreamChoice{{Index: 0, Delta: openai.ChatCompletionStreamChoiceDelta{Content: word}}}})
		_ = i
	}
	if req.Chat.StreamOptions != nil && req.Chat.StreamOptions.IncludeUsage {
		send(openai.ChatCompletionStreamResponse{ID: "chatcmpl-fake", Object: "chat.completion.chunk", Usage: &usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (s *Server) embed(w http.ResponseWriter, r *http.Request, req Request) {
	s.mu.Lock()
	fn := s.embedFn
	s.mu.Unlock()
	var vecs [][]float32
	if fn != nil {
		var resp *Response
		vecs, resp = fn(req.Embed.Input)
		if resp != nil {
			if resp.Block && !s.wait(r) {
				return
			}
			if resp.Status/100 != 2 {
				writeError(w, *resp)
				return
			}
		}
	} else {
		for _, in := range req.Embed.Input {
			vecs = append(vecs, Vector(in))
		}
	}
	out := openai.EmbeddingResponse{Object: "list", Model: openai.EmbeddingModel(req.Embed.Model)}
	n := 0
	for i, v := range vecs {
		out.Data = append(out.Data, openai.Embedding{Object: "embedding", Index: i, Embedding: v})
		n += len(req.Embed.Input[i])/4 + 1
	}
	out.Usage = openai.Usage{PromptTokens: n, TotalTokens: n}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r Response) {
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.Status)
	code := map[int]string{401: "invalid_api_key", 429: "rate_limit_exceeded"}[r.Status]
	msg := r.Content
	if msg == "" {
		msg = http.StatusText(r.Status)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "fake_error", "code": code}})
}

// Dim is the length of the fake embedding vectors.
const Dim = 256

// Vector is the fake embedding of s: hashed character trigrams of its
// lower-cased words, L2-normalised. Texts sharing many trigrams are close.
func Vector(s string) []float32 {
	v := make([]float32, Dim)
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = " " + w + " "
		rs := []rune(w)
		for i := 0; i+3 <= len(rs); i++ {
			h := fnv.New32a()
			h.Write([]byte(string(rs[i : i+3])))
			v[h.Sum32()%Dim]++
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n > 0 {
		inv := float32(1 / math.Sqrt(n))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

// RefusedURL returns a base URL on 127.0.0.1 where nothing listens, for
// "connection refused" tests.
func RefusedURL(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1"
}
