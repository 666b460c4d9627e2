// Command agent is the Access Kiosk management daemon (see package
// accesskiosk/agent); its command line is accesskiosk/agent/cli.
package main

import (
	"accesskiosk/agent/cli"
	"accesskiosk/internal/cmdline"
)

func main() { cmdline.Exit(cli.Main) }
