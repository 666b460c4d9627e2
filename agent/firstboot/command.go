package firstboot

import (
	"context"
	"io"
	"os"
	"time"

	"accesskiosk/agent"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
	"accesskiosk/kiosk/bus"
)

// Defaults of `agent firstboot`'s flags, matching the images.
const (
	DefaultBoot         = "/boot/firmware"
	DefaultHostnameFile = "/var/lib/accesskiosk/hostname"
)

// Synopsis is the flags of `agent firstboot`.
const Synopsis = "[--config FILE] [--boot /boot/firmware | --boot disk.img [--partition N]] [--hostname-file FILE] [--kiosk-wait 30s] [--attempts 5] [--dry-run | --i-know-this-is-not-a-kiosk]"

// ImageMarker exists on Access Kiosk images only (images/common/rootfs).
// Elsewhere first boot refuses to run unless told: it renames the
// machine, adds a Wi-Fi network and enrols it.
var ImageMarker = "/usr/share/accesskiosk/kiosk-image"

// Command runs `agent firstboot ARGS...`; ExitStatus maps its error to the
// exit status. The agent's command line (agent/cli) calls it:
//
//	agent firstboot [--config /etc/accesskiosk/agent.yaml] [--boot /boot/firmware | --boot disk.img [--partition N]]
//	                [--hostname-file /var/lib/accesskiosk/hostname] [--kiosk-wait 30s] [--attempts 5]
//
// The agent's config gives the state directory (state_dir) and the buses
// (system.bus for hostnamed and NetworkManager, kiosk.bus for messages).
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("agent firstboot", Synopsis)
	cfgPath := fs.String("config", "", "the agent's config `FILE` (default: embedded defaults)")
	boot := fs.String("boot", DefaultBoot, "the boot partition: its mount point, or a disk image / block device to read without mounting")
	part := fs.Int("partition", 0, "with a disk image: the FAT partition's number (default: the first FAT partition)")
	hostnameFile := fs.String("hostname-file", DefaultHostnameFile, "where to store the host name for the image to apply on every boot (\"\" for nowhere)")
	kioskWait := fs.Duration("kiosk-wait", 30*time.Second, "how long to wait for the kiosk to show a message")
	attempts := fs.Int("attempts", 5, "tries against an unreachable fleet before exiting 1 (the unit retries later)")
	dryRun := fs.Bool("dry-run", false, "say what first boot would do here, and change nothing")
	notKiosk := fs.Bool("i-know-this-is-not-a-kiosk", false, "run on a computer that is not an Access Kiosk image: it will be renamed, join the Wi-Fi network and enrol")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if _, err := os.Stat(ImageMarker); err != nil && !*dryRun && !*notKiosk {
		return needsPerson(ErrNotKiosk, "this computer is not an Access Kiosk image (it has no %s): first boot would rename it, add a Wi-Fi network to NetworkManager and enrol it with a fleet; --dry-run shows what it would do, --i-know-this-is-not-a-kiosk does it anyway", ImageMarker)
	}
	if *attempts < 1 || *attempts > 100 {
		return confile.FlagError("attempts", "want 1 to 100, got %d", *attempts)
	}
	if *kioskWait < 0 {
		return confile.FlagError("kiosk-wait", "must not be negative")
	}
	if _, err := os.Stat(*boot); err != nil {
		return confile.FlagError("boot", "%v", err)
	}
	cfg, err := agent.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log, err := applog.New(stderr, cfg.LogLevel)
	if err != nil {
		return &confile.Error{File: *cfgPath, Key: "log_level", Msg: err.Error()}
	}
	b, err := OpenBoot(*boot, *part)
	if err != nil {
		return confile.FlagError("boot", "%v", err)
	}
	defer b.Close()
	c := Config{
		Boot: b, StateDir: cfg.StateDir, HostnameFile: *hostnameFile,
		KioskWait: *kioskWait, AgentVersion: version.Version, EnrolAttempts: *attempts, Log: log,
	}
	sys, err := bus.Connect(ctx, cfg.System.Bus)
	if err == nil {
		defer sys.Close()
		c.System = sys
	}
	if *dryRun {
		return DryRun(ctx, c, stdout)
	}
	if err != nil {
		return needsPerson(nil, "first boot needs the system bus, with systemd-hostnamed and NetworkManager on it: %v", err)
	}
	if kc, err := bus.Connect(ctx, cfg.Kiosk.Bus); err != nil {
		log.WithError(err).Warn("kiosk bus not reachable: messages go to the log only")
	} else {
		defer kc.Close()
		c.Kiosk = bus.NewClient(kc)
	}
	_, err = Run(ctx, c)
	return err
}
