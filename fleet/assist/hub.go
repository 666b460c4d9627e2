// Package assist is the fleet's part of remote help (issue 17): an
// in-memory hub that pairs one kiosk's stream (through its agent's
// WebSocket) with one staff member's viewer in the console, relays frames
// between them in memory only, and ends the share on the time limit, the
// staff closing the page, the kiosk or agent going away, or the resident
// stopping it.
//
// Nothing a share carries is stored or logged: frames pass through bounded
// channels and are dropped, never queued, when a viewer is slow. What is
// kept is what the audit log and /metrics need: who (staff user), which
// kiosk, when it started and ended, and how it ended.
//
// The server plugs in its own authentication and permission (Config's
// DeviceAuth, StaffAuth, MayAssist), its audit log (Audit) and, for "Offer
// help" to a kiosk that has not asked, a way to reach the agent (OnOffer:
// a command the agent picks up). Wiring left for fleet/server and
// fleet/console: mount DeviceHandler at wire.PathDevice and
// ConsoleHandler under /assist/, pass the callbacks, add the code form
// and the Offer help button to the console's pages.
package assist

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
)

// Config configures a Hub. DeviceAuth, StaffAuth and Log are required.
type Config struct {
	// DeviceAuth authenticates an agent's request (the device API's bearer
	// credential) and returns the device id. An error means 401.
	DeviceAuth func(r *http.Request) (deviceID string, err error)
	// StaffAuth authenticates a console request (the session cookie) and
	// returns the staff user's name. An error means 401.
	StaffAuth func(r *http.Request) (staff string, err error)
	// MayAssist says whether a staff user has the assist permission; nil
	// means nobody has it.
	MayAssist func(ctx context.Context, staff string) bool
	// OnOffer is called when staff offer help to a kiosk that has no
	// waiting request: it must get the share id to the device's agent
	// (a command), which then dials in with it. nil: such offers fail with
	// ErrNotWaiting.
	OnOffer func(ctx context.Context, staff, deviceID, shareID string) error
	// Audit receives an event when a share starts (staff asked) and when
	// it ends; nil means none. Called without locks held, from the hub's
	// goroutines: hand it to the store and return.
	Audit func(Event)
	// Registerer receives the hub's metrics; nil means none.
	Registerer prometheus.Registerer
	Log        logrus.FieldLogger
	// TimeLimit ends a share this long after the resident allowed it
	// (0 or more than wire.TimeLimit: wire.TimeLimit).
	TimeLimit time.Duration
	// OfferTTL is how long an offer waits for the kiosk's agent to dial in
	// (0: 2 minutes); ConsentWait how long for the resident's answer
	// (0: 2.5 minutes, the kiosk's own prompt gives up after 2).
	OfferTTL, ConsentWait time.Duration
	// ViewerWait ends a share whose viewer has not connected (or has
	// gone) for this long (0: 1 minute).
	ViewerWait time.Duration
	// Ping is how often both WebSockets are pinged (0: 15 s).
	Ping time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Event is an audit record: who, which kiosk, when and how it ended.
// Never anything that was seen.
type Event struct {
	// Action is "assist.start" (staff claimed a code or offered help) or
	// "assist.end".
	Action   string
	Staff    string
	DeviceID string
	ShareID  string
	Via      string // wire.ViaCode or wire.ViaOffer
	Asked    time.Time
	Started  time.Time // the resident allowed; zero if never
	Ended    time.Time // assist.end only
	Reason   string    // assist.end only: a wire.Reason*
}

// Detail is the event as one line for an audit log's detail column.
func (e Event) Detail() string {
	if e.Action == "assist.start" {
		return fmt.Sprintf("Remote help requested via %s (share %s)", e.Via, e.ShareID[:8])
	}
	shared := "not shared"
	if !e.Started.IsZero() {
		shared = "shared " + e.Ended.Sub(e.Started).Round(time.Second).String()
	}
	return fmt.Sprintf("Remote help ended: %s, %s (via %s, share %s)", e.Reason, shared, e.Via, e.ShareID[:8])
}

// Errors of Offer and ClaimCode.
var (
	ErrForbidden  = errors.New("this staff user may not give remote help")
	ErrBadCode    = errors.New("no kiosk is waiting with that help code")
	ErrRateLimit  = errors.New("too many help codes tried; wait a minute")
	ErrBusy       = errors.New("that kiosk is already sharing its screen")
	ErrNotWaiting = errors.New("that kiosk has not asked for help and cannot be reached now")
	ErrNoShare    = errors.New("no such share")
)

// Hub pairs kiosks and viewers. Its zero value is not usable: use New.
type Hub struct {
	cfg Config
	log logrus.FieldLogger
	m   *metrics

	mu      sync.Mutex
	shares  map[string]*share   // by id, until ended
	byDev   map[string]*share   // the device's live share
	waiting map[string]*waiting // help codes by device id
	tries   map[string][]time.Time
	gone    map[string]goneShare // recently ended, so a late viewer learns why
	closed  bool
}

// goneShare is what is kept of an ended share for goneKeep: its staff
// user and how it ended (a viewer page that connects after the end says
// why, instead of only "not found").
type goneShare struct {
	staff, reason string
	at            time.Time
}

const (
	goneKeep = 2 * time.Minute
	goneMax  = 1024
)

// waiting is a kiosk whose resident asked for help: its code's hash and
// the device's WebSocket, until staff claim it or it expires.
type waiting struct {
	device  string
	hash    []byte
	salt    []byte
	expires time.Time
	dev     *devConn
}

// New makes a hub.
func New(cfg Config) (*Hub, error) {
	if cfg.DeviceAuth == nil || cfg.StaffAuth == nil || cfg.Log == nil {
		return nil, errors.New("assist hub: DeviceAuth, StaffAuth and Log are required")
	}
	if cfg.MayAssist == nil {
		cfg.MayAssist = func(context.Context, string) bool { return false }
	}
	if cfg.Audit == nil {
		cfg.Audit = func(Event) {}
	}
	if cfg.TimeLimit <= 0 || cfg.TimeLimit > wire.TimeLimit {
		cfg.TimeLimit = wire.TimeLimit
	}
	if cfg.OfferTTL <= 0 {
		cfg.OfferTTL = 2 * time.Minute
	}
	if cfg.ConsentWait <= 0 {
		cfg.ConsentWait = 150 * time.Second
	}
	if cfg.ViewerWait <= 0 {
		cfg.ViewerWait = time.Minute
	}
	if cfg.Ping <= 0 {
		cfg.Ping = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Hub{cfg: cfg, log: cfg.Log.WithField("component", "assist"),
		shares: map[string]*share{}, byDev: map[string]*share{}, waiting: map[string]*waiting{}, tries: map[string][]time.Time{},
		gone: map[string]goneShare{}}
	var err error
	if h.m, err = newMetrics(cfg.Registerer, h); err != nil {
		return nil, err
	}
	return h, nil
}

// Close ends every share (shutdown) and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	all := make([]*share, 0, len(h.shares))
	for _, s := range h.shares {
		all = append(all, s)
	}
	ws := make([]*waiting, 0, len(h.waiting))
	for _, w := range h.waiting {
		ws = append(ws, w)
	}
	clear(h.waiting)
	h.mu.Unlock()
	for _, s := range all {
		h.end(s, wire.ReasonShutdown, true, true)
	}
	for _, w := range ws {
		w.dev.p.end(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonShutdown})
	}
}

