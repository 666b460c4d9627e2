package server

import (
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// wrap puts around the mux what every request gets: metrics by route,
// recovery from a handler's panic, HSTS over HTTPS, and the draining of
// unread bodies.
func (s *Server) wrap(h http.Handler) http.Handler {
	return s.instrument(hsts(drain(h)))
}

// instrument times every request by route and status, and turns a
// handler's panic into a 400 (when nothing was sent yet) with the detail
// and stack in the log, so no path or body can drop a connection.
func (s *Server) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.metrics.panics.Inc()
				s.log.WithFields(map[string]any{"method": r.Method, "path": strconv.Quote(r.URL.Path), "panic": fmt.Sprint(v), "stack": string(debug.Stack())}).
					Error("a handler panicked: answered 400 (this is a bug; please report it with this entry)")
				if sw.code == 0 {
					if strings.HasPrefix(r.URL.Path, "/api/") {
						writeError(sw, http.StatusBadRequest, "bad_request", "the server could not handle this request")
					} else {
						http.Error(sw, "The server could not handle this request.", http.StatusBadRequest)
					}
				}
			}
			if sw.code == 0 {
				sw.code = http.StatusOK
			}
			s.metrics.latency.WithLabelValues(route(r), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hsts tells browsers that reached the fleet over HTTPS to use nothing
// else for a year. (Behind a TLS proxy with --plain-http, the proxy says so.)
func hsts(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// maxDrain is how much of a request body the server reads after its
// handler answered without reading it all (an unknown path, a refusal, a
// body over the limit), so that a client that sends its whole body before
// reading gets the answer instead of a reset connection. A larger body
// still ends in a closed connection; the server's read timeout bounds the
// time either way.
const maxDrain = 64 << 20

func drain(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := r.Body
		h.ServeHTTP(w, r)
		// A client that asked "Expect: 100-continue" was not told to go on
		// and has sent nothing: there is nothing to drain.
		if body != nil && body != http.NoBody && !strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			io.CopyN(io.Discard, body, maxDrain)
		}
	})
}
