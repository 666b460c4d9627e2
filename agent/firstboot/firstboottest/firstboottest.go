// Package firstboottest is a small FAKE of the system services `agent
// firstboot` calls over D-Bus — systemd-hostnamed and NetworkManager, which
// cannot run here (they need systemd as PID 1 and Wi-Fi hardware) — plus a
// recording kiosk on the kiosk's real bus server half. Both are exported on
// a real private dbus-daemon (kiosk/bus/bustest), so the real calls, names
// and signatures are exercised.
package firstboottest

import (
	"sync"
	"testing"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"

	"github.com/godbus/dbus/v5"
)

// The real services' D-Bus names, as the fake exports them.
const (
	HostnameName  = "org.freedesktop.hostname1"
	HostnamePath  = dbus.ObjectPath("/org/freedesktop/hostname1")
	HostnameIface = "org.freedesktop.hostname1"

	NMName          = "org.freedesktop.NetworkManager"
	NMPath          = dbus.ObjectPath("/org/freedesktop/NetworkManager")
	NMIface         = "org.freedesktop.NetworkManager"
	NMSettingsPath  = dbus.ObjectPath("/org/freedesktop/NetworkManager/Settings")
	NMSettingsIface = "org.freedesktop.NetworkManager.Settings"
	NMConnIface     = "org.freedesktop.NetworkManager.Settings.Connection"
)

// System is the fake of the few hostnamed and NetworkManager methods first
// boot calls. Its fields are read under Lock.
type System struct {
	conn *dbus.Conn

	mu sync.Mutex
	// Static and Transient are the host names set through hostnamed.
	Static, Transient string
	// Conns are NetworkManager's connections by path.
	Conns  map[dbus.ObjectPath]map[string]map[string]dbus.Variant
	byUUID map[string]dbus.ObjectPath
	// Adds and Updates count AddConnection and Update calls.
	Adds, Updates int
	// Activated lists the connections ActivateConnection was asked for.
	Activated []dbus.ObjectPath
	// ActivateErr, when set, is what ActivateConnection answers.
	ActivateErr *dbus.Error
}

// Lock locks the fields for reading.
func (s *System) Lock() { s.mu.Lock() }

// Unlock unlocks them.
func (s *System) Unlock() { s.mu.Unlock() }

type fakeHostnamed struct{ s *System }

func (h fakeHostnamed) SetStaticHostname(name string, interactive bool) *dbus.Error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.Static = name
	return nil
}

func (h fakeHostnamed) SetHostname(name string, interactive bool) *dbus.Error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.Transient = name
	return nil
}

type fakeSettings struct{ s *System }

func (f fakeSettings) GetConnectionByUuid(uuid string) (dbus.ObjectPath, *dbus.Error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	p, ok := f.s.byUUID[uuid]
	if !ok {
		return "", dbus.NewError("org.freedesktop.NetworkManager.Settings.InvalidConnection", []any{"No connection with the UUID was found."})
	}
	return p, nil
}

func (f fakeSettings) AddConnection(settings map[string]map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	uuid, _ := settings["connection"]["uuid"].Value().(string)
	if uuid == "" {
		return "", dbus.NewError("org.freedesktop.NetworkManager.Settings.Connection.InvalidProperty", []any{"connection.uuid: missing"})
	}
	if _, dup := f.s.byUUID[uuid]; dup {
		return "", dbus.NewError("org.freedesktop.NetworkManager.Settings.Connection.InvalidProperty", []any{"connection.uuid: exists"})
	}
	f.s.Adds++
	p := dbus.ObjectPath("/org/freedesktop/NetworkManager/Settings/" + string(rune('0'+len(f.s.Conns)+1)))
	f.s.Conns[p] = settings
	f.s.byUUID[uuid] = p
	if err := f.s.conn.Export(fakeConnection{f.s, p}, p, NMConnIface); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	return p, nil
}

type fakeConnection struct {
	s    *System
	path dbus.ObjectPath
}

func (c fakeConnection) Update(settings map[string]map[string]dbus.Variant) *dbus.Error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.Updates++
	c.s.Conns[c.path] = settings
	return nil
}

type fakeNM struct{ s *System }

func (n fakeNM) ActivateConnection(conn, device, specific dbus.ObjectPath) (dbus.ObjectPath, *dbus.Error) {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	if n.s.ActivateErr != nil {
		return "", n.s.ActivateErr
	}
	if _, ok := n.s.Conns[conn]; !ok {
		return "", dbus.NewError("org.freedesktop.NetworkManager.UnknownConnection", []any{"no such connection"})
	}
	n.s.Activated = append(n.s.Activated, conn)
	return "/org/freedesktop/NetworkManager/ActiveConnection/1", nil
}

// Services first boot uses, for Start.
const (
	Hostnamed      = "hostnamed"
	NetworkManager = "NetworkManager"
)

// Start exports the fake on the bus at addr, as the services named (both
// when none are named), until the test ends.
func Start(t testing.TB, addr string, services ...string) *System {
	t.Helper()
	if len(services) == 0 {
		services = []string{Hostnamed, NetworkManager}
	}
	conn := bustest.Conn(t, addr)
	s := &System{conn: conn, Conns: map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}, byUUID: map[string]dbus.ObjectPath{}}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	own := func(name string) {
		if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", name, reply, err)
		}
	}
	for _, svc := range services {
		switch svc {
		case Hostnamed:
			must(conn.Export(fakeHostnamed{s}, HostnamePath, HostnameIface))
			own(HostnameName)
		case NetworkManager:
			must(conn.Export(fakeSettings{s}, NMSettingsPath, NMSettingsIface))
			must(conn.Export(fakeNM{s}, NMPath, NMIface))
			own(NMName)
		default:
			t.Fatalf("firstboottest.Start: unknown service %q", svc)
		}
	}
	return s
}

// Kiosk is the kiosk's real D-Bus server half (bus.Serve) around a
// recording Service.
type Kiosk struct {
	mu       sync.Mutex
	messages []string
}

// EndSession does nothing.
func (k *Kiosk) EndSession(string) error { return nil }

// Status says idle.
func (k *Kiosk) Status() bus.Status { return bus.Status{State: bus.StateIdle} }

// ShowMessage records text.
func (k *Kiosk) ShowMessage(text string, seconds uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.messages = append(k.messages, text)
	return nil
}

// Messages are the texts ShowMessage was given, in order.
func (k *Kiosk) Messages() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.messages...)
}

// StartKiosk serves the recording kiosk on the bus at addr until the test
// ends.
func StartKiosk(t testing.TB, addr string) *Kiosk {
	t.Helper()
	conn := bustest.Conn(t, addr)
	k := &Kiosk{}
	srv, err := bus.Serve(conn, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return k
}
