// Command kiosk is the Access Kiosk shell: a full-screen WebKitGTK window
// that only shows allowlisted services and wipes every session.
//
//	kiosk [--config FILE] [--windowed] [--screenshot PNG] [--print-config]
//	kiosk volunteer hash-pin     read a new volunteer PIN twice, print its pin_hash line
//
// With no --config it runs on the embedded default. A bad config or flag is
// refused before any window opens, with exit status 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"accesskiosk/internal/applog"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/shell"
	"accesskiosk/kiosk/volunteer"
)

// GTK must run on the main OS thread.
func init() { runtime.LockOSThread() }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "kiosk:", err)
	}
	os.Exit(confile.ExitStatus(err))
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "volunteer" {
		// kiosk volunteer hash-pin: print a volunteer.pin_hash for the config.
		if len(args) != 2 || args[1] != "hash-pin" {
			return confile.FlagError("volunteer", "the only volunteer command is: kiosk volunteer hash-pin")
		}
		return volunteer.HashPINCommand(os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("kiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o shell.CommandLine
	fs.StringVar(&o.ConfigPath, "config", "", "kiosk config `FILE` (YAML); default: the embedded default")
	fs.BoolVar(&o.Windowed, "windowed", false, "run in a window instead of full screen (development)")
	fs.StringVar(&o.Screenshot, "screenshot", "", "save a PNG of the home page to `FILE` once it is shown")
	printConfig := fs.Bool("print-config", false, "print the embedded default config and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return confile.FlagError("", "%v", err)
	}
	if fs.NArg() > 0 {
		return confile.FlagError(fs.Arg(0), "unexpected argument")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return shell.Main(ctx, cfg, o, applog.Component(log, "shell"), version.Version)
}
