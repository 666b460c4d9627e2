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
//
// With several fleet replicas on one PostgreSQL (Config.Directory and
// Config.Replicas), a share lives on the replica holding its agent's
// WebSocket (its home); the database says which replica that is for each
// waiting help code and each share. A code claimed on another replica is
// handed to the home over the replicas' internal hop, and an agent or
// viewer WebSocket reaching another replica is relayed there, message by
// message, over mutually authenticated TLS pinned to the certificate the
// replicas share (replica.go). Claim limits are counted in the shared
// throttle (Config.Throttle), so they hold across replicas.
package assist

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/fleet/server/throttle"
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
	// Throttle counts the staff's wrong help codes (nil: this process's
	// memory); with several replicas, the shared one, so the limits hold
	// across them.
	Throttle throttle.State
	// Directory is where replicas record which of them holds each waiting
	// code and each share (nil: one server, everything in memory). It
	// needs Replicas.
	Directory Directory
	// Replicas is the hop to the other replicas (nil with no Directory).
	Replicas *Replicas
}

// Directory is remote help's shared state on PostgreSQL (fleet/store's
// AssistDirectory behind fleet/shared): a share is named by the SHA-256
// of its id (IDHash), never by the id.
type Directory interface {
	// Replica is this replica's internal address.
	Replica() string
	// PutCode records that device waits with a code here until expires.
	PutCode(ctx context.Context, device string, hash, salt []byte, expires time.Time) error
	// DropCode forgets device's code with hash if it waits here.
	DropCode(ctx context.Context, device string, hash []byte) error
	// Codes returns every code not expired at now, wherever it waits.
	Codes(ctx context.Context, now time.Time) ([]DirCode, error)
	// PutShare records a new live share here; ErrBusy when the kiosk has
	// one already on any replica.
	PutShare(ctx context.Context, idHash, device, staff string, expires time.Time) error
	// EndShare records how a share of this replica ended.
	EndShare(ctx context.Context, idHash, reason string) error
	// Share returns a share (ok false: none, or long gone).
	Share(ctx context.Context, idHash string) (sh DirShare, ok bool, err error)
	// Home returns the replica of device's live share (sharing) or else
	// of its waiting code; ok false when it has neither.
	Home(ctx context.Context, device string) (replica string, sharing, ok bool, err error)
	// Forget ends this replica's shares with reason and drops its codes.
	Forget(ctx context.Context, reason string) error
	// Beat says this replica is running: the codes and shares of a
	// replica that has not beaten for 3 × BeatEvery count as gone.
	Beat(ctx context.Context) error
}

// BeatEvery is how often a hub with a Directory beats.
const BeatEvery = 10 * time.Second

// DirCode is a waiting code in the Directory.
type DirCode struct {
	DeviceID, Replica string
	Hash, Salt        []byte
}

// DirShare is a share in the Directory; Ended is its end reason ("" while live).
type DirShare struct {
	DeviceID, Staff, Replica, Ended string
}

// IDHash is how the Directory names a share.
func IDHash(shareID string) string {
	sum := sha256.Sum256([]byte(shareID))
	return hex.EncodeToString(sum[:])
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
	shares  map[string]*share    // by id, until ended
	byDev   map[string]*share    // the device's live share
	waiting map[string]*waiting  // help codes by device id
	gone    map[string]goneShare // recently ended, so a late viewer learns why
	closed  bool

	// life ends at Close: the WebSockets relayed to other replicas end with it.
	life      context.Context
	lifeDone  context.CancelFunc
	closeOnce sync.Once
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

// dirWait bounds each Directory call.
const dirWait = 5 * time.Second

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
	if cfg.Throttle == nil {
		cfg.Throttle = throttle.NewMemory(cfg.Now, 0)
	}
	if cfg.Directory != nil && cfg.Replicas == nil {
		return nil, errors.New("assist hub: a Directory needs Replicas (the internal hop between replicas)")
	}
	h := &Hub{cfg: cfg, log: cfg.Log.WithField("component", "assist"),
		shares: map[string]*share{}, byDev: map[string]*share{}, waiting: map[string]*waiting{},
		gone: map[string]goneShare{}}
	h.life, h.lifeDone = context.WithCancel(context.Background())
	var err error
	if h.m, err = newMetrics(cfg.Registerer, h); err != nil {
		return nil, err
	}
	if cfg.Directory != nil {
		// What this replica held before it stopped went with it.
		ctx, cancel := context.WithTimeout(context.Background(), dirWait)
		defer cancel()
		if err := cfg.Directory.Forget(ctx, wire.ReasonFleetGone); err != nil {
			return nil, err
		}
		if err := cfg.Directory.Beat(ctx); err != nil {
			return nil, err
		}
		go h.beat()
	}
	return h, nil
}

