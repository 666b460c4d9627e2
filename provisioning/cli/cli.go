// Package cli is bin/provision: the commands IT staff run to enrol kiosks.
//
//	provision site create  --fleet URL [--fingerprint FP] --id ID [--name NAME]
//	provision token create --fleet URL [--fingerprint FP] --site ID [--expires 7d] [--uses 1] [--qr-png FILE]
//	provision token list   --fleet URL [--fingerprint FP] [--site ID]
//	provision device list  --fleet URL [--fingerprint FP] [--site ID]   (kiosks as they enrol)
//	provision config --fleet URL --fingerprint FP --token T [--wifi-ssid S --wifi-psk-file F | --wifi-open] [--wifi-hidden]
//	                 [--ssh-key FILE]... [--hostname-prefix P] [--out accesskiosk-firstboot.yaml]
//	provision write  --config FILE (--image FILE.img | --device /dev/sdX) [--partition N]
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
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"accesskiosk/internal/confile"
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

const usage = `provision: enrol Access Kiosk devices.

  provision site create  --fleet URL [--fingerprint FP] --id ID [--name NAME]
  provision token create --fleet URL [--fingerprint FP] --site ID [--expires 7d] [--uses 1] [--qr-png FILE]
  provision token list   --fleet URL [--fingerprint FP] [--site ID]
  provision device list  --fleet URL [--fingerprint FP] [--site ID]   (kiosks as they enrol)
  provision config --fleet URL --fingerprint FP --token T [--wifi-ssid S (--wifi-psk-file F | --wifi-open)] [--wifi-hidden]
                   [--ssh-key FILE]... [--hostname-prefix P] [--out accesskiosk-firstboot.yaml]
  provision write  --config FILE (--image FILE.img | --device /dev/sdX) [--partition N]

The site and token commands need a staff API token in $ACCESSKIOSK_API_TOKEN
or in the file given by --api-token-file. "provision COMMAND -h" lists a
command's flags.
`

// Run runs the command in args (without the program name). Errors that are
// *confile.Error mean bad flags or a bad file (exit status 2).
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return &confile.Error{File: "command line", Msg: "no command given"}
	}
	cmd := args[0]
	if (cmd == "site" || cmd == "token" || cmd == "device") && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		cmd += " " + args[1]
		args = args[1:]
	}
	rest := args[1:]
	switch cmd {
	case "site create":
		return siteCreate(ctx, rest, env)
	case "token create":
		return tokenCreate(ctx, rest, env)
	case "token list":
		return tokenList(ctx, rest, env)
	case "device list":
		return deviceList(ctx, rest, env)
	case "config":
		return config(rest, env)
	case "write":
		return write(rest, env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	fmt.Fprint(env.Stderr, usage)
	return &confile.Error{File: "command line", Msg: fmt.Sprintf("unknown command %q", strings.Join(args[:min(len(args), 2)], " "))}
}

// errHelp is returned for -h: the usage was printed, nothing failed.
var errHelp = flag.ErrHelp

// parse parses a subcommand's flags, turning flag's errors into
// confile-style ones.
func parse(fs *flag.FlagSet, args []string, env Env) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		return errHelp
	}
	if err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			return confile.FlagError(name, "unknown flag (see %s -h)", fs.Name())
		}
		if i := strings.Index(msg, " for flag -"); i > 0 {
			rest := msg[i+len(" for flag -"):]
			name, detail, _ := strings.Cut(rest, ": ")
			return confile.FlagError(name, "%s", detail)
		}
		if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
			return confile.FlagError(name, "needs a value")
		}
		return &confile.Error{File: "command line", Msg: msg}
	}
	if fs.NArg() > 0 {
		return &confile.Error{File: "command line", Msg: fmt.Sprintf("%s: unexpected argument %q (every value goes after a --flag)", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// Duration is a flag value that also accepts days ("7d").
type Duration struct{ D time.Duration }

func (d *Duration) String() string { return d.D.String() }

// Set parses "7d", "36h", "90m" and the like.
func (d *Duration) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days <= 0 {
			return fmt.Errorf("want a duration such as 7d, 12h or 30m, got %q", s)
		}
		d.D = time.Duration(days * float64(24*time.Hour))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a duration such as 7d, 12h or 30m, got %q", s)
	}
	d.D = v
	return nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }
