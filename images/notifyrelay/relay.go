// Package notifyrelay forwards systemd notifications (sd_notify: READY=1,
// WATCHDOG=1, STATUS=...) from a program's descendants to systemd on behalf
// of the unit's main process.
//
// Why: the kiosk runs as a child of cage in a unit with PAMName=login. The
// PAM session (pam_systemd) moves the unit's processes into the logind
// session's scope, so systemd routes a notification by the sender's cgroup
// to session-N.scope, not to the service: the kiosk's READY=1 and watchdog
// pings never reach accesskiosk-kiosk.service (only the main PID, which
// systemd watches, still gets through), and the unit times out at start.
// systemd also sets WATCHDOG_PID to the main process, so the kiosk would
// think its watchdog is off. The relay is the main process: it gives the
// command its own notify socket, drops WATCHDOG_PID for it, and sends every
// message on, from the main PID, to systemd's socket.
package notifyrelay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// SocketName is the relay's socket inside its directory.
const SocketName = "notify-relay.sock"

// Options are the relay's settings beyond the command.
type Options struct {
	// Dir holds the relay's socket (for the unit: $RUNTIME_DIRECTORY).
	Dir string
	// Log receives the relay's own messages.
	Log io.Writer
	// RetryEnv, KEY=VALUE, is the second chance of a command that ends
	// before it sent READY=1: it is run once more with KEY=VALUE in its
	// environment, unless KEY is set already or the relay was told to
	// stop. For the kiosk: cage with the GPU renderer can crash at start
	// on a GPU or driver it cannot use (after an upgrade, say), and a
	// black screen is the worst a kiosk can show; wlroots' software
	// renderer (WLR_RENDERER=pixman) needs only kernel mode setting. The
	// kiosk paints on the CPU anyway, so residents see the same pages.
	RetryEnv string
}

// Run starts argv with NOTIFY_SOCKET pointing at a socket in o.Dir,
// forwards what arrives there to the socket NOTIFY_SOCKET named for this
// process (dropping MAINPID=, which only the main process may say), passes
// SIGTERM, SIGINT and SIGHUP on to the command, and returns its exit status
// (128+N for a signal). With no NOTIFY_SOCKET it just runs argv (and cannot
// tell whether it got ready, so it never retries).
func Run(ctx context.Context, argv []string, o Options) (int, error) {
	if len(argv) == 0 {
		return 2, errors.New("notify-relay: no command given")
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	retryKey, _, retry := strings.Cut(o.RetryEnv, "=")
	if retry && retryKey == "" {
		return 2, fmt.Errorf("notify-relay: retry environment %q: want KEY=VALUE", o.RetryEnv)
	}
	real := os.Getenv("NOTIFY_SOCKET")
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "WATCHDOG_PID=") {
			continue
		}
		if retry && strings.HasPrefix(kv, retryKey+"=") {
			retry = false // set by the unit or an admin: theirs to choose
		}
		env = append(env, kv)
	}
	var in *net.UnixConn
	if real != "" {
		sock := filepath.Join(o.Dir, SocketName)
		os.Remove(sock)
		var err error
		in, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
		if err != nil {
			return 1, fmt.Errorf("notify-relay: listen on %s: %w", sock, err)
		}
		defer os.Remove(sock)
		defer in.Close()
		if err := os.Chmod(sock, 0o600); err != nil {
			return 1, fmt.Errorf("notify-relay: %w", err)
		}
		env = append(env, "NOTIFY_SOCKET="+sock)
	} else {
		retry = false
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var (
		ready    atomic.Bool
		stopping bool
	)
	for {
		code, err := runOnce(ctx, argv, env, in, real, logw, sigs, &ready, &stopping)
		if err != nil || !retry || ready.Load() || stopping || ctx.Err() != nil {
			return code, err
		}
		retry = false
		fmt.Fprintf(logw, "notify-relay: %s ended (status %d) before it was ready; running it again with %s\n", argv[0], code, o.RetryEnv)
		// What the command started may outlive it (a kiosk whose cage
		// crashed still holds the kiosk's D-Bus name): end it first.
		endGroup(logw)
		env = append(env, o.RetryEnv)
	}
}

// runOnce runs the command once, forwarding its notifications (ready is set
// when one says READY=1) and the signals the relay gets (stopping is set).
func runOnce(ctx context.Context, argv, env []string, in *net.UnixConn, real string, logw io.Writer,
	sigs <-chan os.Signal, ready *atomic.Bool, stopping *bool) (int, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 127, fmt.Errorf("notify-relay: start %s: %w", argv[0], err)
	}
	fwd := make(chan struct{})
	if in != nil {
		in.SetReadDeadline(time.Time{})
		go func() { defer close(fwd); forward(in, real, logw, ready) }()
	} else {
		close(fwd)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			*stopping = true
			cmd.Process.Signal(s)
		case err := <-done:
			// Send on what the command said just before it ended.
			if in != nil {
				in.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			}
			<-fwd
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), nil
				}
				return ee.ExitCode(), nil
			}
			if err != nil {
				return 1, fmt.Errorf("notify-relay: %w", err)
			}
			return 0, nil
		}
	}
}

// endGroup ends every other process of the relay's process group (SIGTERM,
// then SIGKILL after 3 s) and waits until they are gone, at most 5 s. It
// does so only when the relay leads its group, as a unit's main process
// does (systemd starts it in a session of its own); anywhere else the group
// is someone else's and is left alone.
func endGroup(logw io.Writer) {
	self := os.Getpid()
	if syscall.Getpgrp() != self {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	killAt := time.Now().Add(3 * time.Second)
	var sent syscall.Signal
	for time.Now().Before(deadline) {
		left := groupMembers(self)
		if len(left) == 0 {
			return
		}
		sig := syscall.SIGTERM
		if time.Now().After(killAt) {
			sig = syscall.SIGKILL
		}
		if sig != sent {
			for _, pid := range left {
				syscall.Kill(pid, sig)
			}
			sent = sig
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(logw, "notify-relay: processes of the last run still there after 5 s: %v\n", groupMembers(self))
}

// groupMembers lists the processes in process group pgid other than pgid
// itself, from /proc.
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// forward sends each datagram on from this process until reading in fails
// (closed, or past its deadline once the command ended); ready is set when
// a datagram says READY=1.
func forward(in *net.UnixConn, real string, logw io.Writer, ready *atomic.Bool) {
	out, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: real, Net: "unixgram"})
	if err != nil {
		fmt.Fprintf(logw, "notify-relay: cannot reach systemd's notify socket %s: %v\n", real, err)
		return
	}
	defer out.Close()
	buf := make([]byte, 8192)
	for {
		n, err := in.Read(buf)
		if err != nil {
			return // the command ended and its last messages were sent on
		}
		var keep []string
		for _, line := range strings.Split(string(buf[:n]), "\n") {
			if line != "" && !strings.HasPrefix(line, "MAINPID=") {
				keep = append(keep, line)
			}
			if line == "READY=1" {
				ready.Store(true)
			}
		}
		if len(keep) == 0 {
			continue
		}
		if _, err := out.Write([]byte(strings.Join(keep, "\n"))); err != nil {
			fmt.Fprintf(logw, "notify-relay: forward %q: %v\n", keep, err)
		}
	}
}
