// Package cli is bin/kiosk's command line; its main locks the OS thread
// for GTK and calls Main.
//
//	kiosk [--config FILE] [--windowed] [--screenshot PNG] [--print-config] [--version]
//	kiosk volunteer hash-pin     read a new volunteer PIN twice, print its pin_hash line
//
// With no --config it runs on the embedded default. A bad config or flag is
// refused before any window opens, with exit status 2.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"accesskiosk/internal/applog"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/shell"
	"accesskiosk/kiosk/volunteer"
)

const (
	intro = `kiosk: the Access Kiosk shell, a full-screen web view that only shows allowed services and wipes every session.

  kiosk [--config FILE] [--windowed] [--screenshot PNG] [--print-config] [--version]`
	synopsis = "[--config FILE] [--windowed] [--screenshot PNG] [--print-config] [--version]"
)

func commands(stdout, stderr io.Writer) []cmdline.Command {
	return []cmdline.Command{
		{Name: "volunteer hash-pin", Summary: "read a new volunteer PIN twice, print its volunteer.pin_hash line",
			Run: func(context.Context, []string) error { return volunteer.HashPINCommand(os.Stdin, stdout, stderr) }},
	}
}

// Main runs `kiosk ARGS...` on the calling goroutine (which must be the
// main OS thread for GTK) and returns the exit status: 0, 1 for a failure,
// 2 for bad flags or config.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cmdline.Status(stderr, "kiosk", run(ctx, args, stdout, stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands(stdout, stderr)
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		cmdline.Usage(stdout, "kiosk", intro, cmds)
		return nil
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c, rest, err := cmdline.Find(cmds, args)
		if err != nil {
			return err
		}
		if len(rest) > 0 {
			return confile.FlagError(rest[0], "%s takes no arguments", c.Name)
		}
		return c.Run(ctx, rest)
	}
	fs := cmdline.NewFlagSet("kiosk", synopsis)
	var o shell.CommandLine
	fs.StringVar(&o.ConfigPath, "config", "", "kiosk config `FILE` (YAML); default: the embedded default")
	fs.BoolVar(&o.Windowed, "windowed", false, "run in a window instead of full screen (development)")
	fs.StringVar(&o.Screenshot, "screenshot", "", "save a PNG of the home page to `FILE` once it is shown")
	printConfig := fs.Bool("print-config", false, "print the embedded default config and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	switch {
	case *printConfig:
		_, err := stdout.Write(config.DefaultYAML())
		return err
	case *showVersion:
		fmt.Fprintln(stdout, version.Version)
		return nil
	}
	cfg, err := o.LoadConfig()
	if err != nil {
		return err
	}
	log, err := applog.New(stderr, cfg.LogLevel)
	if err != nil {
		return confile.FlagError("config", "log_level: %v", err)
	}
	return shell.Main(ctx, cfg, o, applog.Component(log, "shell"), version.Version)
}
