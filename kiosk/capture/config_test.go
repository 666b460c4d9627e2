package capture_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/capture/camera"
	"accesskiosk/kiosk/capture/scan"
)

// kioskConfig shows how kiosk/config embeds the capture sections: two
// fields, and a call to each Validate with the key it sits under.
type kioskConfig struct {
	HomeURL string        `yaml:"home_url"`
	Scanner scan.Config   `yaml:"scanner"`
	Camera  camera.Config `yaml:"camera"`
}

func (c *kioskConfig) Validate(doc *confile.Doc) error {
	if err := c.Scanner.Validate(doc, "scanner"); err != nil {
		return err
	}
	return c.Camera.Validate(doc, "camera")
}

func parse(name, yaml string) (*kioskConfig, error) {
	var c kioskConfig
	doc, err := confile.Decode(name, []byte(yaml), &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

func TestConfigEmbeds(t *testing.T) {
	c, err := parse("kiosk.yaml", `home_url: kiosk://home
scanner:
  device: "airscan:e0:Brother MFC-L2710DW"
  resolution: 300
  mode: grey
  source: Automatic Document Feeder
  page_timeout: 90s
  max_pages: 10
  max_megapixels: 12.5
  max_file_size: 8MB
camera:
  device: /dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_1234ABCD-video-index0
  width: 1920
  height: 1080
  preview_width: 800
  preview_fps: 8
  max_file_size: 5MiB
`)
	if err != nil {
		t.Fatal(err)
	}
	want := scan.Config{Device: "airscan:e0:Brother MFC-L2710DW", Resolution: 300, Mode: "grey", Source: "Automatic Document Feeder",
		PageTimeout: 90 * time.Second, MaxPages: 10, MaxMegapixels: 12.5, MaxFileSize: 8_000_000}
	if c.Scanner != want {
		t.Errorf("scanner: %+v\nwant %+v", c.Scanner, want)
	}
	if c.Camera.Width != 1920 || c.Camera.PreviewFPS != 8 || c.Camera.MaxFileSize != 5<<20 {
		t.Errorf("camera: %+v", c.Camera)
	}
	if got := c.Scanner.Limits(); got != (capture.Limits{MaxPages: 10, MaxFileSize: 8_000_000}) {
		t.Errorf("scanner limits %+v", got)
	}

	// Absent sections: no scanner, no camera, and that is not an error.
	c, err = parse("kiosk.yaml", "home_url: kiosk://home\n")
	if err != nil || c.Scanner.Configured() || c.Camera.Configured() {
		t.Errorf("no sections: %+v, %v", c, err)
	}
	c, err = parse("kiosk.yaml", "scanner:\ncamera:\n  device: test\n")
	if err != nil || c.Scanner.Configured() || !c.Camera.Configured() {
		t.Errorf("empty scanner, test camera: %+v, %v", c, err)
	}
}

// TestConfigErrors: every bad value is refused with FILE:LINE: KEY and what
// is wrong, like the rest of the kiosk config.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want string
	}{
		{"scanner:\n  resolution: 1200\n", "kiosk.yaml:2: scanner.resolution: 1200 dpi is out of range: between 75 and 600"},
		{"scanner:\n  resolution: high\n", "kiosk.yaml:2: scanner.resolution: want a whole number"},
		{"scanner:\n  mode: sepia\n", "kiosk.yaml:2: scanner.mode: want color or gray"},
		{"scanner:\n  devise: test\n", `kiosk.yaml:2: scanner.devise: unknown key (did you mean "device"?)`},
		{"scanner:\n  device: /dev/usb/lp0\n", "kiosk.yaml:2: scanner.device: \"/dev/usb/lp0\" is a path"},
		{"scanner:\n  device: \"-x\"\n", "kiosk.yaml:2: scanner.device: \"-x\" is not a SANE device name"},
		{"scanner:\n  device: \" test\"\n", "kiosk.yaml:2: scanner.device: \" test\" has spaces at an end"},
		{"scanner:\n  page_timeout: 2s\n", "kiosk.yaml:2: scanner.page_timeout: 2s is out of range"},
		{"scanner:\n  page_timeout: 2\n", "kiosk.yaml:2: scanner.page_timeout: want a duration"},
		{"scanner:\n  max_pages: 500\n", "kiosk.yaml:2: scanner.max_pages: 500 is out of range: between 1 and 100"},
		{"scanner:\n  max_megapixels: 0.5\n", "kiosk.yaml:2: scanner.max_megapixels: 0.5 is out of range"},
		{"scanner:\n  max_file_size: 10 parsecs\n", "kiosk.yaml:2: scanner.max_file_size: want a size such as 10MB"},
		{"scanner:\n  max_file_size: 1GB\n", "kiosk.yaml:2: scanner.max_file_size: 1 GB is out of range: between 100 kB and 100 MB"},
		{"scanner:\n  source: \"ADF\\n\"\n", "kiosk.yaml:2: scanner.source:"},
		{"camera:\n  device: video0\n", "kiosk.yaml:2: camera.device: want a V4L2 device such as /dev/v4l/by-id/"},
		{"camera:\n  device: /dev/../etc/passwd\n", "kiosk.yaml:2: camera.device: \"/dev/../etc/passwd\" is not a clean path"},
		{"camera:\n  device: /dev/v4l/by-id/usb-My Cam-video-index0\n", "kiosk.yaml:2: camera.device: \"/dev/v4l/by-id/usb-My Cam-video-index0\" has spaces"},
		{"camera:\n  device: test\n  width: 1280\n", "kiosk.yaml:3: camera.width: give height too, or neither (for 1280 × 720)"},
		{"camera:\n  width: 8000\n  height: 6000\n", "kiosk.yaml:2: camera.width: 8000 is out of range"},
		{"camera:\n  width: 641\n  height: 480\n", "kiosk.yaml:2: camera.width: 641 × 480: cameras give even sizes"},
		{"camera:\n  width: 320\n  height: 240\n  preview_width: 640\n", "kiosk.yaml:4: camera.preview_width: 640 is wider than the photo (320)"},
		{"camera:\n  preview_fps: 30\n", "kiosk.yaml:2: camera.preview_fps: 30 is out of range: between 1 and 15"},
		{"camera:\n  max_file_size: 10\n", "kiosk.yaml:2: camera.max_file_size: 10 bytes is out of range"},
		{"camera: /dev/video0\n", "kiosk.yaml:1: camera: want a mapping"},
	} {
		_, err := parse("kiosk.yaml", tc.yaml)
		var ce *confile.Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: %v, want a *confile.Error", tc.yaml, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got %s\nwant %s...", tc.yaml, err, tc.want)
		}
		if confile.ExitStatus(err) != confile.ExitCode {
			t.Errorf("%q: exit status %d", tc.yaml, confile.ExitStatus(err))
		}
	}
}
