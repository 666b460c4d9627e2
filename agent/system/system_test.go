package system_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"accesskiosk/agent/system"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/kiosk/bus/bustest"

	"github.com/godbus/dbus/v5"
)

func TestSystemOverRealBus(t *testing.T) {
	addr := bustest.Start(t)
	fake := systemdtest.Start(t, addr)
	fake.SetUnit("accesskiosk-kiosk.service", "failed", "failed", 4)
	m := system.New(bustest.Conn(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	st, err := m.Unit(ctx, "accesskiosk-kiosk.service")
	if err != nil {
		t.Fatal(err)
	}
	if st.ActiveState != "failed" || st.NRestarts != 4 {
		t.Errorf("unit = %+v, want failed with 4 restarts", st)
	}
	if err := m.RestartUnit(ctx, "accesskiosk-kiosk.service"); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Unit(ctx, "accesskiosk-kiosk.service"); st.ActiveState != "active" {
		t.Errorf("after restart: %+v", st)
	}
	if got := fake.Restarts(); len(got) != 1 {
		t.Errorf("restarts = %v", got)
	}
	if err := m.RestartUnit(ctx, "nope.service"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("restart of a missing unit: err = %v", err)
	}
	fake.OnRestart = func(string) string { return "failed" }
	if err := m.RestartUnit(ctx, "accesskiosk-kiosk.service"); err == nil || !strings.Contains(err.Error(), `"failed"`) {
		t.Errorf("failed job: err = %v", err)
	}

	if err := m.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	fake.RebootErr = dbus.NewError("org.freedesktop.login1.OperationInProgress", []any{"There's already a shutdown or sleep operation in progress"})
	if err := m.Reboot(ctx); err == nil || !strings.Contains(err.Error(), "already a shutdown") {
		t.Errorf("refused reboot: err = %v, want logind's error seen", err)
	}
	if fake.Reboots() != 1 {
		t.Errorf("reboots = %d", fake.Reboots())
	}
}
