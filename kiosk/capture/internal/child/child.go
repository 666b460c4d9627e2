// Package child runs the device helper programs of kiosk/capture
// (scanimage, gst-launch-1.0) so that none outlives its job or the kiosk.
//
// A child runs in a process group of its own, so that stopping it reaches
// anything it started too; on Linux it is also killed by the kernel when
// the kiosk dies (PR_SET_PDEATHSIG), so a killed kiosk leaves no scanner or
// camera process streaming an image to nowhere. When the child exits, its
// whole group is killed before the child is reaped, while its process ID
// cannot yet be reused.
package child

import (
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a started child.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error

	stopOnce sync.Once
}

// Start starts cmd as described in the package comment. cmd's Stdout
// should be an *os.File (the write end of an os.Pipe the caller reads), so
// that reading and waiting do not depend on each other; a Stderr that is
// not a file is bounded by cmd.WaitDelay (set to 2s when zero).
func Start(cmd *exec.Cmd) (*Process, error) {
	prepare(cmd)
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 2 * time.Second
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = reap(cmd)
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process ID (and its process group's).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the child has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the child's exit error (nil for status 0) once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Stop asks the child's group to stop with SIGTERM (scanimage then cancels
// the scan in the driver, which returns a scanner's head home), kills the
// group with SIGKILL if it has not exited after grace, and returns once the
// child is reaped, with its exit error.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		}
	})
	return p.Err()
}
