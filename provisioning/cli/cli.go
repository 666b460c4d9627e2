// Package cli is bin/provision: the commands IT staff run to enrol kiosks.
//
//	provision site create  --fleet URL --fingerprint FP --id ID [--name NAME]
//	provision token create --fleet URL --fingerprint FP --site ID [--expires 7d] [--uses 1] [--qr-png FILE]
//	provision token list   --fleet URL --fingerprint FP [--site ID]
//	provision device list  --fleet URL --fingerprint FP [--site ID]   (kiosks as they enrol)
//	provision config --fleet URL --fingerprint FP --token T [--wifi-ssid S --wifi-psk-file F | --wifi-open] [--wifi-hidden]
//	                 [--ssh-key FILE]... [--hostname-prefix P] [--out accesskiosk-firstboot.yaml]
//	provision write  --config FILE (--image FILE.img | --device /dev/sdX) [--partition N]
//
// The table of commands is commands(); main calls Main.
//
// The site and token commands call the fleet's staff admin API with a staff
// API token taken from the environment (ACCESSKIOSK_API_TOKEN) or a file
// (--api-token-file), never from the command line, where other users could
// read it in the process list. For the same reason the Wi-Fi passphrase
// comes from a file. The enrolment token is the one secret accepted as a
// flag: it is short-lived, single-use by default, and erased from the
// device on first boot.
//
// Bad flags and bad files are refused before anything is done, with exit
// status 2 and a message naming the flag or FILE:LINE: KEY.
package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"accesskiosk/internal/cmdline"
)

// Env is what the commands touch outside their arguments; tests replace it.
type Env struct {
	Stdout, Stderr io.Writer
	// Getenv reads environment variables; nil means os.Getenv.
	Getenv func(string) string
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// APITokenEnv is the environment variable holding the staff API token.
const APITokenEnv = "ACCESSKIOSK_API_TOKEN"

const intro = `provision: enrol Access Kiosk devices.

The site, token and device commands need a staff API token in $ACCESSKIOSK_API_TOKEN
or in the file given by --api-token-file.`

func commands(env Env) []cmdline.Command {
	run := func(f func(context.Context, []string, Env) error) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error { return f(ctx, args, env) }
	}
	return []cmdline.Command{
		{Name: "site create", Synopsis: siteCreateSynopsis, Summary: "add a site on the fleet", Run: run(siteCreate)},
		{Name: "token create", Synopsis: tokenCreateSynopsis, Summary: "make an enrolment token (printed with a QR code)", Run: run(tokenCreate)},
		{Name: "token list", Synopsis: listSynopsis, Summary: "enrolment tokens with their uses", Run: run(tokenList)},
		{Name: "device list", Synopsis: listSynopsis, Summary: "kiosks as they enrol", Run: run(deviceList)},
		{Name: "config", Synopsis: configSynopsis, Summary: "write the first-boot file for a card", Run: run(config)},
		{Name: "write", Synopsis: writeSynopsis, Summary: "put the first-boot file onto an image or a card", Run: run(write)},
	}
}

// Main runs `provision ARGS...` and returns the exit status (0, 1 for a
// failure, 2 for bad flags or a bad file).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cmdline.Status(stderr, "provision", Run(ctx, args, Env{Stdout: stdout, Stderr: stderr}))
}

// Run runs the command in args (without the program name). Errors that are
// *confile.Error mean bad flags or a bad file (exit status 2).
func Run(ctx context.Context, args []string, env Env) error {
	cmds := commands(env)
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		cmdline.Usage(env.Stdout, "provision", intro, cmds)
		return nil
	}
	c, rest, err := cmdline.Find(cmds, args)
	if err != nil {
		return err
	}
	return ignoreHelp(c.Run(ctx, rest))
}

// flagSet returns the flag set of `provision NAME`.
func flagSet(name, synopsis string) *cmdline.FlagSet {
	return cmdline.NewFlagSet("provision "+name, synopsis)
}

func ignoreHelp(err error) error {
	if errors.Is(err, cmdline.ErrHelp) {
		return nil
	}
	return err
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }
