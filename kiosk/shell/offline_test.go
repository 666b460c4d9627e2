package shell

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/kiosk/webkit/webkittest"
)

// TestOfflinePage: when the offline check URL stops answering, the real
// view shows the built-in offline page; when it answers again, the resident
// is back on the service page they had.
func TestOfflinePage(t *testing.T) {
	oldEvery, oldRetry, oldTimeout := offlineCheckEvery, offlineRetryEvery, offlineTimeout
	offlineCheckEvery, offlineRetryEvery, offlineTimeout = 200*time.Millisecond, 100*time.Millisecond, time.Second
	t.Cleanup(func() { offlineCheckEvery, offlineRetryEvery, offlineTimeout = oldEvery, oldRetry, oldTimeout })

	var down atomic.Bool
	check := startServer(t, "check", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			// No answer at all: drop the connection.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>Council service</title><h1>Pay</h1>")
	}))

	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	cfg.OfflineCheck = check.URL() + "/generate_204"
	ts := startPagesShell(t, cfg)
	service := svc.URL() + "/pay"
	ts.load(t, service)
	if !waitFor(10*time.Second, func() bool { return ts.uri(t) == service }) {
		t.Fatalf("service page not shown: at %s", ts.uri(t))
	}
	if n := check.count("HEAD /generate_204"); !waitFor(5*time.Second, func() bool { return check.count("HEAD /generate_204") > n }) {
		t.Fatal("the check URL is not being asked")
	}

	down.Store(true)
	if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://offline") }) {
		t.Fatalf("check URL unreachable, but the view shows %s", ts.uri(t))
	}
	var title string
	waitFor(5*time.Second, func() bool {
		webkittest.Do(t, func() { title = ts.s.view.Title() })
		return strings.HasPrefix(title, "The internet connection is not working")
	})
	if !strings.HasPrefix(title, "The internet connection is not working") {
		t.Errorf("offline page title %q", title)
	}

	down.Store(false)
	if !waitFor(10*time.Second, func() bool { return ts.uri(t) == service }) {
		t.Fatalf("check URL back, but the view shows %s", ts.uri(t))
	}
}
