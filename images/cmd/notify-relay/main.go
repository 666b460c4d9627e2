// Command notify-relay runs a command as the main process of a systemd
// unit and forwards the sd_notify messages of the command's descendants to
// systemd (images/notifyrelay says why the kiosk needs it).
//
//	notify-relay COMMAND [ARGS...]
package main

import (
	"context"
	"fmt"
	"os"

	"accesskiosk/images/notifyrelay"
)

func main() {
	dir := os.Getenv("RUNTIME_DIRECTORY")
	if dir == "" {
		dir = os.TempDir()
	}
	code, err := notifyrelay.Run(context.Background(), os.Args[1:], dir, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
