// Package assist is the agent's part of remote help (issue 17): it listens
// on the kiosk's assist socket (kiosk/assist/link: a Unix socket checked by
// peer credentials; the kiosk only dials out) and relays one share at a
// time between the kiosk and the fleet, over a WebSocket to the fleet's
// wire.PathDevice on the agent's own pinned TLS (internal/pin), with the
// device credential.
//
// Frames go kiosk → fleet, acks, pointer events, key-frame requests and
// ends come back. Memory is bounded: at most wire.Window frames wait for
// the fleet; beyond that a frame is dropped and the kiosk asked for a key
// frame, never queued. Frames are never written to disk or logged; the
// log carries reasons, counts and durations.
//
// Ending: the kiosk closing its socket ends the share at the fleet
// (kiosk_gone); the fleet's WebSocket closing, or not answering pings,
// ends it at the kiosk (fleet_gone); the agent stopping ends both
// (shutdown), and a restarted agent simply has no share, which the kiosk
// sees as its socket closing (agent_gone).
//
// Wiring left for agent/: build a Relay from the agent's config (fleet URL,
// pin, credential, the kiosk's uid), run it beside the report loop, and
// call Offer when a fleet command names an offer (see Relay.Offer).
package assist

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/pin"
	"accesskiosk/kiosk/assist/link"
)

// Options configure a Relay.
type Options struct {
	// Listen is the kiosk socket (path, the kiosk's uid and group).
	Listen link.ListenOptions
	// FleetURL is the fleet's base URL (https://HOST:PORT), as in the
	// agent's config.
	FleetURL string
	// Pin is the fleet certificate's fingerprint; zero means the system's
	// roots (as internal/fleetclient).
	Pin pin.Fingerprint
	// Credential returns the device credential (DEVICEID.SECRET), "" when
	// not enrolled.
	Credential func() string
	Log        logrus.FieldLogger
	// PingEvery is how often the fleet's WebSocket is pinged; a ping not
	// answered within PingEvery ends the share (fleet_gone). 0 means 15 s.
	PingEvery time.Duration
	// ControlRate bounds the kiosk's control messages per second (burst
	// 4×); more are dropped. 0 means 50.
	ControlRate float64
}

// Relay is the agent's assist relay.
type Relay struct {
	opts   Options
	log    logrus.FieldLogger
	ln     *link.Listener
	client *http.Client
	base   *url.URL

	mu    sync.Mutex
	kiosk *kioskConn // the current kiosk connection, nil when none
	stats Stats
}

// Stats are the relay's counts since it started.
type Stats struct {
	KioskConnections int
	KioskRefused     int // connections refused by peer credentials or preamble
	Shares           int
	FramesRelayed    int
	BytesRelayed     int64
	FramesDropped    int // beyond the window: dropped, key frame asked
	ControlDropped   int // over ControlRate
	Ends             map[string]int
}

// New checks opts and listens on the kiosk socket.
func New(opts Options) (*Relay, error) {
	u, err := url.Parse(opts.FleetURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("assist relay: fleet URL %q: want https://HOST[:PORT]", opts.FleetURL)
	}
	if opts.Credential == nil {
		return nil, errors.New("assist relay: Credential is required")
	}
	if opts.Log == nil {
		return nil, errors.New("assist relay: Log is required")
	}
	if opts.PingEvery <= 0 {
		opts.PingEvery = 15 * time.Second
	}
	if opts.ControlRate <= 0 {
		opts.ControlRate = 50
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false // WebSockets need HTTP/1.1
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if !opts.Pin.IsZero() {
		tr.TLSClientConfig = opts.Pin.TLSConfig()
	}
	ln, err := link.Listen(opts.Listen)
	if err != nil {
		return nil, err
	}
	return &Relay{opts: opts, log: opts.Log.WithField("component", "assist"), ln: ln,
		client: &http.Client{Transport: tr, Timeout: 0}, base: u,
		stats: Stats{Ends: map[string]int{}}}, nil
}

// Socket is the path the kiosk dials.
func (r *Relay) Socket() string { return r.ln.Path() }

// Stats returns a copy of the counts.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Ends = make(map[string]int, len(r.stats.Ends))
	for k, v := range r.stats.Ends {
		s.Ends[k] = v
	}
	return s
}

