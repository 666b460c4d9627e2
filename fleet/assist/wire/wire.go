package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Endpoints.
//
//	GET PathDevice (WebSocket)      the agent, as its device ("Authorization:
//	                                Bearer DEVICEID.SECRET"), one per share
//	GET ViewerPath(share) (WebSocket)  the staff member's console page
//
// Text messages are one JSON Msg each (at most MaxControlBytes, unknown
// fields refused); binary messages are frames (frame.go), device → fleet →
// viewer only.
const (
	PathDevice = "/api/v1/assist/device"
	// Subprotocol is offered by both clients and required by the fleet.
	Subprotocol = "accesskiosk.assist.v1"
)

// ViewerPath is the viewer's WebSocket for share id.
func ViewerPath(share string) string { return "/assist/ws/" + share }

// Limits of the control channel.
const (
	// MaxControlBytes bounds a text message on every hop.
	MaxControlBytes = 4 << 10
	// MaxPointText bounds a pointer's note, in characters ("Tap Next").
	MaxPointText = 60
	// CodeLen is the number of digits of a help code.
	CodeLen = 6
	// CodeTTL is how long a help code stays valid.
	CodeTTL = 10 * time.Minute
	// TimeLimit ends every share.
	TimeLimit = 30 * time.Minute
	// Window is how many frames may be sent and not yet acknowledged by the
	// viewer, end to end. Every hop may drop frames beyond it.
	Window = 4
)

// Message types.
const (
	// agent → fleet, first message: Hello fields set.
	TypeHello = "hello"
	// fleet → agent: a staff member is waiting: ask the resident.
	TypeOffer = "offer"
	// agent → fleet: the resident's answer (Granted).
	TypeConsent = "consent"
	// viewer → fleet → agent → kiosk: frame Seq was drawn.
	TypeAck = "ack"
	// viewer → fleet → agent → kiosk: point at X, Y (frame pixels) with Text.
	TypePoint = "point"
	// fleet → agent → kiosk: send a key frame next (after a drop or a new viewer).
	TypeKeyframe = "keyframe"
	// any direction: the share is over (Reason).
	TypeEnd = "end"
	// fleet → viewer: the share's State changed.
	TypeState = "state"
)

// Share states as the viewer sees them (TypeState).
const (
	StateWaitingDevice  = "waiting_device"  // offered; the kiosk has not answered yet
	StateWaitingConsent = "waiting_consent" // the resident is being asked
	StateSharing        = "sharing"
)

// End reasons, the one vocabulary on every hop, in audit events and in
// metrics labels.
const (
	ReasonStop        = "stop"           // the resident pressed Stop sharing (or the keyboard's stop key)
	ReasonSessionEnd  = "session_end"    // the kiosk's session ended (any path: the wipe ends it first)
	ReasonTimeLimit   = "time_limit"     // TimeLimit passed
	ReasonStaffClosed = "staff_closed"   // the staff member closed the page or pressed Stop
	ReasonAgentGone   = "agent_gone"     // the agent went away (restart, crash) mid-share
	ReasonFleetGone   = "fleet_gone"     // the fleet went away (restart, network)
	ReasonKioskGone   = "kiosk_gone"     // the kiosk's side of the socket closed
	ReasonRefused     = "refused"        // the resident tapped No thanks
	ReasonNoAnswer    = "no_answer"      // nobody answered the consent prompt in time
	ReasonExpired     = "expired"        // the code or offer ran out before anyone joined
	ReasonProtocol    = "protocol_error" // a hop broke this contract (garbage, oversized, flood)
	ReasonShutdown    = "shutdown"       // a program is stopping
)

// Reasons lists every end reason (for metrics labels).
var Reasons = []string{ReasonStop, ReasonSessionEnd, ReasonTimeLimit, ReasonStaffClosed, ReasonAgentGone,
	ReasonFleetGone, ReasonKioskGone, ReasonRefused, ReasonNoAnswer, ReasonExpired, ReasonProtocol, ReasonShutdown}

// KnownReason reports whether r is in Reasons.
func KnownReason(r string) bool {
	for _, k := range Reasons {
		if r == k {
			return true
		}
	}
	return false
}

// Hello's Via: how the share began.
const (
	ViaCode  = "code"  // the resident asked for help and read out a code
	ViaOffer = "offer" // staff picked the kiosk and pressed Offer help
)

