// Package httpx holds the HTTP middleware every endpoint of the bot sits
// behind (cmd/supportbot wraps the whole mux).
package httpx

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// DefaultMaxBody is the largest request body accepted by default: a
// knowledge-base import. Endpoints may enforce less.
const DefaultMaxBody = 4 << 20

// LimitBody refuses request bodies larger than max bytes with 413 Request
// Entity Too Large, before h runs when the request declares its length, and
// otherwise as soon as h reads past max (the response status h then writes
// is replaced by 413, and the connection is closed). onRefuse, if not nil,
// is called once per refused request (metrics). Requests without a body,
// such as WebSocket upgrades, pass untouched.
func LimitBody(max int64, h http.Handler, onRefuse func()) http.Handler {
	if max <= 0 {
		max = DefaultMaxBody
	}
	refuse := func() {
		if onRefuse != nil {
			onRefuse()
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			refuse()
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		lw := &limitWriter{ResponseWriter: w}
		r.Body = &limitBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), over: &lw.over}
		h.ServeHTTP(lw, r)
		if lw.over.Load() {
			refuse()
			if !lw.wrote {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			}
		}
	})
}

// limitBody notes when the reader hit the limit.
type limitBody struct {
	io.ReadCloser
	over *atomic.Bool
}

func (b *limitBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.over.Store(true)
	}
	return n, err
}

// limitWriter turns the status of a response to an oversized body into 413.
type limitWriter struct {
	http.ResponseWriter
	over  atomic.Bool
	wrote bool
}

func (w *limitWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if w.over.Load() && code >= 400 {
		code = http.StatusRequestEntityTooLarge
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush, Hijack).
func (w *limitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher when the underlying writer does.
func (w *limitWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
