package volunteer

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"accesskiosk/kiosk/bus"
)

// Script messages the volunteer screens (kiosk://volunteer...) post to the
// shell's "kiosk" message handler, as JSON objects with an "action":
//
//	{"action":"volunteer_unlock","entry":"2580"}             the PIN pad's Unlock
//	{"action":"volunteer_service","category":"council_tax"}  a service in the picker
//	{"action":"volunteer_handover"}                          Hand over: show the outcome screen
//	{"action":"volunteer_outcome","category":"…","outcome":"…"}  the two taps ("" = skipped); ends the session
//	{"action":"volunteer_resume"}                            back from the outcome screen to the session
const (
	ActionUnlock   = "volunteer_unlock"
	ActionService  = "volunteer_service"
	ActionHandover = "volunteer_handover"
	ActionOutcome  = "volunteer_outcome"
	ActionResume   = "volunteer_resume"
	actionPrefix   = "volunteer_"
	maxMessage     = 512
)

// Message is one decoded script message for volunteer mode.
type Message struct {
	Action   string `json:"action"`
	Entry    string `json:"entry,omitempty"`
	Category string `json:"category,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
}

// ErrNotVolunteer says a script message is not for volunteer mode (the
// shell handles it itself).
var ErrNotVolunteer = errors.New("not a volunteer message")

// ParseMessage decodes a script message. It returns ErrNotVolunteer for a
// well-formed message whose action is not a volunteer one, and an error for
// anything malformed or oversized.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	if len(b) > maxMessage {
		return m, errors.New("volunteer message too long")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errors.New("volunteer message: not a JSON object")
	}
	if !strings.HasPrefix(m.Action, actionPrefix) {
		return m, ErrNotVolunteer
	}
	return m, nil
}

// Reply says what the shell does after a message. Zero fields mean "leave
// as is".
type Reply struct {
	// Main is a kiosk:// URL to load in the main view.
	Main string
	// Panel is a kiosk:// URL to show in the guide panel (opening it).
	Panel string
	// Assisted is true when this message started an assisted session: show
	// the indicator and use IdleTimeout from now on.
	Assisted    bool
	IdleTimeout time.Duration
	// End is true when the session should end now, with reason
	// bus.ReasonHandover and the normal full wipe; fill the receipt with
	// Assist.Finish.
	End bool
}

// Assist is volunteer mode's state for one kiosk: whether the current
// session is assisted, the service picked, and the outcome screen's taps.
// The shell calls Handle for each volunteer message, Finish when any
// session ends, and Active for its idle timer. Safe for concurrent use.
type Assist struct {
	cfg  *Config
	gate *Gate

	mu         sync.Mutex
	active     bool
	picked     string // category picked in the service picker
	category   string // the outcome screen's taps
	outcome    string
	outcomeSet bool
}

// NewAssist makes the state for cfg (validated) with its Gate.
func NewAssist(cfg *Config, gate *Gate) *Assist { return &Assist{cfg: cfg, gate: gate} }

// Gate is the unlock gate (for one-time codes from the agent: Gate().AddCode).
func (a *Assist) Gate() *Gate { return a.gate }

// Active reports whether the current session is assisted, and its idle timeout.
func (a *Assist) Active() (bool, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.active, a.cfg.IdleTimeout()
}

// Handle acts on one message. An error means the message was refused
// (unknown action, or not valid in this state); the shell logs the error's
// text, which never includes what was entered.
func (a *Assist) Handle(m Message) (Reply, error) {
	switch m.Action {
	case ActionUnlock:
		return a.unlock(m.Entry), nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.active {
		return Reply{}, errors.New("volunteer: " + m.Action + " outside an assisted session")
	}
	switch m.Action {
	case ActionService:
		cat, ok := a.cfg.Category(m.Category)
		if !ok {
			return Reply{}, errors.New("volunteer: unknown service category")
		}
		a.picked = cat.ID
		if cat.Guide == "" {
			return Reply{Panel: "kiosk://guides?panel=1"}, nil
		}
		return Reply{Panel: "kiosk://guides/" + cat.Guide + "?panel=1"}, nil
	case ActionHandover:
		q := url.Values{}
		if a.picked != "" {
			q.Set("category", a.picked)
		}
		return Reply{Main: withQuery("kiosk://volunteer/outcome", q)}, nil
	case ActionResume:
		return Reply{Main: "kiosk://home", Panel: "kiosk://volunteer/services?panel=1"}, nil
	case ActionOutcome:
		var r bus.Receipt
		dropped := a.cfg.Receipt(&r, End{Assisted: true, Category: m.Category, Outcome: m.Outcome})
		if len(dropped) > 0 {
			return Reply{}, errors.New("volunteer: outcome screen sent " + strings.Join(dropped, " and ") + " not in the vocabulary")
		}
		a.category, a.outcome, a.outcomeSet = r.Category, r.Outcome, true
		return Reply{End: true}, nil
	}
	return Reply{}, errors.New("volunteer: unknown action")
}

func (a *Assist) unlock(entry string) Reply {
	a.mu.Lock()
	if a.active {
		a.mu.Unlock()
		return Reply{Main: "kiosk://home", Panel: "kiosk://volunteer/services?panel=1"}
	}
	a.mu.Unlock()
	_, err := a.gate.Unlock(entry)
	if err == nil {
		a.mu.Lock()
		a.active, a.picked, a.category, a.outcome, a.outcomeSet = true, "", "", "", false
		a.mu.Unlock()
		return Reply{Main: "kiosk://home", Panel: "kiosk://volunteer/services?panel=1", Assisted: true, IdleTimeout: a.cfg.IdleTimeout()}
	}
	return Reply{Main: UnlockPageURL(a.gate.State(), err)}
}

// UnlockPageURL is the PIN page showing the result of a failed attempt.
func UnlockPageURL(st State, err error) string {
	q := url.Values{}
	switch {
	case st.Locked || errors.Is(err, ErrLocked):
		q.Set("state", "locked")
		q.Set("minutes", strconv.Itoa(max(st.Minutes(), 1)))
	case errors.Is(err, ErrNoUnlock):
		q.Set("state", "unavailable")
	case err != nil:
		q.Set("state", "wrong")
		q.Set("left", strconv.Itoa(st.AttemptsLeft))
	}
	return withQuery("kiosk://volunteer", q)
}

func withQuery(u string, q url.Values) string {
	if e := q.Encode(); e != "" {
		return u + "?" + e
	}
	return u
}

// Finish is called for every session end, whatever the reason: it fills
// r's Assisted, Category and Outcome (identifiers from the vocabulary only)
// and resets volunteer mode, so the next session starts unassisted.
func (a *Assist) Finish(r *bus.Receipt) {
	a.mu.Lock()
	e := End{Assisted: a.active}
	if a.outcomeSet {
		e.Category, e.Outcome = a.category, a.outcome
	}
	a.active, a.picked, a.category, a.outcome, a.outcomeSet = false, "", "", "", false
	a.mu.Unlock()
	a.cfg.Receipt(r, e)
}
