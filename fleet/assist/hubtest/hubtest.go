// Package hubtest runs the fleet's remote-help hub for tests of its
// clients (the agent's relay, the viewer): fleet/assist behind net/http on
// loopback TLS with a certificate from fleet/tlscert, as `fleet serve`
// makes it, with the fleet server's timeouts (shortened: a share must
// outlive them), its logs in a file of the data directory, and a Crash
// that drops every connection the way a killed process does.
//
// Two small fakes, named as such, stand in for what fleet/server and
// fleet/console will wire in: FakeDeviceAuth (the device API's bearer
// check, one device) and FakeStaffAuth (the console's session cookie: the
// cookie test_staff names the user; alice and bob have the assist
// permission, victor does not).
package hubtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	fleetassist "accesskiosk/fleet/assist"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/pin"
)

// The one device FakeDeviceAuth knows.
const (
	DeviceID   = "dev-central-1"
	DeviceCred = DeviceID + ".s3cret-credential"
)

// FakeStaffAuth is a fake of the console's session check.
func FakeStaffAuth(r *http.Request) (string, error) {
	c, err := r.Cookie("test_staff")
	if err != nil {
		return "", err
	}
	return c.Value, nil
}

// FakeDeviceAuth is a fake of the device API's bearer check.
func FakeDeviceAuth(r *http.Request) (string, error) {
	if r.Header.Get("Authorization") != "Bearer "+DeviceCred {
		return "", errors.New("bad credential")
	}
	return DeviceID, nil
}

// StaffWithAssist are the users with the assist permission.
var StaffWithAssist = map[string]bool{"alice": true, "bob": true}

// Fleet is a running hub.
type Fleet struct {
	Hub   *fleetassist.Hub
	Reg   *prometheus.Registry
	Addr  string // 127.0.0.1:PORT
	URL   string // https://127.0.0.1:PORT
	Pin   pin.Fingerprint
	Dir   string
	Audit chan fleetassist.Event

	ln      *trackingListener
	logFile *os.File

	mu    sync.Mutex
	offer func(shareID string) error
}

// SetOffer sets what "Offer help" to a kiosk with no waiting request does
// with the share id (the agent's command path, in a test).
func (f *Fleet) SetOffer(o func(shareID string) error) {
	f.mu.Lock()
	f.offer = o
	f.mu.Unlock()
}

// Options change the hub's config.
type Options func(*fleetassist.Config)

