//go:build !linux

package child

import (
	"os/exec"
	"syscall"
)

// prepare puts the child in its own process group. There is no parent-death
// signal off Linux.
func prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// reap waits for the child, then kills what is left of its group.
func reap(cmd *exec.Cmd) error {
	err := cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	return err
}
