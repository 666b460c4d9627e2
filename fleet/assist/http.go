package assist

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"accesskiosk/fleet/assist/wire"
)

// CSP is the Content-Security-Policy of the viewer page: the console's own
// (no inline script or style; the WebSocket is same-origin, which 'self'
// covers).
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

//go:embed static/*
var staticFS embed.FS

// Static is the viewer's assets (viewer.js, viewer.css), for the console
// to serve under /assist/static/.
func Static() fs.FS {
	f, _ := fs.Sub(staticFS, "static")
	return f
}

// DeviceHandler serves wire.PathDevice: the agent's WebSocket,
// authenticated by Config.DeviceAuth.
func (h *Hub) DeviceHandler() http.Handler {
	return http.HandlerFunc(h.serveDevice)
}

// ConsoleHandler serves the staff side under /assist/: the viewer's
// WebSocket (/assist/ws/{share}), a minimal viewer page (/assist/{share}),
// its assets (/assist/static/), and the two commands, POST /assist/code
// (form field code) and POST /assist/offer (form field device), which
// answer 303 to the viewer page. Every request is authenticated by
// Config.StaffAuth and checked with Config.MayAssist. The console may
// replace the page with one of its own templates that loads the same
// assets (see ViewerHTML).
func (h *Hub) ConsoleHandler() http.Handler {
	m := http.NewServeMux()
	static := http.FileServerFS(Static())
	m.Handle("GET /assist/static/", http.StripPrefix("/assist/static/", static))
	m.HandleFunc("GET /assist/ws/{id}", h.staff(h.serveViewer))
	m.HandleFunc("GET /assist/{id}", h.staff(h.servePage))
	m.HandleFunc("POST /assist/code", h.staff(h.serveClaim))
	m.HandleFunc("POST /assist/offer", h.staff(h.serveOffer))
	// The server puts CrossOriginProtection in front of everything; the
	// commands carry their own as well, so no mounting can lose it.
	cop := http.NewCrossOriginProtection()
	guarded := cop.Handler(m)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("X-Frame-Options", "DENY")
		guarded.ServeHTTP(w, r)
	})
}

type staffKey struct{}

// staff authenticates and checks the assist permission.
func (h *Hub) staff(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, err := h.cfg.StaffAuth(r)
		if err != nil || name == "" {
			http.Error(w, "Sign in to the console first.", http.StatusUnauthorized)
			return
		}
		if !h.cfg.MayAssist(r.Context(), name) {
			http.Error(w, "Your role does not include remote help (the assist permission). Ask an admin.", http.StatusForbidden)
			return
		}
		next(w, r, name)
	}
}

const maxForm = 4 << 10

func formValue(w http.ResponseWriter, r *http.Request, key string) (string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return "", false
	}
	return strings.TrimSpace(r.PostFormValue(key)), true
}

func (h *Hub) serveClaim(w http.ResponseWriter, r *http.Request, staff string) {
	code, ok := formValue(w, r, "code")
	if !ok {
		return
	}
	code = strings.ReplaceAll(code, " ", "")
	id, _, err := h.ClaimCode(r.Context(), staff, code)
	switch {
	case errors.Is(err, ErrRateLimit):
		w.Header().Set("Retry-After", "60")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	case errors.Is(err, ErrBadCode):
		http.Error(w, "No kiosk is waiting with that code. Check the 6 digits with the resident; codes last 10 minutes and work once.", http.StatusNotFound)
	case errors.Is(err, ErrBusy):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		http.Redirect(w, r, "/assist/"+id, http.StatusSeeOther)
	}
}

func (h *Hub) serveOffer(w http.ResponseWriter, r *http.Request, staff string) {
	dev, ok := formValue(w, r, "device")
	if !ok {
		return
	}
	if dev == "" || len(dev) > 128 {
		http.Error(w, "Say which kiosk (device).", http.StatusBadRequest)
		return
	}
	id, err := h.Offer(r.Context(), staff, dev)
	switch {
	case errors.Is(err, ErrBusy):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		h.log.WithError(err).Warn("assist: offer failed")
		http.Error(w, "The offer could not be sent to that kiosk now.", http.StatusServiceUnavailable)
	default:
		http.Redirect(w, r, "/assist/"+id, http.StatusSeeOther)
	}
}