// Msg is every control message. Only the fields of its Type are set.
type Msg struct {
	Type string `json:"type"`

	// Hello (agent → fleet).
	Via string `json:"via,omitempty"`
	// OfferID is the share the console made for an offer (Via offer).
	OfferID string `json:"offer_id,omitempty"`
	// CodeHash and CodeSalt (base64 in JSON) identify the help code
	// (Via code): CodeHash = CodeHash(CodeSalt, code). The code itself never
	// leaves the kiosk's screen.
	CodeHash      []byte `json:"code_hash,omitempty"`
	CodeSalt      []byte `json:"code_salt,omitempty"`
	CodeExpiresMs int64  `json:"code_expires_unix_ms,omitempty"`

	Granted bool   `json:"granted,omitempty"` // consent
	Seq     uint32 `json:"seq,omitempty"`     // ack
	X       int    `json:"x,omitempty"`       // point
	Y       int    `json:"y,omitempty"`       // point
	Text    string `json:"text,omitempty"`    // point
	Reason  string `json:"reason,omitempty"`  // end
	State   string `json:"state,omitempty"`   // state
}

// Encode marshals m after Validate.
func (m *Msg) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// Decode reads one control message strictly (size, unknown fields,
// trailing data) and validates it.
func Decode(b []byte) (*Msg, error) {
	if len(b) > MaxControlBytes {
		return nil, fmt.Errorf("control message is %d bytes, at most %d", len(b), MaxControlBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Msg
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("control message is not valid JSON: %v", shortJSONError(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("control message has data after its JSON object")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func shortJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// Validate checks the fields of m's Type.
func (m *Msg) Validate() error {
	switch m.Type {
	case TypeHello:
		switch m.Via {
		case ViaOffer:
			if !ValidShareID(m.OfferID) {
				return fmt.Errorf("hello: offer_id must be %d lower-case hex digits", ShareIDLen)
			}
		case ViaCode:
			if len(m.CodeHash) != sha256.Size || len(m.CodeSalt) < 16 || len(m.CodeSalt) > 64 {
				return fmt.Errorf("hello: code_hash must be %d bytes and code_salt 16..64 bytes", sha256.Size)
			}
			if m.CodeExpiresMs <= 0 {
				return fmt.Errorf("hello: code_expires_unix_ms is required")
			}
		default:
			return fmt.Errorf("hello: via must be %q or %q", ViaCode, ViaOffer)
		}
	case TypeOffer, TypeKeyframe, TypeConsent:
	case TypeAck:
		if m.Seq == 0 {
			return fmt.Errorf("ack: seq is required")
		}
	case TypePoint:
		if m.X < 0 || m.Y < 0 || m.X >= MaxDimension || m.Y >= MaxDimension {
			return fmt.Errorf("point: x and y must be 0..%d", MaxDimension-1)
		}
		if !utf8.ValidString(m.Text) || utf8.RuneCountInString(m.Text) > MaxPointText {
			return fmt.Errorf("point: text must be UTF-8, at most %d characters", MaxPointText)
		}
	case TypeEnd:
		if !KnownReason(m.Reason) {
			return fmt.Errorf("end: unknown reason")
		}
	case TypeState:
		switch m.State {
		case StateWaitingDevice, StateWaitingConsent, StateSharing:
		default:
			return fmt.Errorf("state: unknown state")
		}
	default:
		return fmt.Errorf("unknown control message type")
	}
	return nil
}

// CleanText makes a pointer's note safe to draw: control characters,
// bidirectional overrides and other format characters are dropped, runs of
// space become one space, and it is cut to MaxPointText characters.
// Invalid UTF-8 becomes U+FFFD before that.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if n == MaxPointText {
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), r == unicode.ReplacementChar:
			continue
		}
		if space {
			if n+1 == MaxPointText {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// CodeHash is what a kiosk tells the fleet about its help code: an
// HMAC-SHA256 keyed with a fresh random salt per code. The fleet compares
// the code staff type with hmac.Equal(CodeHash(salt, typed), hash).
func CodeHash(salt []byte, code string) []byte {
	h := hmac.New(sha256.New, salt)
	h.Write([]byte("accesskiosk assist code v1\x00"))
	h.Write([]byte(code))
	return h.Sum(nil)
}

// ValidCode reports whether s has the shape of a help code (CodeLen digits).
func ValidCode(s string) bool {
	if len(s) != CodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ShareIDLen is the length of a share id: 128 random bits in hex.
const ShareIDLen = 32

// ValidShareID reports whether s is ShareIDLen lower-case hex digits.
func ValidShareID(s string) bool {
	if len(s) != ShareIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
