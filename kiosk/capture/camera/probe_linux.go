package camera

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// v4l2Capability is struct v4l2_capability (linux/videodev2.h).
type v4l2Capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

const (
	vidiocQuerycap     = 0x80685600 // _IOR('V', 0, struct v4l2_capability)
	capVideoCapture    = 0x00000001
	capVideoCaptureMpl = 0x00001000
	capDeviceCaps      = 0x80000000
	v4l2CapabilitySize = 104
	_                  = uint(v4l2CapabilitySize - unsafe.Sizeof(v4l2Capability{})) // size check
	_                  = uint(unsafe.Sizeof(v4l2Capability{}) - v4l2CapabilitySize)
)

// queryCapture opens path without blocking and asks V4L2 whether it
// captures video (a UVC camera's metadata node does not).
func queryCapture(path string) error {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EACCES) {
			return fmt.Errorf("%s: permission denied (the kiosk user needs the video group)", path)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var c v4l2Capability
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), vidiocQuerycap, uintptr(unsafe.Pointer(&c))); errno != 0 {
		return fmt.Errorf("%s is not a V4L2 device (%v)", path, errno)
	}
	caps := c.Capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.DeviceCaps
	}
	if caps&(capVideoCapture|capVideoCaptureMpl) == 0 {
		return fmt.Errorf("%s is a V4L2 device that captures no video (a camera's metadata node? use its video-index0 link)", path)
	}
	return nil
}
