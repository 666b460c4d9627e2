// Command kiosk is the Access Kiosk shell; its command line is
// accesskiosk/kiosk/cli.
package main

import (
	"runtime"

	"accesskiosk/internal/cmdline"
	"accesskiosk/kiosk/cli"
)

// GTK must run on the main OS thread: cmdline.Exit runs cli.Main on it.
func init() { runtime.LockOSThread() }

func main() { cmdline.Exit(cli.Main) }
