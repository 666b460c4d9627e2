// Command provision creates sites and enrolment tokens on the fleet server,
// writes first-boot files and puts them into kiosk images or onto cards.
// See provisioning/cli for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"accesskiosk/internal/confile"
	"accesskiosk/provisioning/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "provision:", err)
	}
	os.Exit(confile.ExitStatus(err))
}
