// Package layout holds no code: it writes down the floors of the module
// and its test (deps_test.go) enforces them on every package's imports.
//
//	deployables   kiosk/  agent/  fleet/  provisioning/  images/
//	              each imports only its own folder, the contracts and internal/
//	contracts     fleet/api  kiosk/bus  fleet/release/bundle  fleet/release/target  provisioning/bootfile
//	              fleet/assist/wire  kiosk/assist/link
//	              what two deployables share; they import no deployable package
//	internal      internal/...: libraries every program uses; they import no deployable package
//
// Test support (packages named *test, fakefleet, realfleet) may import
// anything, and only tests import it.
package layout

// Contracts are the packages two deployables share: the wire between agent
// and fleet, the kiosk's D-Bus contract, the release format, the
// first-boot file format, and remote help's frame wire (kiosk, agent, fleet
// and the console's viewer) and the kiosk-to-agent link.
var Contracts = []string{
	"accesskiosk/fleet/api",
	"accesskiosk/kiosk/bus",
	"accesskiosk/fleet/release/bundle",
	"accesskiosk/fleet/release/target",
	"accesskiosk/provisioning/bootfile",
	"accesskiosk/fleet/assist/wire",
	"accesskiosk/kiosk/assist/link",
}

// Deployables are the top-level folders that each build programs or images.
var Deployables = []string{"kiosk", "agent", "fleet", "provisioning", "images"}