// Start runs a hub with its data in dir on addr ("127.0.0.1:0" for any
// port) until the test ends.
func Start(t testing.TB, dir, addr string, opts ...Options) *Fleet {
	t.Helper()
	f, err := New(dir, addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// New runs a hub with its data in dir on addr, for a test's child process
// (Start is the same for a test); Close (or Crash) stops it.
func New(dir, addr string, opts ...Options) (*Fleet, error) {
	f := &Fleet{Dir: dir, Audit: make(chan fleetassist.Event, 256), Reg: prometheus.NewRegistry()}
	lf, err := os.OpenFile(filepath.Join(dir, "fleet.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	f.logFile = lf
	log := logrus.New()
	log.SetOutput(lf)
	log.SetLevel(logrus.DebugLevel)
	cfg := fleetassist.Config{
		DeviceAuth: FakeDeviceAuth, StaffAuth: FakeStaffAuth,
		MayAssist: func(_ context.Context, staff string) bool { return StaffWithAssist[staff] },
		OnOffer: func(_ context.Context, _, dev, share string) error {
			f.mu.Lock()
			o := f.offer
			f.mu.Unlock()
			if o == nil || dev != DeviceID {
				return errors.New("no agent for that kiosk")
			}
			return o(share)
		},
		Audit: func(e fleetassist.Event) {
			select {
			case f.Audit <- e:
			default:
			}
		},
		Registerer: f.Reg, Log: log, Ping: 2 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	f.Hub, err = fleetassist.New(cfg)
	if err != nil {
		return nil, err
	}
	cert, _, err := tlscert.LoadOrCreate(dir, []string{"127.0.0.1", "198.18.0.2"})
	if err != nil {
		return nil, err
	}
	f.Pin = pin.Of(cert.Certificate[0])
	mux := http.NewServeMux()
	mux.Handle("GET "+wire.PathDevice, f.Hub.DeviceHandler())
	mux.Handle("/assist/", f.Hub.ConsoleHandler())
	mux.HandleFunc("GET /test/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "test_staff", Value: r.URL.Query().Get("user"), Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, testHome)
	})
	cop := http.NewCrossOriginProtection()
	ln, err := net.Listen("tcp", addr)
	for i := 0; err != nil && i < 50; i++ { // the port of a crashed fleet may take a moment
		time.Sleep(100 * time.Millisecond)
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	f.ln = &trackingListener{Listener: ln, conns: map[net.Conn]bool{}}
	f.Addr = ln.Addr().String()
	f.URL = "https://" + f.Addr
	// fleet/server's timeouts, shortened: hijacked WebSockets must not be cut by them.
	srv := &http.Server{Handler: cop.Handler(mux), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 3 * time.Second,
		WriteTimeout: 3 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 32 << 10}
	go srv.Serve(tls.NewListener(f.ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	return f, nil
}

// Close crashes the fleet (Crash) and closes its log.
func (f *Fleet) Close() {
	f.Crash()
	f.logFile.Close()
}

// testHome is a stand-in for the console's pages with the two commands.
const testHome = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Console (test)</title></head><body>
<form method="post" action="/assist/code"><label for="code">Help code</label><input id="code" name="code"><button id="claim">Start helping</button></form>
<form method="post" action="/assist/offer"><input type="hidden" name="device" value="` + DeviceID + `"><button id="offer">Offer help</button></form>
</body></html>`

// Crash stops the fleet the way a killed process does: the listener and
// every connection, WebSockets included, close at once.
func (f *Fleet) Crash() { f.ln.closeAll() }

type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	dead   atomic.Bool // once set, no connection reads or writes another byte
}

// deadConn is a connection of a process that may die: after the crash it
// neither writes nor reads, as a killed process would not, even while its
// goroutines (here, in the test's process) are still running.
type deadConn struct {
	net.Conn
	dead *atomic.Bool
}

func (c deadConn) Write(b []byte) (int, error) {
	if c.dead.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(b)
}

func (c deadConn) Read(b []byte) (int, error) {
	if c.dead.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(b)
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.conns[c] = true
	return deadConn{Conn: c, dead: &l.dead}, nil
}

func (l *trackingListener) closeAll() {
	l.dead.Store(true) // first: nothing more leaves, whatever the hub does next
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	l.Listener.Close()
	for c := range l.conns {
		c.Close()
	}
}

// Metric reads a counter or gauge (summed over its labels).
func (f *Fleet) Metric(t testing.TB, name string) float64 {
	t.Helper()
	mfs, err := f.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

// WaitMetric waits (30 s at most) until the metric reaches atLeast.
func (f *Fleet) WaitMetric(t testing.TB, name string, atLeast float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.Metric(t, name) < atLeast {
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed below %v for 30 s", name, atLeast)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client is an HTTP/1.1 client that trusts the fleet by its pin.
func (f *Fleet) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = f.Pin.TLSConfig()
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	return &http.Client{Transport: tr}
}

// DialViewer opens a viewer WebSocket as user; on refusal it returns the
// HTTP status.
func (f *Fleet) DialViewer(ctx context.Context, share, user string) (*websocket.Conn, int, error) {
	h := http.Header{"Cookie": {"test_staff=" + user}, "Origin": {f.URL}}
	ws, resp, err := websocket.Dial(ctx, "wss://"+f.Addr+wire.ViewerPath(share), &websocket.DialOptions{
		HTTPClient: f.Client(), HTTPHeader: h, Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode, err
		}
		return nil, 0, err
	}
	return ws, http.StatusSwitchingProtocols, nil
}

// DialDevice opens the device WebSocket with cred ("" for DeviceCred).
func (f *Fleet) DialDevice(ctx context.Context, cred string) (*websocket.Conn, int, error) {
	if cred == "" {
		cred = DeviceCred
	}
	ws, resp, err := websocket.Dial(ctx, "wss://"+f.Addr+wire.PathDevice, &websocket.DialOptions{
		HTTPClient: f.Client(), HTTPHeader: http.Header{"Authorization": {"Bearer " + cred}}, Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode, err
		}
		return nil, 0, err
	}
	return ws, http.StatusSwitchingProtocols, nil
}
