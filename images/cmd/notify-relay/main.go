// Command notify-relay runs a command as the main process of a systemd
// unit and forwards the sd_notify messages of the command's descendants to
// systemd (images/notifyrelay says why the kiosk needs it).
//
//	notify-relay [--retry-env KEY=VALUE] COMMAND [ARGS...]
//
// --retry-env runs the command once more with KEY=VALUE added when it ends
// before it sent READY=1 (the kiosk unit: cage's software renderer when
// the GPU renderer fails).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"accesskiosk/images/notifyrelay"
)

func main() {
	fs := flag.NewFlagSet("notify-relay", flag.ContinueOnError)
	retry := fs.String("retry-env", "", "`KEY=VALUE` to run the command once more with when it ends before it is ready")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if k, _, ok := strings.Cut(*retry, "="); *retry != "" && (!ok || k == "") {
		fmt.Fprintf(os.Stderr, "notify-relay: -retry-env %q: want KEY=VALUE\n", *retry)
		os.Exit(2)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: notify-relay [--retry-env KEY=VALUE] COMMAND [ARGS...]")
		os.Exit(2)
	}
	dir := os.Getenv("RUNTIME_DIRECTORY")
	if dir == "" {
		dir = os.TempDir()
	}
	code, err := notifyrelay.Run(context.Background(), fs.Args(), notifyrelay.Options{Dir: dir, Log: os.Stderr, RetryEnv: *retry})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
