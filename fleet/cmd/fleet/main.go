// Command fleet is the Access Kiosk fleet server: device API, console,
// metrics. See `fleet help`; the logic lives in accesskiosk/fleet/cli.
package main

import (
	"accesskiosk/fleet/cli"
	"accesskiosk/internal/cmdline"
)

func main() { cmdline.Exit(cli.Main) }