// Active is how many shares are live (offered, asking or sharing).
func (h *Hub) Active() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.shares)
}

func newShareID() string {
	var b [wire.ShareIDLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Code-claim limits: per staff user and for the whole fleet, wrong codes
// in the last minute. 10^6 codes, 10 minutes each: at most 50 guesses in a
// code's life per user.
const (
	claimsPerUser   = 5
	claimsPerFleet  = 30
	claimRateWindow = time.Minute
)

func (h *Hub) rateOK(key string, limit int, now time.Time) bool {
	t := h.tries[key]
	i := 0
	for i < len(t) && now.Sub(t[i]) > claimRateWindow {
		i++
	}
	t = t[i:]
	h.tries[key] = t
	return len(t) < limit
}

func (h *Hub) failedTry(staff string, now time.Time) {
	h.tries[staff] = append(h.tries[staff], now)
	h.tries[""] = append(h.tries[""], now)
	if len(h.tries) > 10000 {
		clear(h.tries)
	}
}

// ClaimCode is staff entering a help code a resident read out: the kiosk
// waiting with that code is asked for consent and the new share's id is
// returned (the console opens the viewer on it).
func (h *Hub) ClaimCode(ctx context.Context, staff, code string) (shareID, deviceID string, err error) {
	if !h.cfg.MayAssist(ctx, staff) {
		return "", "", ErrForbidden
	}
	now := h.cfg.Now()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return "", "", ErrNotWaiting
	}
	if !h.rateOK(staff, claimsPerUser, now) || !h.rateOK("", claimsPerFleet, now) {
		h.mu.Unlock()
		h.m.claims.WithLabelValues("rate_limited").Inc()
		return "", "", ErrRateLimit
	}
	var found *waiting
	if wire.ValidCode(code) {
		for _, w := range h.waiting {
			// Every waiting code is compared, so the time does not say how many there are before the match.
			if now.Before(w.expires) && hmac.Equal(wire.CodeHash(w.salt, code), w.hash) && found == nil {
				found = w
			}
		}
	}
	if found == nil {
		h.failedTry(staff, now)
		h.mu.Unlock()
		h.m.claims.WithLabelValues("wrong").Inc()
		return "", "", ErrBadCode
	}
	if _, busy := h.byDev[found.device]; busy {
		h.mu.Unlock()
		return "", "", ErrBusy
	}
	delete(h.waiting, found.device)
	s := h.newShareLocked(staff, found.device, wire.ViaCode, now)
	h.attachLocked(s, found.dev, now)
	h.mu.Unlock()
	h.m.claims.WithLabelValues("ok").Inc()
	h.started(s)
	return s.id, s.device, nil
}

// Offer is staff pressing Offer help on a kiosk. When the kiosk's agent is
// connected (its resident asked already), the offer goes at once;
// otherwise OnOffer gets the share id to the agent, which dials in with
// it within OfferTTL.
func (h *Hub) Offer(ctx context.Context, staff, deviceID string) (shareID string, err error) {
	if !h.cfg.MayAssist(ctx, staff) {
		return "", ErrForbidden
	}
	now := h.cfg.Now()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return "", ErrNotWaiting
	}
	if _, busy := h.byDev[deviceID]; busy {
		h.mu.Unlock()
		return "", ErrBusy
	}
	w := h.waiting[deviceID]
	if w != nil && now.Before(w.expires) {
		delete(h.waiting, deviceID)
		s := h.newShareLocked(staff, deviceID, wire.ViaOffer, now)
		h.attachLocked(s, w.dev, now)
		h.mu.Unlock()
		h.started(s)
		return s.id, nil
	}
	if h.cfg.OnOffer == nil {
		h.mu.Unlock()
		return "", ErrNotWaiting
	}
	s := h.newShareLocked(staff, deviceID, wire.ViaOffer, now)
	h.mu.Unlock()
	if err := h.cfg.OnOffer(ctx, staff, deviceID, s.id); err != nil {
		h.end(s, wire.ReasonExpired, false, false)
		return "", fmt.Errorf("offer help to %s: %w", deviceID, err)
	}
	h.started(s)
	return s.id, nil
}