// beat tells the other replicas this one runs, until Close.
func (h *Hub) beat() {
	t := time.NewTicker(BeatEvery)
	defer t.Stop()
	for {
		select {
		case <-h.life.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(h.life, dirWait)
			if err := h.cfg.Directory.Beat(ctx); err != nil && h.life.Err() == nil {
				h.log.WithError(err).Warn("assist: heartbeat to the other replicas failed")
			}
			cancel()
		}
	}
}

// Close ends every share (shutdown) and refuses new ones.
//
// It may be called more than once; every call returns when the first has
// finished (the server closes its store after).
func (h *Hub) Close() {
	h.closeOnce.Do(h.close)
}

func (h *Hub) close() {
	defer h.lifeDone()
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
	if h.cfg.Directory != nil {
		ctx, cancel := context.WithTimeout(context.Background(), dirWait)
		defer cancel()
		if err := h.cfg.Directory.Forget(ctx, wire.ReasonShutdown); err != nil {
			h.log.WithError(err).Warn("assist: could not clear this replica's codes and shares")
		}
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
// a minute (token buckets in Config.Throttle, shared by every replica).
// 10^6 codes, 10 minutes each: at most 55 guesses in a code's life per
// user.
const (
	claimsPerUser  = 5
	claimsPerFleet = 30
)

var (
	claimUserRule  = throttle.Rule{Rate: claimsPerUser / 60.0, Burst: claimsPerUser}
	claimFleetRule = throttle.Rule{Rate: claimsPerFleet / 60.0, Burst: claimsPerFleet}
)

func claimUserKey(staff string) string { return "assist-code:user:" + staff }

const claimFleetKey = "assist-code:fleet"

// takeTry takes a try from staff's bucket and the fleet's; false when
// either is empty.
func (h *Hub) takeTry(ctx context.Context, staff string) (bool, error) {
	ok, _, err := h.cfg.Throttle.Take(ctx, claimUserKey(staff), claimUserRule, 1)
	if err != nil || !ok {
		return false, err
	}
	ok, _, err = h.cfg.Throttle.Take(ctx, claimFleetKey, claimFleetRule, 1)
	if err != nil || !ok {
		h.cfg.Throttle.Take(ctx, claimUserKey(staff), claimUserRule, -1)
		return false, err
	}
	return true, nil
}

// giveTryBack returns a right code's try: only wrong codes count.
func (h *Hub) giveTryBack(ctx context.Context, staff string) {
	h.cfg.Throttle.Take(ctx, claimUserKey(staff), claimUserRule, -1)
	h.cfg.Throttle.Take(ctx, claimFleetKey, claimFleetRule, -1)
}

// self is this replica's internal address ("" with one server).
func (h *Hub) self() string {
	if h.cfg.Directory == nil {
		return ""
	}
	return h.cfg.Directory.Replica()
}

// findCode returns the kiosk waiting with code and the replica holding
// its WebSocket. Every waiting code is compared, so the time does not say
// how many there are before the match.
func (h *Hub) findCode(ctx context.Context, code string, now time.Time) (device, replica string, hash []byte, err error) {
	if !wire.ValidCode(code) {
		return "", "", nil, nil
	}
	if h.cfg.Directory == nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, w := range h.waiting {
			if now.Before(w.expires) && hmac.Equal(wire.CodeHash(w.salt, code), w.hash) && device == "" {
				device, hash = w.device, w.hash
			}
		}
		return device, "", hash, nil
	}
	dctx, cancel := context.WithTimeout(ctx, dirWait)
	defer cancel()
	codes, err := h.cfg.Directory.Codes(dctx, now)
	if err != nil {
		return "", "", nil, err
	}
	for _, c := range codes {
		if hmac.Equal(wire.CodeHash(c.Salt, code), c.Hash) && device == "" {
			device, replica, hash = c.DeviceID, c.Replica, c.Hash
		}
	}
	return device, replica, hash, nil
}

// ClaimCode is staff entering a help code a resident read out: the kiosk
// waiting with that code is asked for consent and the new share's id is
// returned (the console opens the viewer on it). With replicas, the code
// may wait on another one: the claim is handed to it.
func (h *Hub) ClaimCode(ctx context.Context, staff, code string) (shareID, deviceID string, err error) {
	if !h.cfg.MayAssist(ctx, staff) {
		return "", "", ErrForbidden
	}
	now := h.cfg.Now()
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return "", "", ErrNotWaiting
	}
	ok, err := h.takeTry(ctx, staff)
	if err != nil {
		return "", "", fmt.Errorf("count help code tries: %w", err)
	}
	if !ok {
		h.m.claims.WithLabelValues("rate_limited").Inc()
		return "", "", ErrRateLimit
	}
	device, replica, hash, err := h.findCode(ctx, code, now)
	if err != nil {
		return "", "", fmt.Errorf("find help code: %w", err)
	}
	if device == "" {
		h.m.claims.WithLabelValues("wrong").Inc()
		return "", "", ErrBadCode
	}
	h.giveTryBack(ctx, staff)
	if replica == "" || replica == h.self() {
		shareID, err = h.claimDevice(ctx, staff, device, hash)
	} else {
		shareID, err = h.cfg.Replicas.claim(ctx, replica, staff, device, hash)
	}
	if err != nil {
		return "", "", err
	}
	h.m.claims.WithLabelValues("ok").Inc()
	return shareID, device, nil
}

