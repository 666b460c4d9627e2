// Command provision creates sites and enrolment tokens on the fleet server,
// writes first-boot files and puts them into kiosk images or onto cards.
// See provisioning/cli for the commands.
package main

import (
	"accesskiosk/internal/cmdline"
	"accesskiosk/provisioning/cli"
)

func main() { cmdline.Exit(cli.Main) }
