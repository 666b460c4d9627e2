package printing

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The agent (built with CGO_ENABLED=0) will use this package for printer
// health: it must build without cgo and stay clear of the shell.
func TestNoCgoNoShell(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}|{{len .CgoFiles}}", "accesskiosk/kiosk/printing")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, cgo, _ := strings.Cut(line, "|")
		switch {
		case cgo != "0":
			t.Errorf("%s has cgo files", pkg)
		case strings.HasPrefix(pkg, "accesskiosk/") && pkg != "accesskiosk/kiosk/printing" &&
			!strings.HasPrefix(pkg, "accesskiosk/internal/"):
			t.Errorf("kiosk/printing imports %s: only internal/ is allowed", pkg)
		}
	}
}