// claimDevice makes a share for the kiosk waiting here with the code
// whose hash matched (here or on the replica where staff typed it): a
// code the kiosk has replaced since is not claimed.
func (h *Hub) claimDevice(ctx context.Context, staff, device string, hash []byte) (string, error) {
	now := h.cfg.Now()
	h.mu.Lock()
	w := h.waiting[device]
	if h.closed || w == nil || !now.Before(w.expires) || !hmac.Equal(w.hash, hash) {
		h.mu.Unlock()
		return "", ErrBadCode
	}
	if _, busy := h.byDev[device]; busy {
		h.mu.Unlock()
		return "", ErrBusy
	}
	delete(h.waiting, device)
	h.mu.Unlock()
	return h.startShare(ctx, staff, device, wire.ViaCode, w, now)
}

// startShare records a new share (in the Directory first: one live share
// per kiosk across replicas) and attaches w's WebSocket to it, or, with w
// nil, has OnOffer get its id to the kiosk's agent. w was taken out of
// h.waiting by the caller and is put back if the share cannot start.
func (h *Hub) startShare(ctx context.Context, staff, device, via string, w *waiting, now time.Time) (string, error) {
	id := newShareID()
	putBack := func() {
		if w == nil {
			return
		}
		h.mu.Lock()
		if h.waiting[device] == nil && !h.closed && !w.dev.gone {
			h.waiting[device] = w
		}
		h.mu.Unlock()
	}
	if err := h.putShare(ctx, id, staff, device, now); err != nil {
		putBack()
		return "", err
	}
	h.mu.Lock()
	_, busy := h.byDev[device]
	switch {
	case h.closed || (w != nil && w.dev.gone):
		h.mu.Unlock()
		h.dirEnd(id, wire.ReasonAgentGone)
		return "", ErrNotWaiting
	case busy:
		h.mu.Unlock()
		h.dirEnd(id, wire.ReasonExpired)
		putBack()
		return "", ErrBusy
	}
	s := h.newShareLocked(id, staff, device, via, now)
	if w != nil {
		h.attachLocked(s, w.dev, now)
		h.mu.Unlock()
		h.dropCode(device, w.hash)
		h.started(s)
		return s.id, nil
	}
	h.mu.Unlock()
	if err := h.cfg.OnOffer(ctx, staff, device, s.id); err != nil {
		h.end(s, wire.ReasonExpired, false, false)
		return "", fmt.Errorf("offer help to %s: %w", device, err)
	}
	h.started(s)
	return s.id, nil
}

