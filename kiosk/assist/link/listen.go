package link

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Peer is who is on the other end of a Unix socket, as the kernel says
// (SO_PEERCRED at connect time).
type Peer struct {
	PID int32
	UID uint32
	GID uint32
}

// ListenOptions configure the agent's side.
type ListenOptions struct {
	// Path of the socket; "" means DefaultSocket. A stale socket file left
	// by an earlier run is replaced; any other file there is an error.
	Path string
	// AllowUIDs are the users a kiosk may run as; a connection from any
	// other user is closed before a byte is read. Empty means only the
	// agent's own user (tests).
	AllowUIDs []uint32
	// Group, when not -1, is the socket's group (the kiosk's), so the
	// kiosk can connect while others cannot even open it (mode 0660).
	Group int
	// PreambleTimeout bounds how long a connection may take to send the
	// preamble; 0 means 5 s.
	PreambleTimeout time.Duration
}

// Listener is the agent's socket.
type Listener struct {
	ln   *net.UnixListener
	opts ListenOptions
	path string
}

// Listen creates the socket (its directory 0750 if missing) and listens.
func Listen(opts ListenOptions) (*Listener, error) {
	path := opts.Path
	if path == "" {
		path = DefaultSocket
	}
	if opts.PreambleTimeout <= 0 {
		opts.PreambleTimeout = 5 * time.Second
	}
	if len(opts.AllowUIDs) == 0 {
		opts.AllowUIDs = []uint32{uint32(os.Getuid())}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("assist socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("assist socket %s: a file that is not a socket is in the way", path)
		}
		os.Remove(path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on assist socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(true)
	// The directory keeps others out until the mode is set; the peer
	// credentials decide in any case.
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("assist socket %s: %w", path, err)
	}
	if opts.Group >= 0 && opts.Group != os.Getgid() {
		if err := os.Chown(path, -1, opts.Group); err != nil {
			ln.Close()
			return nil, fmt.Errorf("assist socket %s: give it to group %d: %w", path, opts.Group, err)
		}
	}
	return &Listener{ln: ln, opts: opts, path: path}, nil
}

// Path is where the socket is.
func (l *Listener) Path() string { return l.path }

// Close stops listening and removes the socket file.
func (l *Listener) Close() error { return l.ln.Close() }

// ErrPeerRefused is wrapped by Accept's per-connection errors when the
// peer is not an allowed user or did not greet correctly. Accept goes on.
var ErrPeerRefused = errors.New("assist link: connection refused")

// Accept waits for the next kiosk connection whose peer credentials are
// allowed and whose preamble is right, and returns it with the peer. A
// refused connection is closed and reported as an error wrapping
// ErrPeerRefused (call Accept again); any other error means the listener
// is closed.
func (l *Listener) Accept() (*Conn, Peer, error) {
	uc, err := l.ln.AcceptUnix()
	if err != nil {
		return nil, Peer{}, fmt.Errorf("accept on assist socket: %w", err)
	}
	peer, err := PeerOf(uc)
	if err != nil {
		uc.Close()
		return nil, Peer{}, fmt.Errorf("%w: %v", ErrPeerRefused, err)
	}
	allowed := false
	for _, u := range l.opts.AllowUIDs {
		allowed = allowed || peer.UID == u
	}
	if !allowed {
		uc.Close()
		return nil, peer, fmt.Errorf("%w: uid %d (pid %d) is not the kiosk's user", ErrPeerRefused, peer.UID, peer.PID)
	}
	uc.SetReadDeadline(time.Now().Add(l.opts.PreambleTimeout))
	var pre [len(Preamble)]byte
	if _, err := io.ReadFull(uc, pre[:]); err != nil || string(pre[:]) != Preamble {
		uc.Close()
		return nil, peer, fmt.Errorf("%w: no link preamble from pid %d", ErrPeerRefused, peer.PID)
	}
	uc.SetReadDeadline(time.Time{})
	return NewConn(uc), peer, nil
}

// PeerOf asks the kernel who is on the other end of c.
func PeerOf(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if cerr != nil {
		return Peer{}, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	return Peer{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}, nil
}