// ViewerHTML is the markup the viewer script needs, for a console
// template: the canvas, the status line, the note field and Stop. The
// script is loaded with <script type="module" src="/assist/static/viewer.js">.
var ViewerHTML = template.Must(template.New("viewer").Parse(`<div id="assist-viewer" class="assist-viewer" data-ws="{{.WS}}">
  <p id="assist-status" class="assist-status" role="status" aria-live="polite">Connecting…</p>
  <canvas id="assist-canvas" class="assist-canvas" width="640" height="400" role="img" aria-label="The kiosk's screen. Click to point at a place; password fields are blacked out."></canvas>
  <p class="assist-controls">
    <label for="assist-note">Note with the pointer (optional, up to 60 characters)</label>
    <input id="assist-note" name="note" type="text" maxlength="60" autocomplete="off">
    <button id="assist-stop" type="button">Stop helping</button>
  </p>
</div>`))

var pageHTML = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Remote help – Kiosk fleet</title>
<link rel="stylesheet" href="/assist/static/viewer.css">
<script type="module" src="/assist/static/viewer.js"></script>
</head>
<body>
<main>
<h1>Remote help</h1>
<p>You see the kiosk's screen while the resident allows it. You can point; you cannot type or click on the kiosk. Password and card fields are blacked out before anything leaves the kiosk.</p>
{{.Viewer}}
</main>
</body>
</html>`))

func (h *Hub) servePage(w http.ResponseWriter, r *http.Request, staff string) {
	id := r.PathValue("id")
	_, owner, _, err := h.ShareOf(r.Context(), id)
	if err != nil || owner != staff {
		http.Error(w, "This remote help session has ended or is not yours.", http.StatusNotFound)
		return
	}
	var vb strings.Builder
	ViewerHTML.Execute(&vb, struct{ WS string }{wire.ViewerPath(id)})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	pageHTML.Execute(w, struct{ Viewer template.HTML }{template.HTML(vb.String())})
}

// serveViewer is the staff member's WebSocket: the share's own staff user
// only, one viewer at a time.
func (h *Hub) serveViewer(w http.ResponseWriter, r *http.Request, staff string) {
	// The library checks the origin too, but only after the checks below
	// would have told another site's page about this share.
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || !strings.EqualFold(u.Host, r.Host) {
			h.m.viewersRefused.Inc()
			http.Error(w, "Refused: the viewer must be opened from the console itself.", http.StatusForbidden)
			return
		}
	}
	id := r.PathValue("id")
	if h.cfg.Directory != nil && wire.ValidShareID(id) && !h.isLocal(id) {
		h.viewElsewhere(w, r, staff, id)
		return
	}
	h.viewHere(w, r, staff, id)
}

// isLocal reports whether share id lives (or lately ended) here.
func (h *Hub) isLocal(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, live := h.shares[id]
	_, gone := h.gone[id]
	return live || gone
}

// viewHere serves a viewer for a share of this replica: from the console
// directly, or relayed by the replica the staff member reached.
func (h *Hub) viewHere(w http.ResponseWriter, r *http.Request, staff, id string) {
	if _, owner, ended, err := h.ShareOf(r.Context(), id); err == nil && ended != "" && owner == staff {
		// It ended before this viewer connected: say how, then close.
		h.tellEnded(w, r, ended)
		return
	}
	h.mu.Lock()
	s := h.shares[id]
	switch {
	case s == nil || s.ended:
		h.mu.Unlock()
		http.Error(w, "This remote help session has ended.", http.StatusNotFound)
		return
	case s.staff != staff:
		h.mu.Unlock()
		h.m.viewersRefused.Inc()
		http.Error(w, "This remote help session belongs to another staff member.", http.StatusForbidden)
		return
	case s.viewer != nil || s.viewerGone.IsZero():
		h.mu.Unlock()
		h.m.viewersRefused.Inc()
		http.Error(w, "Someone is already viewing this kiosk. Only one viewer is allowed.", http.StatusConflict)
		return
	}
	s.viewerGone = time.Time{} // reserved: a second request now gets 409
	h.mu.Unlock()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
	if err == nil && ws.Subprotocol() != wire.Subprotocol {
		ws.Close(websocket.StatusPolicyViolation, "subprotocol "+wire.Subprotocol+" required")
		err = errors.New("no subprotocol")
	}
	if err != nil {
		h.mu.Lock()
		if s.viewer == nil && !s.ended {
			s.viewerGone = h.cfg.Now()
			h.armLocked(s, h.cfg.Now())
		}
		h.mu.Unlock()
		return
	}
	ws.SetReadLimit(wire.MaxControlBytes)
	p := newPeer(ws, wire.Window, func() { h.end(s, wire.ReasonStaffClosed, true, false) })
	h.mu.Lock()
	if s.ended {
		// It ended between the checks above and the handshake: say why.
		reason := s.reason
		h.mu.Unlock()
		sayEnded(ws, reason)
		return
	}
	s.viewer = p
	p.send(&wire.Msg{Type: wire.TypeState, State: s.state})
	if s.state == wire.StateSharing && s.dev != nil {
		s.needKey = true
		s.dev.p.send(&wire.Msg{Type: wire.TypeKeyframe})
	}
	h.armLocked(s, h.cfg.Now())
	h.mu.Unlock()
	go p.run(h.cfg.Ping)
	h.readViewer(s, p, ws)
}

// tellEnded accepts a viewer of an ended share only to tell it how it ended.
func (h *Hub) tellEnded(w http.ResponseWriter, r *http.Request, reason string) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return
	}
	sayEnded(ws, reason)
}

func sayEnded(ws *websocket.Conn, reason string) {
	if b, err := (&wire.Msg{Type: wire.TypeEnd, Reason: reason}).Encode(); err == nil {
		wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		ws.Write(wctx, websocket.MessageText, b)
		cancel()
	}
	ws.Close(websocket.StatusNormalClosure, "")
}

// Viewer limits: pointer events per second (burst 2×), beyond which they
// are dropped.
const viewerPointRate = 5.0

func (h *Hub) readViewer(s *share, p *peer, ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-p.done; cancel() }()
	tokens, last := 2*viewerPointRate, time.Now()
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			reason := wire.ReasonStaffClosed
			if errors.Is(err, websocket.ErrMessageTooBig) {
				h.m.viewerBad.Inc()
				reason = wire.ReasonProtocol
			}
			h.end(s, reason, true, false)
			return
		}
		if typ != websocket.MessageText {
			h.m.viewerBad.Inc()
			h.end(s, wire.ReasonProtocol, true, true)
			return
		}
		m, err := wire.Decode(b)
		if err != nil {
			h.m.viewerBad.Inc()
			h.end(s, wire.ReasonProtocol, true, true)
			return
		}
		switch m.Type {
		case wire.TypeAck:
			h.ack(s, m.Seq)
		case wire.TypePoint:
			now := time.Now()
			tokens = min(2*viewerPointRate, tokens+now.Sub(last).Seconds()*viewerPointRate)
			last = now
			if tokens < 1 {
				h.m.pointsDropped.Inc()
				continue
			}
			tokens--
			h.point(s, m)
		case wire.TypeKeyframe:
			h.keyframe(s)
		case wire.TypeEnd:
			h.end(s, wire.ReasonStaffClosed, true, true)
			return
		default:
			h.m.viewerBad.Inc()
			h.end(s, wire.ReasonProtocol, true, true)
			return
		}
	}
}

// devConn is an agent's WebSocket.
type devConn struct {
	id    string
	p     *peer
	share *share // guarded by Hub.mu; nil while waiting with a code
	gone  bool   // guarded by Hub.mu: the WebSocket ended
}

// helloWait bounds how long an agent may take to say hello.
const helloWait = 10 * time.Second

func deviceError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
}

func (h *Hub) serveDevice(w http.ResponseWriter, r *http.Request) {
	id, err := h.cfg.DeviceAuth(r)
	if err != nil || id == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fleet"`)
		deviceError(w, http.StatusUnauthorized, "unauthorized", "send the device credential as Authorization: Bearer DEVICEID.SECRET")
		return
	}
	h.serveDeviceAs(w, r, id, true)
}

