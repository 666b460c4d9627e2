package config

import (
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/confile"
)

// TestVolunteerSection: the kiosk config refuses bad volunteer values with
// the file, line and key, and accepts a good section.
func TestVolunteerSection(t *testing.T) {
	base := "allow:\n  - https://www.example.gov.uk\nsession:\n  idle_timeout: 10m\n  idle_warning: 30s\ncouncil:\n  name: X\n"
	for _, tc := range []struct{ name, section, want string }{
		{"absent", "", ""},
		{"good", "volunteer:\n  assisted_idle_timeout: 30m\n  categories:\n    - id: council_tax\n      label: Council tax\n", ""},
		{"shorter than session", "volunteer:\n  assisted_idle_timeout: 5m\n", "kiosk.yaml:9: volunteer.assisted_idle_timeout: 5m0s is shorter"},
		{"too long", "volunteer:\n  assisted_idle_timeout: 8h\n", "kiosk.yaml:9: volunteer.assisted_idle_timeout: 8h0m0s is out of range"},
		{"bad hash", "volunteer:\n  pin_hash: 4071\n", "kiosk.yaml:9: volunteer.pin_hash: not an argon2id hash"},
		{"free-text category", "volunteer:\n  categories:\n    - id: Helped with rent\n      label: Rent\n", "kiosk.yaml:10: volunteer.categories[0].id:"},
		{"unknown key", "volunteer:\n  pin: 4071\n", "kiosk.yaml:9: volunteer.pin:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("kiosk.yaml", []byte(base+tc.section))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				if tc.name == "good" && c.Volunteer.IdleTimeout() != 30*time.Minute {
					t.Errorf("assisted idle timeout %v", c.Volunteer.IdleTimeout())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || confile.ExitStatus(err) != 2 {
				t.Errorf("got %v, want %q (exit 2)", err, tc.want)
			}
		})
	}
}
