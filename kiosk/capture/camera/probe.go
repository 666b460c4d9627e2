package camera

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"

	"accesskiosk/kiosk/capture"
)

// Probe says whether the camera is there and usable, without opening a
// stream: the device node exists, is a character device this user may
// open, and answers VIDIOC_QUERYCAP as a video capture device. It does not
// disturb an open stream. gst-launch-1.0 missing is Failing too.
func (c *Camera) Probe(ctx context.Context) capture.Health {
	if !c.Configured() {
		return capture.Health{State: capture.NotConfigured}
	}
	if _, err := exec.LookPath(c.prog); err != nil {
		return capture.Health{State: capture.Failing, Detail: ErrUnavailable.Error()}
	}
	if c.cfg.Device == TestDevice {
		return capture.Health{State: capture.Present}
	}
	fi, err := os.Stat(c.cfg.Device)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return capture.Health{State: capture.Absent, Detail: fmt.Sprintf("%s does not exist", c.cfg.Device)}
	case err != nil:
		return capture.Health{State: capture.Failing, Detail: err.Error()}
	case fi.Mode()&fs.ModeCharDevice == 0:
		return capture.Health{State: capture.Failing, Detail: fmt.Sprintf("%s is not a device", c.cfg.Device)}
	}
	if err := queryCapture(c.cfg.Device); err != nil {
		return capture.Health{State: capture.Failing, Detail: err.Error()}
	}
	return capture.Health{State: capture.Present}
}