func (h *Hub) started(s *share) {
	h.m.started.WithLabelValues(s.via).Inc()
	h.log.WithFields(logrus.Fields{"staff": s.staff, "device": s.device, "via": s.via}).Info("assist: help requested")
	h.cfg.Audit(Event{Action: "assist.start", Staff: s.staff, DeviceID: s.device, ShareID: s.id, Via: s.via, Asked: s.created})
}

// ShareOf returns the device and staff of a live share, for the console's
// page (only its staff user may view it); for a share that ended in the
// last two minutes, deviceID is "" and ended says how it ended.
func (h *Hub) ShareOf(id string) (deviceID, staff, ended string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.shares[id]; s != nil {
		return s.device, s.staff, "", nil
	}
	if g, ok := h.gone[id]; ok && h.cfg.Now().Sub(g.at) < goneKeep {
		return "", g.staff, g.reason, nil
	}
	return "", "", "", ErrNoShare
}

// rememberLocked keeps how s ended for goneKeep.
func (h *Hub) rememberLocked(s *share, now time.Time) {
	for id, g := range h.gone {
		if now.Sub(g.at) >= goneKeep || len(h.gone) >= goneMax {
			delete(h.gone, id)
		}
	}
	h.gone[s.id] = goneShare{staff: s.staff, reason: s.reason, at: now}
}
