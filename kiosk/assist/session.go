package assist

import (
	"fmt"
	"time"

	"accesskiosk/fleet/assist/wire"
)

// State is where a share is.
type State int

// States, in order; a share only moves forward.
const (
	StateOffered State = iota + 1 // staff are waiting; the prompt is not up yet
	StateAsking                   // the consent prompt is on screen
	StateSharing                  // the resident tapped Allow; frames flow
	StateEnded
)

func (s State) String() string {
	switch s {
	case StateOffered:
		return "offered"
	case StateAsking:
		return "asking"
	case StateSharing:
		return "sharing"
	case StateEnded:
		return "ended"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ConsentTimeout is how long the prompt waits for a tap before the offer
// ends with wire.ReasonNoAnswer.
const ConsentTimeout = 2 * time.Minute

// Session is one share's state machine: offered → asking → sharing →
// ended, or ended from any state, once. It is pure: every method takes the
// time, and Tick applies the time limits. Not safe for concurrent use.
type Session struct {
	Via       string // wire.ViaCode or wire.ViaOffer
	state     State
	limit     time.Duration
	offered   time.Time
	asked     time.Time
	started   time.Time
	ended     time.Time
	reason    string
	frames    int
	bytes     int64
	dropped   int // the sharer's skipped count when sharing began
	pointsOK  int
	pointsBad int
}

// NewSession starts a share offered at now that will end limit after the
// resident allowed it (0 or more than wire.TimeLimit means wire.TimeLimit).
func NewSession(via string, now time.Time, limit time.Duration) *Session {
	if limit <= 0 || limit > wire.TimeLimit {
		limit = wire.TimeLimit
	}
	return &Session{Via: via, state: StateOffered, limit: limit, offered: now}
}

// State is the current state.
func (s *Session) State() State { return s.state }

// Reason is why it ended ("" until then).
func (s *Session) Reason() string { return s.reason }

// Ask records that the consent prompt is showing.
func (s *Session) Ask(now time.Time) error {
	if s.state != StateOffered {
		return fmt.Errorf("assist: ask consent in state %s", s.state)
	}
	s.state, s.asked = StateAsking, now
	return nil
}

// Allow records the resident's tap on Allow: sharing starts.
func (s *Session) Allow(now time.Time) error {
	if s.state != StateAsking {
		return fmt.Errorf("assist: allow in state %s", s.state)
	}
	s.state, s.started = StateSharing, now
	return nil
}

// End ends the share with reason (a wire.Reason*). It reports false when
// it had already ended (the first reason stands).
func (s *Session) End(now time.Time, reason string) bool {
	if s.state == StateEnded {
		return false
	}
	s.state, s.ended, s.reason = StateEnded, now, reason
	return true
}

// Tick ends the share when a limit has passed at now: the time limit while
// sharing, ConsentTimeout while offered or asking. It reports whether it
// ended it.
func (s *Session) Tick(now time.Time) bool {
	switch s.state {
	case StateSharing:
		if !now.Before(s.started.Add(s.limit)) {
			return s.End(now, wire.ReasonTimeLimit)
		}
	case StateOffered, StateAsking:
		if !now.Before(s.offered.Add(ConsentTimeout)) {
			return s.End(now, wire.ReasonNoAnswer)
		}
	}
	return false
}

// Deadline is when Tick next has something to do (zero when ended).
func (s *Session) Deadline() time.Time {
	switch s.state {
	case StateSharing:
		return s.started.Add(s.limit)
	case StateOffered, StateAsking:
		return s.offered.Add(ConsentTimeout)
	}
	return time.Time{}
}

// Summary is what a share leaves behind: counts and durations only, for
// the session's receipt (assist: true and the duration) and the logs.
type Summary struct {
	Via       string
	Reason    string
	Allowed   bool          // the resident tapped Allow
	Shared    time.Duration // Allow → end; 0 when never allowed
	Frames    int
	Bytes     int64
	Dropped   int // captures not sent because the link was busy
	Points    int // pointer rings drawn
	PointsBad int // pointer events refused (outside, too fast, garbage)
}

// Summary returns the share's counts so far.
func (s *Session) Summary() Summary {
	sum := Summary{Via: s.Via, Reason: s.reason, Frames: s.frames, Bytes: s.bytes, Dropped: s.dropped,
		Points: s.pointsOK, PointsBad: s.pointsBad, Allowed: !s.started.IsZero()}
	if !s.started.IsZero() {
		end := s.ended
		if end.IsZero() {
			end = time.Now()
		}
		sum.Shared = end.Sub(s.started)
	}
	return sum
}
