// Command fleet is the Access Kiosk fleet server: device API, console,
// metrics. See `fleet help`; the logic lives in accesskiosk/fleet/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"accesskiosk/fleet/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
