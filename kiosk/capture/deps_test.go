package capture_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: kiosk/capture and its sub-packages have no cgo and do not
// import the shell, the UI, the kiosk config or WebKit: they build with
// CGO_ENABLED=0, and a kiosk tool or test can use them without a display.
// (The agent does not import them; internal/layout keeps it to agent/,
// the contracts and internal/. It learns device health from the kiosk.)
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Deps \" \"}}|{{len .CgoFiles}}", "accesskiosk/kiosk/capture/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	forbidden := []string{"accesskiosk/kiosk/webkit", "accesskiosk/kiosk/shell", "accesskiosk/kiosk/ui", "accesskiosk/kiosk/config"}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list line %q", line)
		}
		n++
		if parts[2] != "0" {
			t.Errorf("%s has cgo files", parts[0])
		}
		for _, d := range strings.Fields(parts[1]) {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s", parts[0], d)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("checked %d packages; want capture, scan, camera and internal/child", n)
	}
}
