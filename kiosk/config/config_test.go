package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/confile"
)

func TestDefault(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatalf("embedded default refused: %v", err)
	}
	if c.HomeURL != DefaultHomeURL {
		t.Errorf("home_url = %q, want %q", c.HomeURL, DefaultHomeURL)
	}
	if c.Session.IdleTimeout != 5*time.Minute || c.Session.IdleWarning != 30*time.Second {
		t.Errorf("session = %+v, want 5m/30s", c.Session)
	}
	if c.DBus != "session" || c.Zoom != 1 {
		t.Errorf("dbus, zoom = %q, %v; want session, 1", c.DBus, c.Zoom)
	}
	if len(c.Tiles) < 6 {
		t.Errorf("%d tiles, want the council's most-used tasks", len(c.Tiles))
	}
	for _, tile := range c.Tiles {
		if d := c.AllowList.Decide(tile.URL); !d.Allow {
			t.Errorf("tile %q is not allowed: %+v", tile.Title, d)
		}
	}
}

const good = `home_url: kiosk://home
allow:
  - https://www.example.gov.uk
session:
  idle_timeout: 2m
  idle_warning: 20s
council:
  name: Example Council
`

func TestParseGood(t *testing.T) {
	c, err := Parse("kiosk.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AllowList.Decide("https://www.example.gov.uk/x").Allow; !got {
		t.Error("rule does not allow its own host")
	}
	if got := c.FrameList.Decide("https://www.example.gov.uk/x").Allow; got {
		t.Error("empty allow_frames allows a host")
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantLine   int
		wantKey    string
	}{
		{"unknown key", good + "colour: red\n", 9, "colour"},
		{"bad duration", strings.Replace(good, "2m", "two minutes", 1), 5, "session.idle_timeout"},
		{"short timeout", strings.Replace(good, "2m", "1s", 1), 5, "session.idle_timeout"},
		{"bad rule", strings.Replace(good, "  - https://www.example.gov.uk", "  - https://www.example.gov.uk\n  - ftp://files.example.gov.uk", 1), 4, "allow[1]"},
		{"no allow", strings.Replace(good, "allow:\n  - https://www.example.gov.uk\n", "", 1), 0, "allow"},
		{"home not allowed", strings.Replace(good, "kiosk://home", "https://elsewhere.example.com/", 1), 1, "home_url"},
		{"bad dbus", good + "dbus: sometimes\n", 9, "dbus"},
		{"no council", strings.Replace(good, "  name: Example Council\n", "  name: \"\"\n", 1), 8, "council.name"},
		{"tile off list", good + "tiles:\n  - title: X\n    url: https://evil.example.com/\n", 11, "tiles[0].url"},
		{"zoom", good + "zoom: 9\n", 9, "zoom"},
		{"scanner resolution", good + "scanner:\n  device: test\n  resolution: 1200\n", 11, "scanner.resolution"},
		{"scanner unknown key", good + "scanner:\n  device: test\n  dpi: 300\n", 11, "scanner.dpi"},
		{"camera path", good + "camera:\n  device: video0\n", 10, "camera.device"},
		{"download size", good + "files:\n  max_download_size: 2GB\n", 10, "files.max_download_size"},
		{"session size", good + "files:\n  max_session_size: 10kB\n", 10, "files.max_session_size"},
		{"download over session", good + "files:\n  max_download_size: 50MB\n  max_session_size: 20MB\n", 10, "files.max_download_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("kiosk.yaml", []byte(tt.yaml))
			ce, ok := err.(*confile.Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *confile.Error", err, err)
			}
			if ce.Key != tt.wantKey || (tt.wantLine != 0 && ce.Line != tt.wantLine) || ce.File != "kiosk.yaml" {
				t.Errorf("got %s:%d key %q, want line %d key %q (%v)", ce.File, ce.Line, ce.Key, tt.wantLine, tt.wantKey, err)
			}
			if confile.ExitStatus(err) != 2 {
				t.Errorf("exit status %d, want 2", confile.ExitStatus(err))
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kiosk.yaml")
	if err := os.WriteFile(p, DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("default written to a file refused: %v", err)
	}
	if _, err := Load(p + ".missing"); confile.ExitStatus(err) != 2 {
		t.Errorf("missing file: %v, want a config error", err)
	}
}

// TestFilePickerKeys: scanner:, camera: and files: as IT staff write them,
// and the defaults when they leave them out.
func TestFilePickerKeys(t *testing.T) {
	c, err := Parse("kiosk.yaml", []byte(good+`scanner:
  device: test
  resolution: 300
  mode: grey
  max_file_size: 8MB
camera:
  device: /dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_1234ABCD-video-index0
files:
  max_download_size: 5MB
  max_session_size: 50MB
`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Scanner.Configured() || c.Scanner.Resolution != 300 || c.Scanner.MaxFileSize != 8e6 || !c.Camera.Configured() ||
		c.Files.MaxDownloadSize != 5e6 || c.Files.MaxSessionSize != 50e6 {
		t.Errorf("parsed %+v %+v %+v", c.Scanner, c.Camera, c.Files)
	}
	c, err = Parse("kiosk.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Scanner.Configured() || c.Camera.Configured() || c.Files.MaxDownloadSize != DefaultMaxDownloadSize || c.Files.MaxSessionSize != DefaultMaxSessionSize {
		t.Errorf("defaults %+v %+v %+v", c.Scanner, c.Camera, c.Files)
	}
}
