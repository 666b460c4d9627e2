package webkit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyKioskUsesWebKit proves the layout rule of DESIGN.md: agent/ and
// fleet/ never import kiosk/webkit (so they build with CGO_ENABLED=0 and
// cross-compile without a C toolchain), and kiosk/webkit is the only
// package in the module with cgo files.
func TestOnlyKioskUsesWebKit(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-f", "{{.ImportPath}}|{{join .Deps \" \"}}|{{len .CgoFiles}}", "accesskiosk/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	const webkit = "accesskiosk/kiosk/webkit"
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		pkg, deps, cgo := parts[0], strings.Fields(parts[1]), parts[2]
		if cgo != "0" && pkg != webkit {
			t.Errorf("%s has cgo files; only %s may", pkg, webkit)
		}
		if !strings.HasPrefix(pkg, "accesskiosk/agent") && !strings.HasPrefix(pkg, "accesskiosk/fleet") {
			continue
		}
		checked++
		for _, d := range deps {
			if d == webkit || strings.HasPrefix(d, webkit+"/") {
				t.Errorf("%s imports %s (directly or not); agent and fleet must build without cgo", pkg, d)
			}
		}
	}
	t.Logf("checked %d agent and fleet packages", checked)
}
