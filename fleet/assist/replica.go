package assist

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/pin"
)

// Replicas is the hop between fleet replicas that remote help takes when
// a kiosk's agent and the staff member reached different ones: each
// replica listens on an internal address of its own (`fleet serve
// --internal-addr`), and every connection between them is TLS in both
// directions with the one certificate the replicas share (the one agents
// pin): a replica accepts only a client presenting that certificate, and
// trusts only a server presenting it. Whoever has not the certificate's
// key cannot make a request there; nothing a kiosk or a browser sends can
// reach it except through a replica that authenticated it first.
//
// Over the hop go: a claimed code or an offer handed to the replica
// holding the kiosk's WebSocket, and the agent's or viewer's WebSocket
// relayed message by message (frames in memory only, one message in
// flight each way).
type Replicas struct {
	self   string
	cert   tls.Certificate
	pin    pin.Fingerprint
	client *http.Client
}

// Paths of the internal hop (served by InternalHandler only).
const (
	internalClaim  = "/internal/assist/claim"
	internalOffer  = "/internal/assist/offer"
	internalViewer = "/internal/assist/viewer/"
	internalDevice = "/internal/assist/device"
	// headerStaff and headerDevice carry who the first replica
	// authenticated.
	headerStaff  = "Assist-Staff"
	headerDevice = "Assist-Device"
)

// NewReplicas returns the hop for the replica reached at internal address
// self (HOST:PORT), authenticating with cert, the replicas' shared one.
func NewReplicas(self string, cert tls.Certificate) (*Replicas, error) {
	if self == "" || len(cert.Certificate) == 0 {
		return nil, errors.New("assist replicas: an internal address and the shared certificate are required")
	}
	r := &Replicas{self: self, cert: cert, pin: pin.Of(cert.Certificate[0])}
	tc := r.pin.TLSConfig()
	tc.MinVersion = tls.VersionTLS13
	tc.Certificates = []tls.Certificate{cert}
	r.client = &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return r, nil
}

// Self is this replica's internal address.
func (r *Replicas) Self() string { return r.self }

// ServerTLS is the TLS config of the internal listener: it serves the
// shared certificate and requires the client to present it too.
func (r *Replicas) ServerTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{r.cert},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAnyClientCert,
		// The chain is not checked: the pin replaces it, and TLS has
		// already proved the client holds the certificate's key.
		VerifyConnection: r.verifyPeer,
		NextProtos:       []string{"http/1.1"},
	}
}

func (r *Replicas) verifyPeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 || !pin.Of(cs.PeerCertificates[0].Raw).Equal(r.pin) {
		return errors.New("assist replicas: the peer does not hold the replicas' certificate")
	}
	return nil
}

type internalRequest struct {
	Staff  string `json:"staff"`
	Device string `json:"device"`
	// CodeHash is the hash of the code that matched (claims only).
	CodeHash []byte `json:"code_hash,omitempty"`
}

type internalAnswer struct {
	Share string `json:"share,omitempty"`
	Error string `json:"error,omitempty"`
}

// Statuses of the internal answers, and the errors they stand for.
var internalErrors = map[int]error{
	http.StatusNotFound:  ErrBadCode,
	http.StatusConflict:  ErrBusy,
	http.StatusForbidden: ErrForbidden,
	http.StatusGone:      ErrNotWaiting,
}

func internalStatus(err error) int {
	for code, e := range internalErrors {
		if errors.Is(err, e) {
			return code
		}
	}
	return http.StatusServiceUnavailable
}

