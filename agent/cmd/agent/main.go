// Command agent is the Access Kiosk management daemon (see package
// accesskiosk/agent). Usage:
//
//	agent [--config FILE]
//	agent firstboot [--config FILE] [--boot /boot/firmware] ...   (see agent/firstboot)
//
// With no --config it runs on its embedded defaults. A bad config file or
// flag exits 2 with FILE:LINE: KEY: what is wrong, before doing anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"accesskiosk/agent"
	"accesskiosk/agent/firstboot"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "firstboot" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return firstboot.Main(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config := fs.String("config", "", "config file (YAML); embedded defaults when not given")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintln(stderr, "agent:", flagError(err))
		return confile.ExitCode
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "agent:", confile.FlagError(fs.Arg(0), "unexpected argument"))
		return confile.ExitCode
	}
	if *showVersion {
		fmt.Fprintln(os.Stdout, version.Version)
		return 0
	}
	cfg, err := agent.LoadConfig(*config)
	if err != nil {
		fmt.Fprintln(stderr, "agent:", err)
		return confile.ExitStatus(err)
	}
	log, err := applog.New(stderr, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "agent:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, cfg, log); err != nil {
		log.WithError(err).Error("agent cannot start")
		return 1
	}
	return 0
}

// flagError turns the flag package's error into the shared
// "command line: --flag: what is wrong" form.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return confile.FlagError(name, "unknown flag (known: --config, --version)")
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return confile.FlagError(rest, "needs a value")
	}
	return &confile.Error{File: "command line", Msg: msg}
}
