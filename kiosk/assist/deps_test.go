package assist_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The shell feeds kiosk/assist frames, the agent imports its link: no cgo,
// and no deployable's packages beyond the contracts. The wire imports
// nothing of the module, the link only the wire; the fleet's hub nothing
// of the kiosk's or the agent's.
func TestDeps(t *testing.T) {
	allowed := map[string][]string{
		"accesskiosk/fleet/assist/wire": nil,
		"accesskiosk/kiosk/assist/link": {"accesskiosk/fleet/assist/wire"},
		"accesskiosk/kiosk/assist":      {"accesskiosk/fleet/assist/wire", "accesskiosk/kiosk/assist/link", "accesskiosk/internal/"},
		"accesskiosk/agent/assist":      {"accesskiosk/fleet/assist/wire", "accesskiosk/kiosk/assist/link", "accesskiosk/internal/"},
		// The hub: the wire, the fleet's shared throttle (wrong codes are
		// counted across replicas) and the internal packages (the pin of
		// the replicas' certificate).
		"accesskiosk/fleet/assist": {"accesskiosk/fleet/assist/wire", "accesskiosk/fleet/server/throttle", "accesskiosk/internal/"},
	}
	for pkg, ok := range allowed {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}|{{len .CgoFiles}}", pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
	deps:
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			dep, cgo, _ := strings.Cut(line, "|")
			if cgo != "0" {
				t.Errorf("%s depends on %s, which has cgo files", pkg, dep)
			}
			if !strings.HasPrefix(dep, "accesskiosk/") || dep == pkg {
				continue
			}
			for _, a := range ok {
				if dep == a || strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a) {
					continue deps
				}
			}
			t.Errorf("%s imports %s", pkg, dep)
		}
	}
}