func (r *Replicas) call(ctx context.Context, replica, path string, req internalRequest) (string, error) {
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+replica+path, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("replica %s: %w", replica, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(hr)
	if err != nil {
		return "", fmt.Errorf("replica %s holding the kiosk's link: %w", replica, err)
	}
	defer resp.Body.Close()
	var a internalAnswer
	json.NewDecoder(io.LimitReader(resp.Body, maxForm)).Decode(&a)
	if resp.StatusCode == http.StatusOK && wire.ValidShareID(a.Share) {
		return a.Share, nil
	}
	if e, ok := internalErrors[resp.StatusCode]; ok {
		return "", e
	}
	return "", fmt.Errorf("replica %s holding the kiosk's link answered %d: %s", replica, resp.StatusCode, a.Error)
}

// claim hands a matched code's claim to the replica holding the kiosk.
func (r *Replicas) claim(ctx context.Context, replica, staff, device string, hash []byte) (string, error) {
	return r.call(ctx, replica, internalClaim, internalRequest{Staff: staff, Device: device, CodeHash: hash})
}

// offer hands an offer to the replica holding the kiosk's waiting link.
func (r *Replicas) offer(ctx context.Context, replica, staff, device string) (string, error) {
	id, err := r.call(ctx, replica, internalOffer, internalRequest{Staff: staff, Device: device})
	if errors.Is(err, ErrBadCode) {
		err = ErrNotWaiting
	}
	return id, err
}

// dial opens a WebSocket to path on replica; status is the HTTP status
// of a refusal (0 when the replica could not be reached).
func (r *Replicas) dial(ctx context.Context, replica, path string, h http.Header) (ws *websocket.Conn, status int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	u := url.URL{Scheme: "wss", Host: replica, Path: path}
	ws, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: r.client, HTTPHeader: h,
		Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		if resp != nil {
			status = resp.StatusCode
		}
		// Never the URL (a viewer's carries the share id): it is logged.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, status, fmt.Errorf("replica %s: open a relay: %w", replica, err)
	}
	if ws.Subprotocol() != wire.Subprotocol {
		ws.CloseNow()
		return nil, 0, fmt.Errorf("replica %s: no subprotocol", replica)
	}
	return ws, 0, nil
}

// InternalHandler serves the other replicas on the internal listener
// (whose TLS is Replicas.ServerTLS): claims and offers handed over, and
// the WebSockets relayed. Each request is checked again to come from a
// client holding the shared certificate, and the staff user's permission
// is checked again here, so the hop adds no way in.
func (h *Hub) InternalHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST "+internalClaim, func(w http.ResponseWriter, r *http.Request) {
		h.internalCall(w, r, func(ctx context.Context, q internalRequest) (string, error) {
			if len(q.CodeHash) == 0 {
				return "", ErrBadCode
			}
			return h.claimDevice(ctx, q.Staff, q.Device, q.CodeHash)
		})
	})
	m.HandleFunc("POST "+internalOffer, func(w http.ResponseWriter, r *http.Request) {
		h.internalCall(w, r, func(ctx context.Context, q internalRequest) (string, error) {
			id, err := h.offerHere(ctx, q.Staff, q.Device)
			if errors.Is(err, ErrBadCode) {
				err = ErrNotWaiting
			}
			return id, err
		})
	})
	m.HandleFunc("GET "+internalViewer+"{id}", func(w http.ResponseWriter, r *http.Request) {
		staff := r.Header.Get(headerStaff)
		if staff == "" || !h.cfg.MayAssist(r.Context(), staff) {
			http.Error(w, "not allowed", http.StatusForbidden)
			return
		}
		h.viewHere(w, r, staff, r.PathValue("id"))
	})
	m.HandleFunc("GET "+internalDevice, func(w http.ResponseWriter, r *http.Request) {
		device := r.Header.Get(headerDevice)
		if device == "" || len(device) > 128 {
			http.Error(w, "no device", http.StatusBadRequest)
			return
		}
		h.serveDeviceAs(w, r, device, false)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Replicas == nil || r.TLS == nil || h.cfg.Replicas.verifyPeer(*r.TLS) != nil {
			h.m.internalRefused.Inc()
			http.Error(w, "not a replica", http.StatusForbidden)
			return
		}
		m.ServeHTTP(w, r)
	})
}

func (h *Hub) internalCall(w http.ResponseWriter, r *http.Request, fn func(context.Context, internalRequest) (string, error)) {
	var q internalRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm)).Decode(&q); err != nil || q.Staff == "" || q.Device == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !h.cfg.MayAssist(r.Context(), q.Staff) {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(internalAnswer{Error: ErrForbidden.Error()})
		return
	}
	id, err := fn(r.Context(), q)
	if err != nil {
		w.WriteHeader(internalStatus(err))
		json.NewEncoder(w).Encode(internalAnswer{Error: err.Error()})
		return
	}
	json.NewEncoder(w).Encode(internalAnswer{Share: id})
}

