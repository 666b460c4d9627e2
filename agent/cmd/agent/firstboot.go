package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"accesskiosk/agent"
	"accesskiosk/agent/firstboot"
	"accesskiosk/applog"
	"accesskiosk/confile"
	"accesskiosk/kiosk/bus"
	"accesskiosk/version"
)

// runFirstboot is `agent firstboot`: flags → config → firstboot.Run.
func runFirstboot(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent firstboot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	boot := fs.String("boot", "", "boot partition: a mounted directory (/boot/firmware) or a disk image file or device (required)")
	part := fs.Int("part", 0, "partition number in a disk image (0: the first FAT partition)")
	config := fs.String("config", "", "agent config file (for state_dir and the buses); embedded defaults when not given")
	stateDir := fs.String("state-dir", "", "state directory; default: the config's state_dir")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: agent firstboot --boot PATH [--part N] [--config FILE] [--state-dir DIR]")
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintln(stderr, "agent firstboot:", flagError(err))
		return confile.ExitCode
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintln(stderr, "agent firstboot:", confile.FlagError(fs.Arg(0), "unexpected argument"))
		return confile.ExitCode
	case *boot == "":
		fmt.Fprintln(stderr, "agent firstboot:", confile.FlagError("boot", "is required (the boot partition, e.g. /boot/firmware)"))
		return confile.ExitCode
	case *part < 0:
		fmt.Fprintln(stderr, "agent firstboot:", confile.FlagError("part", "must be 0 or more"))
		return confile.ExitCode
	}
	cfg, err := agent.LoadConfig(*config)
	if err != nil {
		fmt.Fprintln(stderr, "agent firstboot:", err)
		return confile.ExitStatus(err)
	}
	if *stateDir != "" {
		cfg.StateDir = *stateDir
	}
	log, err := applog.New(stderr, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "agent firstboot:", err)
		return 1
	}
	b, err := firstboot.OpenBoot(*boot, *part)
	if err != nil {
		log.WithError(err).Error("first boot")
		return firstboot.ExitNeedsPerson
	}
	defer b.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fc := firstboot.Config{Boot: b, StateDir: cfg.StateDir, AgentVersion: version.Version, Log: log}
	// Both buses are optional: without the system bus the host name and
	// Wi-Fi steps are skipped with a warning; without the kiosk, messages
	// go to the log only.
	if conn, err := bus.Connect(ctx, orDefault(cfg.System.Bus, "system")); err == nil {
		defer conn.Close()
		fc.System = conn
	} else {
		log.WithError(err).Warn("no system bus: host name and Wi-Fi steps will be skipped")
	}
	if conn, err := bus.Connect(ctx, orDefault(cfg.Kiosk.Bus, "system")); err == nil {
		defer conn.Close()
		fc.Kiosk = bus.NewClient(conn)
	} else {
		log.WithError(err).Warn("no kiosk bus: messages go to the log only")
	}
	res, err := firstboot.Run(ctx, fc)
	if err != nil {
		log.WithError(err).Error("first boot did not complete")
		return firstboot.ExitStatus(err)
	}
	log.WithFields(map[string]any{"device_id": res.DeviceID, "site": res.Site, "hostname": res.Hostname, "already_done": res.AlreadyDone}).Info("first boot complete")
	return firstboot.ExitOK
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
