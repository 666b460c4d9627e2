package firstboot

import (
	"sync"
	"testing"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"

	"github.com/godbus/dbus/v5"
)

// fakeSystem is a FAKE of the few systemd-hostnamed and NetworkManager
// methods first boot calls (they cannot run here: they need systemd as PID 1
// and Wi-Fi hardware), exported on a real private dbus-daemon so the real
// D-Bus calls, names and signatures are exercised.
type fakeSystem struct {
	conn *dbus.Conn

	mu          sync.Mutex
	static      string
	transient   string
	conns       map[dbus.ObjectPath]map[string]map[string]dbus.Variant
	byUUID      map[string]dbus.ObjectPath
	adds        int
	updates     int
	activated   []dbus.ObjectPath
	activateErr *dbus.Error
}

type fakeHostnamed struct{ s *fakeSystem }

func (h fakeHostnamed) SetStaticHostname(name string, interactive bool) *dbus.Error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.static = name
	return nil
}

func (h fakeHostnamed) SetHostname(name string, interactive bool) *dbus.Error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.transient = name
	return nil
}

type fakeSettings struct{ s *fakeSystem }

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
	f.s.adds++
	p := dbus.ObjectPath("/org/freedesktop/NetworkManager/Settings/" + string(rune('0'+len(f.s.conns)+1)))
	f.s.conns[p] = settings
	f.s.byUUID[uuid] = p
	if err := f.s.conn.Export(fakeConnection{f.s, p}, p, NMConnIface); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	return p, nil
}

type fakeConnection struct {
	s    *fakeSystem
	path dbus.ObjectPath
}

func (c fakeConnection) Update(settings map[string]map[string]dbus.Variant) *dbus.Error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.updates++
	c.s.conns[c.path] = settings
	return nil
}

type fakeNM struct{ s *fakeSystem }

func (n fakeNM) ActivateConnection(conn, device, specific dbus.ObjectPath) (dbus.ObjectPath, *dbus.Error) {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	if n.s.activateErr != nil {
		return "", n.s.activateErr
	}
	if _, ok := n.s.conns[conn]; !ok {
		return "", dbus.NewError("org.freedesktop.NetworkManager.UnknownConnection", []any{"no such connection"})
	}
	n.s.activated = append(n.s.activated, conn)
	return "/org/freedesktop/NetworkManager/ActiveConnection/1", nil
}

// startFakeSystem exports the fake on the bus at addr.
func startFakeSystem(t testing.TB, addr string) *fakeSystem {
	t.Helper()
	conn := bustest.Conn(t, addr)
	s := &fakeSystem{conn: conn, conns: map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}, byUUID: map[string]dbus.ObjectPath{}}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(conn.Export(fakeHostnamed{s}, HostnamePath, HostnameIface))
	must(conn.Export(fakeSettings{s}, NMSettingsPath, NMSettingsIface))
	must(conn.Export(fakeNM{s}, NMPath, NMIface))
	for _, name := range []string{HostnameName, NMName} {
		if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", name, reply, err)
		}
	}
	return s
}

// fakeKiosk is the kiosk's real D-Bus server half (bus.Serve) around a
// recording Service.
type fakeKiosk struct {
	mu       sync.Mutex
	messages []string
}

func (k *fakeKiosk) EndSession(string) error { return nil }
func (k *fakeKiosk) Status() bus.Status      { return bus.Status{State: bus.StateIdle} }
func (k *fakeKiosk) ShowMessage(text string, seconds uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.messages = append(k.messages, text)
	return nil
}

func (k *fakeKiosk) Messages() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.messages...)
}

func startKiosk(t testing.TB, addr string) *fakeKiosk {
	t.Helper()
	conn := bustest.Conn(t, addr)
	k := &fakeKiosk{}
	srv, err := bus.Serve(conn, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return k
}