// putShare records share id in the Directory (nothing with one server).
func (h *Hub) putShare(ctx context.Context, id, staff, device string, now time.Time) error {
	if h.cfg.Directory == nil {
		return nil
	}
	// No share outlives all its waits and the time limit.
	exp := now.Add(h.cfg.OfferTTL + h.cfg.ConsentWait + h.cfg.TimeLimit + h.cfg.ViewerWait)
	dctx, cancel := context.WithTimeout(ctx, dirWait)
	defer cancel()
	if err := h.cfg.Directory.PutShare(dctx, IDHash(id), device, staff, exp); err != nil {
		if errors.Is(err, ErrBusy) {
			return ErrBusy
		}
		return fmt.Errorf("record share: %w", err)
	}
	return nil
}

// dirEnd records in the Directory how share id ended.
func (h *Hub) dirEnd(id, reason string) {
	if h.cfg.Directory == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dirWait)
	defer cancel()
	if err := h.cfg.Directory.EndShare(ctx, IDHash(id), reason); err != nil {
		h.log.WithError(err).Warn("assist: could not record a share's end for the other replicas")
	}
}

// dropCode forgets device's code with hash in the Directory (not a newer
// one the kiosk has shown since).
func (h *Hub) dropCode(device string, hash []byte) {
	if h.cfg.Directory == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dirWait)
	defer cancel()
	if err := h.cfg.Directory.DropCode(ctx, device, hash); err != nil {
		h.log.WithError(err).Warn("assist: could not drop a help code for the other replicas")
	}
}

// Offer is staff pressing Offer help on a kiosk. When the kiosk's agent is
// connected (its resident asked already), the offer goes at once (handed
// to the replica holding its WebSocket); otherwise OnOffer gets the share
// id to the agent, which dials in with it within OfferTTL.
func (h *Hub) Offer(ctx context.Context, staff, deviceID string) (shareID string, err error) {
	if !h.cfg.MayAssist(ctx, staff) {
		return "", ErrForbidden
	}
	if h.cfg.Directory != nil {
		dctx, cancel := context.WithTimeout(ctx, dirWait)
		home, sharing, ok, err := h.cfg.Directory.Home(dctx, deviceID)
		cancel()
		switch {
		case err != nil:
			return "", fmt.Errorf("offer help to %s: %w", deviceID, err)
		case ok && sharing:
			return "", ErrBusy
		case ok && home != h.self():
			return h.cfg.Replicas.offer(ctx, home, staff, deviceID)
		}
	}
	return h.offerHere(ctx, staff, deviceID)
}

// offerHere is Offer on the replica holding the kiosk's waiting
// WebSocket, or, when it has none, on the replica staff reached.
func (h *Hub) offerHere(ctx context.Context, staff, deviceID string) (string, error) {
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
	} else {
		w = nil
	}
	h.mu.Unlock()
	if w == nil && h.cfg.OnOffer == nil {
		return "", ErrNotWaiting
	}
	return h.startShare(ctx, staff, deviceID, wire.ViaOffer, w, now)
}

func (h *Hub) started(s *share) {
	h.m.started.WithLabelValues(s.via).Inc()
	h.log.WithFields(logrus.Fields{"staff": s.staff, "device": s.device, "via": s.via}).Info("assist: help requested")
	h.cfg.Audit(Event{Action: "assist.start", Staff: s.staff, DeviceID: s.device, ShareID: s.id, Via: s.via, Asked: s.created})
}

// ShareOf returns the device and staff of a live share, for the console's
// page (only its staff user may view it); for a share that ended in the
// last two minutes, deviceID is "" and ended says how it ended. With
// replicas, a share of another replica is found in the Directory.
func (h *Hub) ShareOf(ctx context.Context, id string) (deviceID, staff, ended string, err error) {
	h.mu.Lock()
	if s := h.shares[id]; s != nil {
		h.mu.Unlock()
		return s.device, s.staff, "", nil
	}
	if g, ok := h.gone[id]; ok && h.cfg.Now().Sub(g.at) < goneKeep {
		h.mu.Unlock()
		return "", g.staff, g.reason, nil
	}
	h.mu.Unlock()
	if h.cfg.Directory == nil || !wire.ValidShareID(id) {
		return "", "", "", ErrNoShare
	}
	dctx, cancel := context.WithTimeout(ctx, dirWait)
	defer cancel()
	rec, ok, err := h.cfg.Directory.Share(dctx, IDHash(id))
	if err != nil {
		return "", "", "", err
	}
	if !ok {
		return "", "", "", ErrNoShare
	}
	if rec.Ended != "" {
		return "", rec.Staff, rec.Ended, nil
	}
	return rec.DeviceID, rec.Staff, "", nil
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