// serveDeviceAs serves the WebSocket of device id (authenticated by the
// caller): here, or, for an offer made on another replica (mayRelay),
// relayed to that one.
func (h *Hub) serveDeviceAs(w http.ResponseWriter, r *http.Request, id string, mayRelay bool) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return
	}
	if ws.Subprotocol() != wire.Subprotocol {
		ws.Close(websocket.StatusPolicyViolation, "subprotocol "+wire.Subprotocol+" required")
		return
	}
	ws.SetReadLimit(wire.MaxFrameBytes)
	hctx, hcancel := context.WithTimeout(context.Background(), helloWait)
	typ, b, err := ws.Read(hctx)
	hcancel()
	var hello *wire.Msg
	if err == nil && typ == websocket.MessageText {
		hello, err = wire.Decode(b)
	}
	if err != nil || hello == nil || hello.Type != wire.TypeHello {
		h.m.deviceBad.Inc()
		sayEnded(ws, wire.ReasonProtocol)
		return
	}
	if mayRelay && hello.Via == wire.ViaOffer && h.cfg.Directory != nil && wire.ValidShareID(hello.OfferID) && !h.isLocal(hello.OfferID) {
		dctx, cancel := context.WithTimeout(r.Context(), dirWait)
		rec, ok, err := h.cfg.Directory.Share(dctx, IDHash(hello.OfferID))
		cancel()
		if err == nil && ok && rec.Ended == "" && rec.DeviceID == id && rec.Replica != h.self() {
			h.relayDevice(ws, rec.Replica, id, b)
			return
		}
	}
	d := &devConn{id: id}
	d.p = newPeer(ws, 0, func() { h.deviceGone(d) })
	go d.p.run(h.cfg.Ping)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-d.p.done; cancel() }()
	if err := h.hello(d, hello); err != nil {
		d.p.end(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonExpired})
		return
	}
	h.readDevice(ctx, d, ws)
}

