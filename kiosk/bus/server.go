package bus

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"accesskiosk/internal/ident"
)

// Error names returned to callers.
const (
	ErrorInvalidArgs = Interface + ".Error.InvalidArgs"
	ErrorFailed      = Interface + ".Error.Failed"
	// ErrorNotSupported: this kiosk does not implement the method (an
	// older shell, or one without volunteer mode).
	ErrorNotSupported = Interface + ".Error.NotSupported"
)

// MaxMessageLen bounds the text of ShowMessage, in characters.
const MaxMessageLen = 500

// MaxMessageSeconds bounds how long ShowMessage keeps a message up.
const MaxMessageSeconds = 3600

// Service is what the kiosk shell implements and Serve exports. Its methods
// are called on D-Bus goroutines, not the GTK thread: an implementation
// hands the work to its own loop and returns. Arguments have been checked
// against the contract before a method is called.
type Service interface {
	EndSession(reason string) error
	Status() Status
	// ShowMessage puts staff text on screen for seconds (never 0 here: Serve
	// turns 0 into DefaultMessageSeconds).
	ShowMessage(text string, seconds uint32) error
}

// VolunteerCodes is the optional part of the contract a Service may also
// implement: one-time volunteer codes issued from the fleet console. Serve
// exports AddVolunteerCode when the Service implements it and answers
// ErrorNotSupported otherwise, so older shells keep compiling and working.
type VolunteerCodes interface {
	// AddVolunteerCode accepts code (exactly VolunteerCodeLen ASCII digits)
	// for one unlock within seconds (1..MaxVolunteerCodeSeconds); both were
	// checked by Serve. Implementations must never log the code.
	AddVolunteerCode(code string, seconds uint32) error
}

// One-time volunteer codes, as AddVolunteerCode accepts them.
const (
	VolunteerCodeLen        = 8
	MaxVolunteerCodeSeconds = 900 // 15 minutes
)

// CheckVolunteerCode says what is wrong with a code and its lifetime for
// AddVolunteerCode, or nil. The error never contains the code.
func CheckVolunteerCode(code string, seconds uint32) error {
	if len(code) != VolunteerCodeLen {
		return fmt.Errorf("code must be exactly %d digits (got %d characters)", VolunteerCodeLen, utf8.RuneCountInString(code))
	}
	if !ident.VolunteerCode.Chars(code) {
		return fmt.Errorf("code must be exactly %d digits 0-9", VolunteerCodeLen)
	}
	if seconds < 1 || seconds > MaxVolunteerCodeSeconds {
		return fmt.Errorf("seconds must be 1 to %d (got %d)", MaxVolunteerCodeSeconds, seconds)
	}
	return nil
}

// DefaultMessageSeconds is how long a message stays when the caller says 0.
const DefaultMessageSeconds = 30

// Server is a Service exported on a bus under the well-known name.
type Server struct {
	conn *dbus.Conn
}

type exported struct{ svc Service }

func (e exported) EndSession(reason string) *dbus.Error {
	if reason == "" {
		reason = ReasonDBus
	}
	if !ValidReason(reason) {
		return dbus.NewError(ErrorInvalidArgs, []any{"reason must be 1-64 characters of a-z, 0-9 and _"})
	}
	if err := e.svc.EndSession(reason); err != nil {
		return dbus.NewError(ErrorFailed, []any{err.Error()})
	}
	return nil
}

func (e exported) Status() (map[string]dbus.Variant, *dbus.Error) {
	return e.svc.Status().Map(), nil
}

