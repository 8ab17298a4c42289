package httpx_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/supportbot/supportbot/internal/httpx"
)

// handlers read the body the way real endpoints do and answer 400 on error.
func mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /json", func(w http.ResponseWriter, r *http.Request) {
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /raw", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		w.Write([]byte{byte(len(b))})
	})
	m.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Hijacker); !ok {
			http.Error(w, "no hijacker", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return m
}

func TestOversizedBodiesGet413(t *testing.T) {
	var refused atomic.Int64
	srv := httptest.NewServer(httpx.LimitBody(1024, mux(), func() { refused.Add(1) }))
	defer srv.Close()
	big := `{"a":"` + strings.Repeat("x", 4096) + `"}`
	cases := []struct {
		name    string
		path    string
		body    io.Reader
		chunked bool
		want    int
	}{
		{"declared length over the limit", "/json", strings.NewReader(big), false, 413},
		{"chunked body over the limit, json endpoint", "/json", strings.NewReader(big), true, 413},
		{"chunked body over the limit, raw endpoint", "/raw", strings.NewReader(big), true, 413},
		{"small json", "/json", strings.NewReader(`{"a":1}`), false, 204},
		{"small chunked", "/raw", strings.NewReader("hello"), true, 200},
		{"bad json under the limit stays 400", "/json", strings.NewReader(`{`), false, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			if c.chunked {
				body = io.MultiReader(body) // unknown length: sent chunked
			}
			req, _ := http.NewRequest("POST", srv.URL+c.path, body)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	if n := refused.Load(); n != 3 {
		t.Errorf("onRefuse called %d times, want 3", n)
	}
}

func TestBodilessRequestsKeepTheWriter(t *testing.T) {
	h := httpx.LimitBody(10, mux(), nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /ws lost the Hijacker: %d", resp.StatusCode)
	}
}
