// Package system is the agent's hold on the operating system over D-Bus:
// restart a unit and read its state through systemd, reboot through
// logind. logind is called with godbus directly so that its errors are
// seen (go-systemd's login1 Reboot drops them).
package system

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// D-Bus names used.
const (
	SystemdName      = "org.freedesktop.systemd1"
	SystemdPath      = dbus.ObjectPath("/org/freedesktop/systemd1")
	SystemdManager   = "org.freedesktop.systemd1.Manager"
	SystemdUnit      = "org.freedesktop.systemd1.Unit"
	SystemdService   = "org.freedesktop.systemd1.Service"
	LogindName       = "org.freedesktop.login1"
	LogindPath       = dbus.ObjectPath("/org/freedesktop/login1")
	LogindManager    = "org.freedesktop.login1.Manager"
	propertiesGet    = "org.freedesktop.DBus.Properties.Get"
	signalJobRemoved = "JobRemoved"
)

// Manager calls systemd and logind on one bus connection.
type Manager struct {
	conn *dbus.Conn
}

// New returns a Manager on conn (the system bus, or a test bus).
func New(conn *dbus.Conn) *Manager { return &Manager{conn: conn} }

// UnitState is what systemd says about a unit.
type UnitState struct {
	ActiveState string // active, inactive, failed, activating, ...
	SubState    string
	NRestarts   uint32 // automatic restarts by systemd since the unit was last started by hand (services only)
}

// RestartUnit restarts unit (mode "replace") and waits, until ctx ends, for
// systemd to say how the job ended; a result other than "done" is an error.
func (m *Manager) RestartUnit(ctx context.Context, unit string) error {
	sigs := make(chan *dbus.Signal, 16)
	m.conn.Signal(sigs)
	defer m.conn.RemoveSignal(sigs)
	match := []dbus.MatchOption{dbus.WithMatchInterface(SystemdManager), dbus.WithMatchMember(signalJobRemoved)}
	if err := m.conn.AddMatchSignalContext(ctx, match...); err != nil {
		return fmt.Errorf("restart %s: subscribe to job signals: %w", unit, err)
	}
	defer m.conn.RemoveMatchSignalContext(context.WithoutCancel(ctx), match...)
	obj := m.conn.Object(SystemdName, SystemdPath)
	// systemd answers a second Subscribe on the same connection with
	// AlreadySubscribed: this connection gets the signals already.
	if err := obj.CallWithContext(ctx, SystemdManager+".Subscribe", 0).Err; err != nil && !alreadySubscribed(err) {
		return fmt.Errorf("restart %s: subscribe to systemd: %w", unit, err)
	}
	var job dbus.ObjectPath
	if err := obj.CallWithContext(ctx, SystemdManager+".RestartUnit", 0, unit, "replace").Store(&job); err != nil {
		return fmt.Errorf("restart %s: %w", unit, err)
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart %s: job %s did not finish: %w", unit, job, ctx.Err())
		case s := <-sigs:
			if s.Name != SystemdManager+"."+signalJobRemoved || len(s.Body) != 4 {
				continue
			}
			if p, _ := s.Body[1].(dbus.ObjectPath); p != job {
				continue
			}
			if result, _ := s.Body[3].(string); result != "done" {
				return fmt.Errorf("restart %s: job ended %q", unit, result)
			}
			return nil
		}
	}
}

func alreadySubscribed(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name == "org.freedesktop.systemd1.AlreadySubscribed"
	}
	var dp *dbus.Error
	return errors.As(err, &dp) && dp.Name == "org.freedesktop.systemd1.AlreadySubscribed"
}

// Unit reads the state of unit.
func (m *Manager) Unit(ctx context.Context, unit string) (UnitState, error) {
	var st UnitState
	var path dbus.ObjectPath
	// LoadUnit rather than GetUnit: it answers for units not loaded yet.
	if err := m.conn.Object(SystemdName, SystemdPath).CallWithContext(ctx, SystemdManager+".LoadUnit", 0, unit).Store(&path); err != nil {
		return st, fmt.Errorf("read unit %s: %w", unit, err)
	}
	obj := m.conn.Object(SystemdName, path)
	get := func(iface, prop string) (dbus.Variant, error) {
		var v dbus.Variant
		err := obj.CallWithContext(ctx, propertiesGet, 0, iface, prop).Store(&v)
		return v, err
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"ActiveState", &st.ActiveState}, {"SubState", &st.SubState}} {
		v, err := get(SystemdUnit, p.name)
		if err != nil {
			return st, fmt.Errorf("read unit %s %s: %w", unit, p.name, err)
		}
		if err := v.Store(p.dst); err != nil {
			return st, fmt.Errorf("read unit %s %s: %w", unit, p.name, err)
		}
	}
	if v, err := get(SystemdService, "NRestarts"); err == nil {
		_ = v.Store(&st.NRestarts) // absent on non-service units
	}
	return st, nil
}

// Reboot asks logind to reboot now (non-interactive: no polkit prompt).
func (m *Manager) Reboot(ctx context.Context) error {
	if err := m.conn.Object(LogindName, LogindPath).CallWithContext(ctx, LogindManager+".Reboot", 0, false).Err; err != nil {
		return fmt.Errorf("reboot through logind: %w", err)
	}
	return nil
}
