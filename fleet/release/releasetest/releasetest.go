// Package releasetest makes real release repositories for tests: offline
// keys, a TUF repository in a temp dir, bundles built from generated trees,
// and a loopback HTTP server that counts the bytes it serves and can cut
// connections part-way.
package releasetest

import (
	"crypto/rand"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/bundle"
)

// Repo is a repository made for a test.
type Repo struct {
	*release.Repo
	Offline string // offline key directory
}

// NewRepo makes offline keys and a repository in temp dirs.
func NewRepo(t testing.TB, opt release.Options) *Repo {
	t.Helper()
	offline := filepath.Join(t.TempDir(), "offline")
	if err := release.GenerateOfflineKeys(offline); err != nil {
		t.Fatal(err)
	}
	r, err := release.Init(filepath.Join(t.TempDir(), "repo"), offline, opt)
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{Repo: r, Offline: offline}
}

// NewRepoIn makes offline keys in a temp dir and a repository in st.
func NewRepoIn(t testing.TB, st release.Storage, opt release.Options) *Repo {
	t.Helper()
	offline := filepath.Join(t.TempDir(), "offline")
	if err := release.GenerateOfflineKeys(offline); err != nil {
		t.Fatal(err)
	}
	r, err := release.InitStorage(st, offline, opt)
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{Repo: r, Offline: offline}
}

// Add builds a bundle of files and adds it to the repository.
func (r *Repo) Add(t testing.TB, version, arch string, files map[string][]byte) release.Release {
	t.Helper()
	b := Bundle(t, version, arch, files)
	rel, err := r.Repo.Add(r.Offline, b)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// Files returns a typical bundle tree: agent and kiosk "binaries" of size
// bytes of pseudo-random data (seeded by seed, so two versions can share
// most of their bytes), a unit and a page.
func Files(version string, size int, seed int64) map[string][]byte {
	bin := make([]byte, size)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := range bin {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		bin[i] = byte(x)
	}
	agent := append([]byte("agent "+version+"\n"), bin...)
	kiosk := append([]byte("kiosk "+version+"\n"), bin[:size/2]...)
	return map[string][]byte{
		"bin/agent":                       agent,
		"bin/kiosk":                       kiosk,
		"units/accesskiosk-kiosk.service": []byte("[Service]\nExecStart=/var/lib/accesskiosk/current/bin/kiosk\n"),
		"pages/home/index.html":           []byte("<h1>" + version + "</h1>"),
	}
}

// Bundle writes files into a tree and builds a bundle file from it.
func Bundle(t testing.TB, version, arch string, files map[string][]byte) string {
	t.Helper()
	src := t.TempDir()
	for p, body := range files {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(full, body, mode); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), version+"-"+arch+".tar.zst")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := bundle.Build(f, src, bundle.Options{Version: version, Arch: arch, Units: []string{"accesskiosk-kiosk.service", "accesskiosk-agent.service"}}); err != nil {
		t.Fatal(err)
	}
	return out
}

// Server serves a handler on loopback, counting target bytes and
// recording Range requests.
type Server struct {
	URL string

	mu        sync.Mutex
	ranges    []string
	served    map[string]int64
	gen       int          // Reset's count: a request counts only in the generation it started in
	cutNext   atomic.Int64 // when > 0, the next target response stops after this many bytes
	stallNext atomic.Int64 // when > 0, the next target response stalls after this many bytes
	handler   http.Handler
}

// Serve starts h on 127.0.0.1 and stops it at cleanup. The server's URL
// is the repository base: metadata under URL/metadata/, targets under
// URL/targets/.
func Serve(t testing.TB, h http.Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), served: map[string]int64{}, handler: h}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// SetHandler swaps the handler served (to simulate a mirror or attacker).
func (s *Server) SetHandler(h http.Handler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// CutNext makes the next target response stop after n bytes (a dropped
// connection).
func (s *Server) CutNext(n int64) { s.cutNext.Store(n) }

// StallNext makes the next target response send n bytes and then nothing
// more until the client gives up (a stalled link).
func (s *Server) StallNext(n int64) { s.stallNext.Store(n) }

// Served returns the body bytes served for target requests so far.
func (s *Server) Served() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.served {
		n += v
	}
	return n
}

// Ranges returns the Range headers of target requests so far ("" for none).
func (s *Server) Ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// Reset clears the counters. A request still running (one whose client
// was killed, its last bytes still being written) is not counted after.
func (s *Server) Reset() {
	s.mu.Lock()
	s.ranges, s.served = nil, map[string]int64{}
	s.gen++
	s.mu.Unlock()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.handler
	isTarget := strings.HasPrefix(r.URL.Path, "/targets/")
	if isTarget {
		s.ranges = append(s.ranges, r.Header.Get("Range"))
	}
	gen := s.gen
	s.mu.Unlock()
	if !isTarget {
		h.ServeHTTP(w, r)
		return
	}
	cw := &countingWriter{ResponseWriter: w, limit: s.cutNext.Swap(0)}
	if n := s.stallNext.Swap(0); n > 0 {
		cw.limit, cw.stall = n, r.Context().Done()
	}
	defer func() {
		s.mu.Lock()
		if s.gen == gen {
			s.served[r.URL.Path] += cw.n
		}
		s.mu.Unlock()
	}()
	h.ServeHTTP(cw, r)
}

type countingWriter struct {
	http.ResponseWriter
	n     int64
	limit int64
	stall <-chan struct{} // when set, block at limit until it closes
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.limit > 0 && c.n+int64(len(p)) > c.limit {
		p = p[:c.limit-c.n]
		n, _ := c.ResponseWriter.Write(p)
		c.n += int64(n)
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		if c.stall != nil {
			select {
			case <-c.stall:
			case <-time.After(time.Minute):
			}
		}
		// Drop the connection mid-body.
		panic(http.ErrAbortHandler)
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Flush passes flushes through.
func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// RandomOffset returns a random value in [1, n).
func RandomOffset(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n-1))
	if err != nil {
		panic(err)
	}
	return v.Int64() + 1
}
