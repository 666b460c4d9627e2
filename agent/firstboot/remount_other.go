//go:build !linux

package firstboot

import "errors"

func remount(dir string, readOnly bool) error {
	return errors.New("remounting is only supported on Linux")
}
