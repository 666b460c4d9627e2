package firstboot

import "golang.org/x/sys/unix"

// remount changes the mount at dir (its mount point) to read-only or
// read-write, as `mount -o remount,ro|rw DIR` does.
func remount(dir string, readOnly bool) error {
	flags := uintptr(unix.MS_REMOUNT)
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	return unix.Mount("", dir, "", flags, "")
}
