package layout

import (
	"fmt"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "accesskiosk"

// folder is the top-level folder of a module package ("agent", "internal").
func folder(pkg string) string {
	rest := strings.TrimPrefix(pkg, module+"/")
	top, _, _ := strings.Cut(rest, "/")
	return top
}

// testSupport reports whether pkg exists for tests only.
func testSupport(pkg string) bool {
	base := path.Base(pkg)
	return strings.HasSuffix(base, "test") || base == "fakefleet" || base == "realfleet"
}

// allowed says whether a non-test file of from may import to, and if not,
// why.
func allowed(from, to string) (bool, string) {
	if !strings.HasPrefix(to, module+"/") {
		return true, "" // standard library and third-party modules
	}
	if testSupport(from) {
		return true, ""
	}
	if testSupport(to) {
		return false, "test support is for tests only"
	}
	if slices.Contains(Contracts, to) {
		return true, ""
	}
	toFolder := folder(to)
	switch {
	case slices.Contains(Contracts, from):
		if toFolder == "internal" {
			return true, ""
		}
		return false, "a contract imports only other contracts and internal/"
	case folder(from) == "internal":
		if toFolder == "internal" {
			return true, ""
		}
		return false, "internal/ imports only internal/ and the contracts"
	case toFolder == "internal" || toFolder == folder(from):
		return true, ""
	}
	return false, fmt.Sprintf("%s/ may import only %s/..., internal/... and the contracts (%s)",
		folder(from), folder(from), strings.Join(Contracts, ", "))
}

// TestFloors checks every package's imports (tests' imports apart) against
// the floors in the package doc.
func TestFloors(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs, edges := 0, 0
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		from := f[0]
		pkgs++
		seen[from] = true
		if !slices.Contains(Deployables, folder(from)) && folder(from) != "internal" {
			t.Errorf("%s is outside the floors: put it under one of %v or internal/", from, Deployables)
		}
		for _, to := range f[1:] {
			if !strings.HasPrefix(to, module+"/") {
				continue
			}
			edges++
			if ok, why := allowed(from, to); !ok {
				t.Errorf("%s imports %s: %s", from, to, why)
			}
		}
	}
	for _, c := range Contracts {
		if !seen[c] {
			t.Errorf("contract %s is not in the module", c)
		}
	}
	if pkgs < 40 || edges < 100 {
		t.Fatalf("checked only %d packages and %d imports: go list did not list the module", pkgs, edges)
	}
	t.Logf("checked %d packages, %d imports within the module", pkgs, edges)
}

// TestRules proves the rules refuse what the floors forbid (so TestFloors
// cannot pass by allowing everything) and allow what they permit.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"accesskiosk/agent/update", "accesskiosk/fleet/release", false},
		{"accesskiosk/agent/update", "accesskiosk/fleet/release/target", true},
		{"accesskiosk/agent/firstboot", "accesskiosk/provisioning/cli", false},
		{"accesskiosk/agent/firstboot", "accesskiosk/provisioning/bootfile", true},
		{"accesskiosk/agent", "accesskiosk/fleet/server", false},
		{"accesskiosk/agent", "accesskiosk/fleet/store", false},
		{"accesskiosk/agent", "accesskiosk/fleet/console", false},
		{"accesskiosk/agent", "accesskiosk/fleet/cli", false},
		{"accesskiosk/kiosk/shell", "accesskiosk/agent/health", false},
		{"accesskiosk/kiosk/shell", "accesskiosk/fleet/api", true},
		{"accesskiosk/kiosk/shell", "accesskiosk/kiosk/bus", true},
		{"accesskiosk/fleet/server", "accesskiosk/agent/report", false},
		{"accesskiosk/fleet/console", "accesskiosk/kiosk/ui", false},
		{"accesskiosk/fleet/server", "accesskiosk/kiosk/bus", true},
		{"accesskiosk/provisioning/cli", "accesskiosk/fleet/store", false},
		{"accesskiosk/provisioning/cli", "accesskiosk/internal/fleetclient", true},
		{"accesskiosk/fleet/api", "accesskiosk/fleet/store", false},
		{"accesskiosk/kiosk/bus", "accesskiosk/kiosk/shell", false},
		{"accesskiosk/provisioning/bootfile", "accesskiosk/internal/confile", true},
		{"accesskiosk/internal/fleetclient", "accesskiosk/fleet/api", true},
		{"accesskiosk/internal/fleetclient", "accesskiosk/fleet/server", false},
		{"accesskiosk/internal/pin", "accesskiosk/agent/enrol", false},
		{"accesskiosk/agent/report", "accesskiosk/agent/fakefleet", false},
		{"accesskiosk/fleet/realfleet", "accesskiosk/fleet/server", true},
		{"accesskiosk/agent", "github.com/godbus/dbus/v5", true},
	} {
		if ok, why := allowed(tc.from, tc.to); ok != tc.ok {
			t.Errorf("allowed(%s, %s) = %v (%s), want %v", tc.from, tc.to, ok, why, tc.ok)
		}
	}
}