func (r *Relay) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// Run accepts kiosk connections until ctx ends, then ends any share
// (shutdown), closes the socket and returns nil.
func (r *Relay) Run(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		r.ln.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, peer, err := r.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				r.mu.Lock()
				k := r.kiosk
				r.mu.Unlock()
				if k != nil {
					k.close()
				}
				return nil
			}
			if errors.Is(err, link.ErrPeerRefused) {
				r.count(func(s *Stats) { s.KioskRefused++ })
				r.log.WithField("uid", peer.UID).Warn("assist: refused a connection on the kiosk socket")
				continue
			}
			return err
		}
		k := newKioskConn(r, c)
		r.mu.Lock()
		old := r.kiosk
		r.kiosk = k
		r.stats.KioskConnections++
		r.mu.Unlock()
		if old != nil {
			old.close() // the newest kiosk connection wins
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.run(ctx)
			r.mu.Lock()
			if r.kiosk == k {
				r.kiosk = nil
			}
			r.mu.Unlock()
		}()
	}
}

// kioskWait is how long Offer waits for a kiosk to connect.
const kioskWait = 5 * time.Second

func (r *Relay) currentKiosk() *kioskConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kiosk
}

// KioskConnected reports whether a kiosk is connected to the socket now
// (for the agent's health: remote help can reach the kiosk).
func (r *Relay) KioskConnected() bool { return r.currentKiosk() != nil }

// ErrNoKiosk is returned by Offer when no kiosk is connected.
var ErrNoKiosk = errors.New("assist: the kiosk is not connected to the agent")

// Offer starts an offer of help that staff made in the console: the share
// id comes in a fleet command (wiring left: a command kind such as
// "assist_offer" with the id in its text). The relay opens the fleet's
// WebSocket with it; the fleet then sends the offer on, and the kiosk asks
// the resident. It returns once the WebSocket is open; the share runs on.
func (r *Relay) Offer(ctx context.Context, shareID string) error {
	if !wire.ValidShareID(shareID) {
		return fmt.Errorf("assist: offer id must be %d hex digits", wire.ShareIDLen)
	}
	// A kiosk that is (re)connecting gets a few seconds to arrive.
	k := r.currentKiosk()
	for wait := time.NewTimer(kioskWait); k == nil; k = r.currentKiosk() {
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-wait.C:
			return ErrNoKiosk
		case <-time.After(50 * time.Millisecond):
		}
	}
	if s := k.current(); s != nil && s.offered() {
		return ErrBusy // a late command must not cut a share in progress
	}
	return k.start(ctx, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: shareID})
}

// ErrBusy is returned by Offer while the kiosk is asking its resident or
// sharing.
var ErrBusy = errors.New("assist: the kiosk is already in a share")

// dialFleet opens the device WebSocket and sends hello.
func (r *Relay) dialFleet(ctx context.Context, hello *wire.Msg) (*websocket.Conn, error) {
	cred := r.opts.Credential()
	if cred == "" {
		return nil, errors.New("assist: not enrolled (no device credential)")
	}
	u := *r.base
	u.Path = wire.PathDevice
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
		HTTPClient:   r.client,
		HTTPHeader:   http.Header{"Authorization": {"Bearer " + cred}},
		Subprotocols: []string{wire.Subprotocol},
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("assist: open the fleet's WebSocket: the fleet answered %d", resp.StatusCode)
		}
		if errors.Is(err, pin.ErrMismatch) {
			return nil, fmt.Errorf("assist: open the fleet's WebSocket: %w", pin.ErrMismatch)
		}
		return nil, fmt.Errorf("assist: open the fleet's WebSocket: %w", err)
	}
	ws.SetReadLimit(wire.MaxControlBytes)
	b, err := hello.Encode()
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	wctx, cancel2 := context.WithTimeout(ctx, link.WriteTimeout)
	defer cancel2()
	if err := ws.Write(wctx, websocket.MessageText, b); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("assist: greet the fleet: %w", err)
	}
	return ws, nil
}
