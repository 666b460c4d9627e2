// Package systemdtest is a small FAKE of the few systemd and logind
// methods the agent calls, served on a real (private, test) D-Bus: systemd
// cannot run as PID 1 here and a real reboot is out of the question. It
// owns org.freedesktop.systemd1 and org.freedesktop.login1 on the test bus
// and implements Manager.Subscribe, RestartUnit (emitting JobRemoved),
// LoadUnit, the unit properties ActiveState, SubState and NRestarts, and
// logind's Manager.Reboot, recording every call.
package systemdtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// Fake is the fake systemd + logind.
type Fake struct {
	conn *dbus.Conn

	mu       sync.Mutex
	units    map[string]*unit
	jobs     int
	restarts []string
	reboots  int
	// subscribed: connections that called Subscribe (systemd refuses a second call).
	subscribed map[dbus.Sender]bool
	// RebootErr, when set, is returned by Reboot (as logind would refuse).
	RebootErr *dbus.Error
	// OnRestart is called (outside the lock) when a unit is restarted; it
	// returns the job result ("done", "failed").
	OnRestart func(unit string) string
}

type unit struct {
	name   string
	path   dbus.ObjectPath
	active string
	sub    string
	nrest  uint32
	props  *prop.Properties
}

// subscribe answers like systemd: a client may subscribe once; a second
// call from the same connection is org.freedesktop.systemd1.AlreadySubscribed.
func (f *Fake) subscribe(sender dbus.Sender) *dbus.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subscribed == nil {
		f.subscribed = map[dbus.Sender]bool{}
	}
	if f.subscribed[sender] {
		return &dbus.Error{Name: "org.freedesktop.systemd1.AlreadySubscribed", Body: []any{"Client is already subscribed."}}
	}
	f.subscribed[sender] = true
	return nil
}

// Start serves the fake on the bus at addr until the test ends.
func Start(t testing.TB, addr string) *Fake {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("systemdtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &Fake{conn: conn, units: map[string]*unit{}}
	if err := conn.ExportMethodTable(map[string]any{
		"Subscribe":   f.subscribe,
		"RestartUnit": f.restartUnit,
		"LoadUnit":    f.loadUnit,
	}, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"); err != nil {
		t.Fatal(err)
	}
	if err := conn.ExportMethodTable(map[string]any{
		"Reboot": f.reboot,
	}, "/org/freedesktop/login1", "org.freedesktop.login1.Manager"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"org.freedesktop.systemd1", "org.freedesktop.login1"} {
		if r, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("systemdtest: own %s: %v %v", name, r, err)
		}
	}
	return f
}

// SetUnit creates or updates a unit's state.
func (f *Fake) SetUnit(name, active, sub string, nrestarts uint32) {
	f.mu.Lock()
	u := f.unitLocked(name)
	u.active, u.sub, u.nrest = active, sub, nrestarts
	props := u.props
	f.mu.Unlock()
	props.SetMust("org.freedesktop.systemd1.Unit", "ActiveState", active)
	props.SetMust("org.freedesktop.systemd1.Unit", "SubState", sub)
	props.SetMust("org.freedesktop.systemd1.Service", "NRestarts", nrestarts)
}

func escape(name string) string {
	var b strings.Builder
	for _, c := range []byte(name) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

func (f *Fake) unitLocked(name string) *unit {
	if u, ok := f.units[name]; ok {
		return u
	}
	u := &unit{name: name, path: dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + escape(name)), active: "inactive", sub: "dead"}
	props, err := prop.Export(f.conn, u.path, prop.Map{
		"org.freedesktop.systemd1.Unit": {
			"ActiveState": {Value: u.active, Writable: true, Emit: prop.EmitTrue},
			"SubState":    {Value: u.sub, Writable: true, Emit: prop.EmitTrue},
		},
		"org.freedesktop.systemd1.Service": {
			"NRestarts": {Value: u.nrest, Writable: true, Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		panic(err)
	}
	u.props = props
	f.units[name] = u
	return u
}

func (f *Fake) loadUnit(name string) (dbus.ObjectPath, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unitLocked(name).path, nil
}

func (f *Fake) restartUnit(name, mode string) (dbus.ObjectPath, *dbus.Error) {
	if mode != "replace" {
		return "", dbus.NewError("org.freedesktop.DBus.Error.InvalidArgs", []any{"mode"})
	}
	f.mu.Lock()
	if _, ok := f.units[name]; !ok {
		f.mu.Unlock()
		return "", dbus.NewError("org.freedesktop.systemd1.NoSuchUnit", []any{"Unit " + name + " not found."})
	}
	f.jobs++
	job := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/systemd1/job/%d", f.jobs))
	id := uint32(f.jobs)
	f.restarts = append(f.restarts, name)
	hook := f.OnRestart
	f.mu.Unlock()
	go func() {
		result := "done"
		if hook != nil {
			result = hook(name)
		}
		if result == "done" {
			f.SetUnit(name, "active", "running", 0)
		}
		f.conn.Emit("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.JobRemoved", id, job, name, result)
	}()
	return job, nil
}

func (f *Fake) reboot(interactive bool) *dbus.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.RebootErr != nil {
		return f.RebootErr
	}
	f.reboots++
	return nil
}

// Restarts returns the units restarted, in order.
func (f *Fake) Restarts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.restarts...)
}

// Reboots is how many reboots were asked for.
func (f *Fake) Reboots() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reboots
}
