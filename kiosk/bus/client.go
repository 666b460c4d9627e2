package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// Connect opens a private connection to the bus named by which: "session",
// "system", or a D-Bus address such as "unix:path=/run/x". ctx bounds only
// the dial and the handshake: the connection outlives it. The caller closes it.
func Connect(ctx context.Context, which string) (*dbus.Conn, error) {
	type result struct {
		conn *dbus.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := connect(which)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		return r.conn, r.err
	case <-ctx.Done():
		go func() { // close whatever the handshake ends with
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("connect to %s bus: %w", which, ctx.Err())
	}
}

func connect(which string) (*dbus.Conn, error) {
	var (
		conn *dbus.Conn
		err  error
	)
	// No dbus.WithContext here: godbus closes a connection when its
	// context ends, and this one must live as long as the caller wants.
	switch which {
	case "", "session":
		conn, err = dbus.SessionBusPrivate()
	case "system":
		conn, err = dbus.SystemBusPrivate()
	default:
		conn, err = dbus.Dial(which)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s bus: %w", which, err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("authenticate to %s bus: %w", which, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello to %s bus: %w", which, err)
	}
	return conn, nil
}

// Client calls the kiosk over an open connection.
type Client struct {
	conn *dbus.Conn
	obj  dbus.BusObject
}

// NewClient returns a client for the kiosk on conn.
func NewClient(conn *dbus.Conn) *Client {
	return &Client{conn: conn, obj: conn.Object(Name, Path)}
}

// EndSession asks the kiosk to end the current session now (wipe, back to
// home). reason must satisfy ValidReason.
func (c *Client) EndSession(ctx context.Context, reason string) error {
	if err := c.obj.CallWithContext(ctx, Interface+"."+MethodEndSession, 0, reason).Err; err != nil {
		return fmt.Errorf("kiosk EndSession: %w", err)
	}
	return nil
}

// Status asks the kiosk for its state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var m map[string]dbus.Variant
	if err := c.obj.CallWithContext(ctx, Interface+"."+MethodStatus, 0).Store(&m); err != nil {
		return Status{}, fmt.Errorf("kiosk Status: %w", err)
	}
	return ParseStatus(m)
}

// ShowMessage puts staff text on the kiosk's screen for d (0: the kiosk's default).
func (c *Client) ShowMessage(ctx context.Context, text string, d time.Duration) error {
	secs := uint32(d / time.Second)
	if err := c.obj.CallWithContext(ctx, Interface+"."+MethodShowMessage, 0, text, secs).Err; err != nil {
		return fmt.Errorf("kiosk ShowMessage: %w", err)
	}
	return nil
}

// ErrNotSupported is wrapped by Client.AddVolunteerCode when the kiosk
// does not implement the method (an older shell or no volunteer mode).
var ErrNotSupported = errors.New("kiosk does not support this method")

// AddVolunteerCode hands the kiosk a one-time volunteer code valid for d
// (whole seconds, 1s..15min). The code is checked before the call and never
// appears in the returned error. A kiosk that lacks the method gives an
// error wrapping ErrNotSupported.
func (c *Client) AddVolunteerCode(ctx context.Context, code string, d time.Duration) error {
	secs := uint32(0)
	if d > 0 && d <= MaxVolunteerCodeSeconds*time.Second {
		secs = uint32(d / time.Second)
	}
	if err := CheckVolunteerCode(code, secs); err != nil {
		return fmt.Errorf("kiosk AddVolunteerCode: %w", err)
	}
	err := c.obj.CallWithContext(ctx, Interface+"."+MethodAddVolCode, 0, code, secs).Err
	if err == nil {
		return nil
	}
	var de dbus.Error
	if errors.As(err, &de) && (de.Name == ErrorNotSupported || de.Name == "org.freedesktop.DBus.Error.UnknownMethod") {
		return fmt.Errorf("kiosk AddVolunteerCode: %w: %v", ErrNotSupported, err)
	}
	return fmt.Errorf("kiosk AddVolunteerCode: %w", err)
}

// EventKind says what an Event is about.
type EventKind int

const (
	// EventStarted: a SessionStarted signal; UnixMs is set.
	EventStarted EventKind = iota + 1
	// EventEnded: a SessionEnded signal; Reason and Receipt are set.
	EventEnded
	// EventGone: the kiosk lost its name on the bus (it stopped or crashed).
	EventGone
	// EventBack: the kiosk took its name on the bus.
	EventBack
)

// Event is one thing the kiosk told the bus.
type Event struct {
	Kind    EventKind
	UnixMs  int64
	Reason  string
	Receipt Receipt
	// Err is set when a signal could not be decoded (Kind is then EventEnded
	// or EventStarted with what could be read).
	Err error
}

// Watch subscribes to the kiosk's signals and its name's owner changes and
// delivers them, in order, on the returned channel until ctx ends; then the
// channel is closed. Watch must be called once per connection.
func (c *Client) Watch(ctx context.Context) (<-chan Event, error) {
	opts := [][]dbus.MatchOption{
		{dbus.WithMatchInterface(Interface), dbus.WithMatchObjectPath(Path)},
		{dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, Name)},
	}
	for _, o := range opts {
		if err := c.conn.AddMatchSignalContext(ctx, o...); err != nil {
			return nil, fmt.Errorf("subscribe to kiosk signals: %w", err)
		}
	}
	sigs := make(chan *dbus.Signal, 64)
	c.conn.Signal(sigs)
	out := make(chan Event, 64)
	go func() {
		defer close(out)
		defer c.conn.RemoveSignal(sigs)
		for {
			select {
			case <-ctx.Done():
				return
			case s, ok := <-sigs:
				if !ok {
					return
				}
				ev, ok := decodeSignal(s)
				if !ok {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func decodeSignal(s *dbus.Signal) (Event, bool) {
	switch s.Name {
	case Interface + "." + SignalSessionStart:
		ev := Event{Kind: EventStarted}
		if len(s.Body) != 1 {
			ev.Err = fmt.Errorf("SessionStarted: want 1 argument, got %d", len(s.Body))
			return ev, true
		}
		ms, ok := s.Body[0].(int64)
		if !ok {
			ev.Err = fmt.Errorf("SessionStarted: argument is %T, want int64", s.Body[0])
		}
		ev.UnixMs = ms
		return ev, true
	case Interface + "." + SignalSessionEnded:
		ev := Event{Kind: EventEnded}
		if len(s.Body) != 2 {
			ev.Err = fmt.Errorf("SessionEnded: want 2 arguments, got %d", len(s.Body))
			return ev, true
		}
		ev.Reason, _ = s.Body[0].(string)
		m, ok := s.Body[1].(map[string]dbus.Variant)
		if !ok {
			ev.Err = fmt.Errorf("SessionEnded: receipt is %T", s.Body[1])
			return ev, true
		}
		ev.Receipt, ev.Err = ParseReceipt(m)
		return ev, true
	case "org.freedesktop.DBus.NameOwnerChanged":
		if len(s.Body) != 3 {
			return Event{}, false
		}
		name, _ := s.Body[0].(string)
		newOwner, _ := s.Body[2].(string)
		if name != Name {
			return Event{}, false
		}
		if newOwner == "" {
			return Event{Kind: EventGone}, true
		}
		return Event{Kind: EventBack}, true
	}
	return Event{}, false
}
