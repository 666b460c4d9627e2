package firstboot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/godbus/dbus/v5"

	"accesskiosk/provisioning/bootfile"
)

// D-Bus names of the system services first boot uses. These are the real
// services' names; tests run a small fake of exactly these methods
// (fakesystem_test.go) on a private dbus-daemon.
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

// WiFiConnectionID is the NetworkManager connection first boot creates.
const WiFiConnectionID = "accesskiosk-wifi"

// setHostname sets the static and the running host name through
// systemd-hostnamed.
func setHostname(ctx context.Context, conn *dbus.Conn, name string) error {
	obj := conn.Object(HostnameName, HostnamePath)
	if err := obj.CallWithContext(ctx, HostnameIface+".SetStaticHostname", 0, name, false).Err; err != nil {
		return fmt.Errorf("set static hostname %q through hostnamed: %w", name, err)
	}
	if err := obj.CallWithContext(ctx, HostnameIface+".SetHostname", 0, name, false).Err; err != nil {
		return fmt.Errorf("set hostname %q through hostnamed: %w", name, err)
	}
	return nil
}

// wifiUUID is stable for an SSID, so that a rerun updates the connection
// it made before instead of adding a second one.
func wifiUUID(ssid string) string {
	h := sha256.Sum256([]byte("accesskiosk-wifi\x00" + ssid))
	h[6] = h[6]&0x0f | 0x50 // version 5 style (name-based)
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// wifiSettings is the NetworkManager connection for w.
func wifiSettings(w *bootfile.WiFi) map[string]map[string]dbus.Variant {
	s := map[string]map[string]dbus.Variant{
		"connection": {
			"id":          dbus.MakeVariant(WiFiConnectionID),
			"uuid":        dbus.MakeVariant(wifiUUID(w.SSID)),
			"type":        dbus.MakeVariant("802-11-wireless"),
			"autoconnect": dbus.MakeVariant(true),
		},
		"802-11-wireless": {
			"ssid":   dbus.MakeVariant([]byte(w.SSID)),
			"mode":   dbus.MakeVariant("infrastructure"),
			"hidden": dbus.MakeVariant(w.Hidden),
		},
		"ipv4": {"method": dbus.MakeVariant("auto")},
		"ipv6": {"method": dbus.MakeVariant("auto")},
	}
	if !w.Open {
		s["802-11-wireless"]["security"] = dbus.MakeVariant("802-11-wireless-security")
		s["802-11-wireless-security"] = map[string]dbus.Variant{
			"key-mgmt": dbus.MakeVariant("wpa-psk"),
			"psk":      dbus.MakeVariant(w.PSK),
		}
	}
	return s
}

// configureWiFi adds (or, on a rerun, updates) the Wi-Fi connection in
// NetworkManager, which stores it and connects whenever the network is in
// range, and asks NetworkManager to activate it now. It returns a non-nil
// activation error separately: a network out of range is not a reason to
// stop (the device may be wired too).
func configureWiFi(ctx context.Context, conn *dbus.Conn, w *bootfile.WiFi) (activateErr, err error) {
	settings := conn.Object(NMName, NMSettingsPath)
	settingsMap := wifiSettings(w)
	var path dbus.ObjectPath
	err = settings.CallWithContext(ctx, NMSettingsIface+".GetConnectionByUuid", 0, wifiUUID(w.SSID)).Store(&path)
	switch {
	case err == nil:
		if err := conn.Object(NMName, path).CallWithContext(ctx, NMConnIface+".Update", 0, settingsMap).Err; err != nil {
			return nil, fmt.Errorf("update Wi-Fi connection %q in NetworkManager: %w", w.SSID, err)
		}
	case isNoConnection(err):
		if err := settings.CallWithContext(ctx, NMSettingsIface+".AddConnection", 0, settingsMap).Store(&path); err != nil {
			return nil, fmt.Errorf("add Wi-Fi connection %q to NetworkManager: %w", w.SSID, err)
		}
	default:
		return nil, fmt.Errorf("look up Wi-Fi connection in NetworkManager: %w", err)
	}
	var active dbus.ObjectPath
	nm := conn.Object(NMName, NMPath)
	if err := nm.CallWithContext(ctx, NMIface+".ActivateConnection", 0, path, dbus.ObjectPath("/"), dbus.ObjectPath("/")).Store(&active); err != nil {
		return fmt.Errorf("activate Wi-Fi %q now (NetworkManager keeps trying while it is in range): %w", w.SSID, err), nil
	}
	return nil, nil
}

func isNoConnection(err error) bool {
	if e, ok := err.(dbus.Error); ok {
		return strings.HasSuffix(e.Name, ".InvalidConnection")
	}
	if e, ok := err.(*dbus.Error); ok {
		return strings.HasSuffix(e.Name, ".InvalidConnection")
	}
	return false
}

// service is a system service first boot calls over D-Bus.
type service struct{ name, what, why string }

// needed lists the services a run with the first-boot file f calls.
func needed(f *bootfile.File) []service {
	s := []service{{HostnameName, "systemd-hostnamed", "set the host name"}}
	if f.WiFi != nil && !f.SecretsErased {
		s = append(s, service{NMName, "NetworkManager", "join the Wi-Fi network in the first-boot file"})
	}
	return s
}

// onBus reports whether name is on conn's bus: running, or started when
// first called (activatable, as hostnamed is).
func onBus(ctx context.Context, conn *dbus.Conn, name string) (bool, error) {
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
		return false, err
	}
	if has {
		return true, nil
	}
	var names []string
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		return false, err
	}
	return slices.Contains(names, name), nil
}

// checkServices says, before anything is changed, which service the run
// needs is not on the system bus.
func (r *runner) checkServices(ctx context.Context, f *bootfile.File) error {
	if r.System == nil {
		return nil
	}
	for _, s := range needed(f) {
		ok, err := onBus(ctx, r.System, s.name)
		if err != nil {
			return fmt.Errorf("ask the system bus whether %s is there: %w", s.what, err)
		}
		if !ok {
			return needsPerson(nil, "first boot needs %s (%s) on the system bus to %s, and it is not there (a kiosk image has it; --dry-run shows what first boot would do here)", s.what, s.name, s.why)
		}
	}
	return nil
}