// viewElsewhere serves a viewer whose share is not on this replica: the
// Directory says whose it is, and which replica holds it; the viewer's
// WebSocket is relayed there.
func (h *Hub) viewElsewhere(w http.ResponseWriter, r *http.Request, staff, id string) {
	ctx, cancel := context.WithTimeout(r.Context(), dirWait)
	rec, ok, err := h.cfg.Directory.Share(ctx, IDHash(id))
	cancel()
	switch {
	case err != nil:
		h.log.WithError(err).Warn("assist: share lookup failed")
		http.Error(w, "Remote help is not available now. Try again.", http.StatusServiceUnavailable)
		return
	case !ok:
		http.Error(w, "This remote help session has ended.", http.StatusNotFound)
		return
	case rec.Staff != staff:
		h.m.viewersRefused.Inc()
		http.Error(w, "This remote help session belongs to another staff member.", http.StatusForbidden)
		return
	case rec.Ended != "":
		h.tellEnded(w, r, rec.Ended)
		return
	case rec.Replica == h.self():
		// Ours, but gone from memory (this replica restarted).
		http.Error(w, "This remote help session has ended.", http.StatusNotFound)
		return
	}
	home, status, err := h.cfg.Replicas.dial(r.Context(), rec.Replica, internalViewer+id, http.Header{headerStaff: {staff}})
	if err != nil {
		switch status {
		case http.StatusConflict:
			h.m.viewersRefused.Inc()
			http.Error(w, "Someone is already viewing this kiosk. Only one viewer is allowed.", http.StatusConflict)
		case http.StatusNotFound, http.StatusForbidden:
			http.Error(w, "This remote help session has ended.", http.StatusNotFound)
		default:
			h.log.WithError(err).Warn("assist: the replica holding a share cannot be reached")
			http.Error(w, "The server holding this kiosk's link cannot be reached. Try again.", http.StatusBadGateway)
		}
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
	if err == nil && ws.Subprotocol() != wire.Subprotocol {
		ws.Close(websocket.StatusPolicyViolation, "subprotocol "+wire.Subprotocol+" required")
		err = errors.New("no subprotocol")
	}
	if err != nil {
		home.Close(websocket.StatusNormalClosure, "")
		return
	}
	h.m.relayed.WithLabelValues("viewer").Inc()
	h.relay(ws, wire.MaxControlBytes, home, wire.MaxFrameBytes)
}

// relayDevice relays an agent's WebSocket, whose hello (already read) is
// for an offer made on replica, to that replica.
func (h *Hub) relayDevice(ws *websocket.Conn, replica, device string, hello []byte) {
	home, _, err := h.cfg.Replicas.dial(h.life, replica, internalDevice, http.Header{headerDevice: {device}})
	if err != nil {
		h.log.WithError(err).Warn("assist: the replica holding an offer cannot be reached")
		sayEnded(ws, wire.ReasonFleetGone)
		return
	}
	wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	err = home.Write(wctx, websocket.MessageText, hello)
	cancel()
	if err != nil {
		home.CloseNow()
		sayEnded(ws, wire.ReasonFleetGone)
		return
	}
	h.m.relayed.WithLabelValues("device").Inc()
	h.relay(ws, wire.MaxFrameBytes, home, wire.MaxControlBytes)
}

// relay passes messages both ways between a client's WebSocket (read at
// most clientLimit bytes a message) and the home replica's (homeLimit),
// one message in flight each way, until either side ends; both are
// pinged as the hub pings its own. What passes is never looked at, kept
// or logged: the home replica checks it. When the home goes away without
// closing (a crash, a lost network), the client is told the fleet went.
func (h *Hub) relay(client *websocket.Conn, clientLimit int64, home *websocket.Conn, homeLimit int64) {
	client.SetReadLimit(clientLimit)
	home.SetReadLimit(homeLimit)
	ctx, cancel := context.WithCancel(h.life)
	defer cancel()
	pipe := func(from, to *websocket.Conn) error {
		defer cancel()
		for {
			typ, b, err := from.Read(ctx)
			if err != nil {
				return err
			}
			wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
			err = to.Write(wctx, typ, b)
			wcancel()
			if err != nil {
				return nil
			}
		}
	}
	done := make(chan struct{})
	var homeErr error
	go func() { pipe(client, home); done <- struct{}{} }()
	go func() { homeErr = pipe(home, client); done <- struct{}{} }()
	t := time.NewTicker(h.cfg.Ping)
	defer t.Stop()
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-t.C:
			for _, ws := range []*websocket.Conn{client, home} {
				pctx, pcancel := context.WithTimeout(ctx, h.cfg.Ping)
				if ws.Ping(pctx) != nil {
					cancel()
				}
				pcancel()
			}
		}
	}
	<-done
	<-done
	if homeErr != nil && websocket.CloseStatus(homeErr) == -1 && h.life.Err() == nil {
		// The home went without a word: the client hears it from here.
		if b, err := (&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonFleetGone}).Encode(); err == nil {
			wctx, wcancel := context.WithTimeout(context.Background(), writeTimeout)
			client.Write(wctx, websocket.MessageText, b)
			wcancel()
		}
	}
	client.CloseNow()
	home.CloseNow()
}