// hello registers a waiting code (in the Directory too) or attaches an
// offered share.
func (h *Hub) hello(d *devConn, m *wire.Msg) error {
	now := h.cfg.Now()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return errors.New("closing")
	}
	switch m.Via {
	case wire.ViaCode:
		exp := time.UnixMilli(m.CodeExpiresMs)
		if limit := now.Add(wire.CodeTTL); exp.After(limit) {
			exp = limit
		}
		if !now.Before(exp) {
			h.mu.Unlock()
			return errors.New("code expired")
		}
		if old := h.waiting[d.id]; old != nil {
			old.dev.p.end(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonExpired})
		}
		h.waiting[d.id] = &waiting{device: d.id, hash: m.CodeHash, salt: m.CodeSalt, expires: exp, dev: d}
		h.mu.Unlock()
		h.m.waiting.Inc()
		if h.cfg.Directory != nil {
			ctx, cancel := context.WithTimeout(context.Background(), dirWait)
			defer cancel()
			if err := h.cfg.Directory.PutCode(ctx, d.id, m.CodeHash, m.CodeSalt, exp); err != nil {
				h.log.WithError(err).Warn("assist: could not record a help code for the other replicas")
				h.dropWaiting(d)
				return err
			}
		}
		return nil
	case wire.ViaOffer:
		defer h.mu.Unlock()
		s := h.shares[m.OfferID]
		if s == nil || s.ended || s.device != d.id || s.state != wire.StateWaitingDevice {
			return ErrNoShare
		}
		h.attachLocked(s, d, now)
		return nil
	}
	h.mu.Unlock()
	return errors.New("unknown via")
}

func (h *Hub) readDevice(ctx context.Context, d *devConn, ws *websocket.Conn) {
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				h.m.deviceBad.Inc()
				h.endDevice(d, wire.ReasonProtocol)
				return
			}
			h.deviceGone(d)
			return
		}
		h.mu.Lock()
		s := d.share
		h.mu.Unlock()
		if typ == websocket.MessageBinary {
			if s == nil {
				h.m.dropped.Inc()
				continue
			}
			seq, key, err := wire.PeekHeader(b)
			if err == nil {
				_, err = wire.ParseFrame(b)
			}
			if err != nil || h.frame(s, b, seq, key) {
				h.m.deviceBad.Inc()
				h.end(s, wire.ReasonProtocol, true, true)
				return
			}
			continue
		}
		m, err := wire.Decode(b)
		if err != nil {
			h.m.deviceBad.Inc()
			h.endDevice(d, wire.ReasonProtocol)
			return
		}
		switch {
		case m.Type == wire.TypeEnd && s == nil:
			h.dropWaiting(d)
			d.p.end(nil)
			return
		case m.Type == wire.TypeEnd:
			h.end(s, m.Reason, false, true)
			return
		case m.Type == wire.TypeConsent && s != nil:
			h.consent(s, m.Granted)
		}
	}
}

// endDevice ends whatever d has (share or waiting code) with reason.
func (h *Hub) endDevice(d *devConn, reason string) {
	h.mu.Lock()
	d.gone = true
	s := d.share
	h.mu.Unlock()
	if s != nil {
		h.end(s, reason, true, true)
		return
	}
	h.dropWaiting(d)
	d.p.end(&wire.Msg{Type: wire.TypeEnd, Reason: reason})
}

// deviceGone: the agent's WebSocket closed or stopped answering.
func (h *Hub) deviceGone(d *devConn) {
	h.mu.Lock()
	d.gone = true
	s := d.share
	h.mu.Unlock()
	if s != nil {
		h.end(s, wire.ReasonAgentGone, false, true)
		return
	}
	h.dropWaiting(d)
	d.p.end(nil)
}

func (h *Hub) dropWaiting(d *devConn) {
	h.mu.Lock()
	d.gone = true
	w := h.waiting[d.id]
	mine := w != nil && w.dev == d
	if mine {
		delete(h.waiting, d.id)
	}
	h.mu.Unlock()
	if mine {
		h.dropCode(d.id, w.hash)
	}
}
