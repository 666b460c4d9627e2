//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
)

// ShareNetworkProcess makes every ephemeral context made after it run its
// network session in one shared network process, instead of a network
// process of its own (about 14 MiB PSS each; the kiosk's spare view
// otherwise brings a second one). Call on the GTK thread after Init and
// before the first NewContext; later calls do nothing.
//
// How: WebKitGTK 4.1 starts a new network process for an ephemeral
// website data manager unless a persistent one exists, whose network
// process it then shares. So this makes one persistent manager, the
// anchor, which no view ever uses, for the life of the process, with its
// directories in dir (created 0700). WebKit puts empty structures there
// when the network process starts (an HSTS database, a cache salt, empty
// storage folders); no page, so nothing of a session, ever reaches them.
// Each context keeps its own ephemeral session in the shared process, and
// destroying the context destroys that session and all it held.
func ShareNetworkProcess(dir string) error {
	if !initialised.Load() {
		return errors.New("webkit: ShareNetworkProcess before Init")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("webkit: share the network process: %w", err)
	}
	d := cstr(dir)
	defer free(d)
	if C.ak_share_network_process(d) == 0 {
		return errors.New("webkit: share the network process: cannot make the anchor data manager")
	}
	return nil
}
