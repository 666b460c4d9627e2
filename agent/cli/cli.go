// Package cli is bin/agent's command line; its main calls Main.
//
//	agent [--config FILE]                run the agent (embedded defaults without --config)
//	agent firstboot [--boot ...] ...     first boot: enrol from the card (agent/firstboot)
//	agent version                        print the version
//
// A bad config file or flag exits 2 with FILE:LINE: KEY: what is wrong,
// before doing anything.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"accesskiosk/agent"
	"accesskiosk/agent/firstboot"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/version"
)

const intro = `agent: the Access Kiosk management daemon.

  agent [--config FILE] [--version]   run the agent (the embedded defaults without --config)`

func commands(stdout, stderr io.Writer) []cmdline.Command {
	return []cmdline.Command{
		{Name: "firstboot", Synopsis: firstboot.Synopsis, Summary: "enrol this kiosk from the first-boot file on its card (run once by the image)",
			Run: func(ctx context.Context, args []string) error { return firstboot.Command(ctx, args, stdout, stderr) }},
		{Name: "version", Summary: "print the version",
			Run: func(context.Context, []string) error { fmt.Fprintln(stdout, version.Version); return nil }},
	}
}

// Main runs `agent ARGS...` and returns the exit status: 0; 1 when the
// agent cannot start or first boot should be tried again later; 2 for bad
// flags or config, and when first boot needs a person (firstboot.ExitStatus).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	prog, err := "agent", run(ctx, args, stdout, stderr)
	if len(args) > 0 && args[0] == "firstboot" {
		prog = "agent firstboot"
	}
	if err == nil || errors.Is(err, cmdline.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	return firstboot.ExitStatus(err)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands(stdout, stderr)
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		cmdline.Usage(stdout, "agent", intro, cmds)
		return nil
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c, rest, err := cmdline.Find(cmds, args)
		if err != nil {
			return err
		}
		return c.Run(ctx, rest)
	}
	fs := cmdline.NewFlagSet("agent", "[--config FILE] [--version]")
	config := fs.String("config", "", "config `FILE` (YAML); embedded defaults when not given")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Version)
		return nil
	}
	cfg, err := agent.LoadConfig(*config)
	if err != nil {
		return err
	}
	log, err := applog.New(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	if err := agent.Run(ctx, cfg, log); err != nil {
		log.WithError(err).Error("agent cannot start")
		return err
	}
	return nil
}