func (e exported) ShowMessage(text string, seconds uint32) *dbus.Error {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return dbus.NewError(ErrorInvalidArgs, []any{"text is empty"})
	case !utf8.ValidString(text):
		return dbus.NewError(ErrorInvalidArgs, []any{"text is not UTF-8"})
	case utf8.RuneCountInString(text) > MaxMessageLen:
		return dbus.NewError(ErrorInvalidArgs, []any{fmt.Sprintf("text is longer than %d characters", MaxMessageLen)})
	case seconds > MaxMessageSeconds:
		return dbus.NewError(ErrorInvalidArgs, []any{fmt.Sprintf("seconds is more than %d", MaxMessageSeconds)})
	}
	if seconds == 0 {
		seconds = DefaultMessageSeconds
	}
	if err := e.svc.ShowMessage(text, seconds); err != nil {
		return dbus.NewError(ErrorFailed, []any{err.Error()})
	}
	return nil
}

func (e exported) AddVolunteerCode(code string, seconds uint32) *dbus.Error {
	vc, ok := e.svc.(VolunteerCodes)
	if !ok {
		return dbus.NewError(ErrorNotSupported, []any{"this kiosk does not accept volunteer codes (volunteer mode not available)"})
	}
	if err := CheckVolunteerCode(code, seconds); err != nil {
		return dbus.NewError(ErrorInvalidArgs, []any{err.Error()})
	}
	if err := vc.AddVolunteerCode(code, seconds); err != nil {
		return dbus.NewError(ErrorFailed, []any{err.Error()})
	}
	return nil
}

// introspectionFor describes the interface; AddVolunteerCode is listed only
// when svc implements VolunteerCodes.
func introspectionFor(svc Service) string {
	s := introspectionHead
	if _, ok := svc.(VolunteerCodes); ok {
		s += introspectionVolunteer
	}
	return s + introspectionTail
}

const introspectionVolunteer = `
  <method name="AddVolunteerCode"><arg name="code" type="s" direction="in"/><arg name="seconds" type="u" direction="in"/></method>`

const introspectionHead = `
<interface name="` + Interface + `">
  <method name="EndSession"><arg name="reason" type="s" direction="in"/></method>
  <method name="Status"><arg name="status" type="a{sv}" direction="out"/></method>
  <method name="ShowMessage"><arg name="text" type="s" direction="in"/><arg name="seconds" type="u" direction="in"/></method>`

const introspectionTail = `
  <signal name="SessionStarted"><arg name="unix_ms" type="x"/></signal>
  <signal name="SessionEnded"><arg name="reason" type="s"/><arg name="receipt" type="a{sv}"/></signal>
</interface>`

// ErrNameTaken means another process already owns the kiosk's name on
// this bus: another kiosk is running.
var ErrNameTaken = errors.New("kiosk bus: " + Name + " is already owned (another kiosk running?)")

// Serve exports svc on conn at Path and takes the well-known Name. It fails
// with ErrNameTaken when another process has the name.
func Serve(conn *dbus.Conn, svc Service) (*Server, error) {
	if err := conn.Export(exported{svc}, Path, Interface); err != nil {
		return nil, fmt.Errorf("export %s: %w", Path, err)
	}
	node := "<node>" + introspectionFor(svc) + introspect.IntrospectDataString + "</node>"
	if err := conn.Export(introspect.Introspectable(node), Path, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, fmt.Errorf("export introspection: %w", err)
	}
	reply, err := conn.RequestName(Name, dbus.NameFlagDoNotQueue)
	if err != nil {
		return nil, fmt.Errorf("request name %s: %w", Name, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return nil, ErrNameTaken
	}
	return &Server{conn: conn}, nil
}

// SessionStarted emits the SessionStarted signal.
func (s *Server) SessionStarted(unixMs int64) error {
	return s.conn.Emit(Path, Interface+"."+SignalSessionStart, unixMs)
}

// SessionEnded emits the SessionEnded signal with r.
func (s *Server) SessionEnded(reason string, r Receipt) error {
	return s.conn.Emit(Path, Interface+"."+SignalSessionEnded, reason, r.Map())
}

// Close gives up the well-known name and stops serving.
func (s *Server) Close() error {
	_, err := s.conn.ReleaseName(Name)
	s.conn.Export(nil, Path, Interface)
	return err
}
