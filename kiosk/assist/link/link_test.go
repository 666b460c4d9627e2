package link_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist/link"
)

// TestMain lets the test binary play a kiosk under another user: with
// ASSIST_LINK_DIAL set it dials that socket, writes the preamble and a
// message, and exits.
func TestMain(m *testing.M) {
	if p := os.Getenv("ASSIST_LINK_DIAL"); p != "" {
		c, err := link.Dial(context.Background(), p)
		if err != nil {
			os.Exit(3)
		}
		c.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonStop})
		time.Sleep(200 * time.Millisecond)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func listen(t *testing.T) *link.Listener {
	t.Helper()
	l, err := link.Listen(link.ListenOptions{Path: filepath.Join(t.TempDir(), "run", "assist.sock"), Group: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestRoundTrip(t *testing.T) {
	l := listen(t)
	fi, err := os.Stat(l.Path())
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v (%v), want 0660", fi.Mode().Perm(), err)
	}
	type accepted struct {
		c    *link.Conn
		peer link.Peer
		err  error
	}
	got := make(chan accepted, 1)
	go func() {
		c, p, err := l.Accept()
		got <- accepted{c, p, err}
	}()
	k, err := link.Dial(context.Background(), l.Path())
	if err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.peer.PID != int32(os.Getpid()) || a.peer.UID != uint32(os.Getuid()) {
		t.Errorf("peer %+v, want this process", a.peer)
	}
	frame, _ := wire.AppendFrame(nil, &wire.Frame{Width: 8, Height: 8, Seq: 1, Regions: []wire.Region{{W: 8, H: 8, Image: []byte{0xFF, 0xD8, 0xFF, 0}}}})
	if err := k.WriteMsg(&wire.Msg{Type: wire.TypeConsent, Granted: true}); err != nil {
		t.Fatal(err)
	}
	if err := k.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	p, err := a.c.Read()
	if err != nil || p.Msg == nil || p.Msg.Type != wire.TypeConsent || !p.Msg.Granted {
		t.Fatalf("first read: %+v %v", p, err)
	}
	p, err = a.c.Read()
	if err != nil || string(p.Frame) != string(frame) {
		t.Fatalf("second read: %v", err)
	}
	a.c.WriteMsg(&wire.Msg{Type: wire.TypePoint, X: 3, Y: 4, Text: "Here"})
	if p, err := k.Read(); err != nil || p.Msg.Type != wire.TypePoint || p.Msg.Text != "Here" {
		t.Fatalf("agent → kiosk: %+v %v", p, err)
	}
	// Either side closing: the other reads EOF at once.
	a.c.Close()
	if _, err := k.Read(); !errors.Is(err, io.EOF) {
		t.Errorf("after the agent closed: %v, want EOF", err)
	}
}

// TestRefusesOtherUsers: a process of another user that can reach the
// socket file is still refused, from its kernel credentials, before a
// byte is read.
func TestRefusesOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	dir, err := os.MkdirTemp("", "assist-link-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	l, err := link.Listen(link.ListenOptions{Path: filepath.Join(dir, "assist.sock"), Group: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(l.Path(), 0o666) // only the credentials stand in the way now
	// A copy of this test binary that user 65534 may run.
	exe, _ := os.Executable()
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	kiosk := filepath.Join(dir, "kiosk.test")
	if err := os.WriteFile(kiosk, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kiosk, "-test.run", "^$")
	cmd.Env = append(os.Environ(), "ASSIST_LINK_DIAL="+l.Path())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	type res struct {
		peer link.Peer
		err  error
	}
	got := make(chan res, 1)
	go func() {
		_, peer, err := l.Accept()
		got <- res{peer, err}
	}()
	select {
	case r := <-got:
		if !errors.Is(r.err, link.ErrPeerRefused) || r.peer.UID != 65534 {
			t.Fatalf("Accept = %+v %v, want uid 65534 refused", r.peer, r.err)
		}
	case err := <-exited:
		t.Fatalf("the other user's client exited (%v) before connecting", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no connection within 30 s")
	}
}

func TestProtocolErrors(t *testing.T) {
	for name, raw := range map[string][]byte{
		"no preamble":           []byte("GET / HTTP/1.1\r\n\r\n"),
		"oversized control":     append([]byte(link.Preamble), hdr(wire.MaxControlBytes+2, link.KindControl)...),
		"oversized frame":       append([]byte(link.Preamble), hdr(wire.MaxFrameBytes+2, link.KindFrame)...),
		"unknown kind":          append([]byte(link.Preamble), hdr(5, 9)...),
		"empty":                 append([]byte(link.Preamble), 0, 0, 0, 0, 1),
		"control not JSON":      append(append([]byte(link.Preamble), hdr(4, link.KindControl)...), "xyz!"...),
		"control unknown field": append(append([]byte(link.Preamble), hdr(26, link.KindControl)...), `{"type":"ack","seq":1,"x"}`...),
	} {
		t.Run(name, func(t *testing.T) {
			l := listen(t)
			done := make(chan error, 1)
			go func() {
				c, _, err := l.Accept()
				if err != nil {
					done <- err
					return
				}
				_, err = c.Read()
				done <- err
			}()
			raw0, err := net.Dial("unix", l.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer raw0.Close()
			raw0.Write(raw)
			select {
			case err := <-done:
				if !errors.Is(err, link.ErrProtocol) && !errors.Is(err, link.ErrPeerRefused) {
					t.Errorf("got %v, want a protocol error or a refusal", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no error within 10 s")
			}
		})
	}
}

func hdr(n uint32, kind byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(b, kind)
}

// FuzzRead: whatever bytes a peer sends, Read returns packets within the
// bounds or an error, and never more than the bytes sent.
func FuzzRead(f *testing.F) {
	good, _ := (&wire.Msg{Type: wire.TypeAck, Seq: 3}).Encode()
	f.Add(append(hdr(uint32(len(good)+1), link.KindControl), good...))
	f.Add(hdr(wire.MaxFrameBytes+2, link.KindFrame))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, z := net.Pipe()
		go func() { z.Write(b); z.Close() }()
		c := link.NewConn(a)
		defer c.Close()
		total := 0
		for {
			p, err := c.Read()
			if err != nil {
				return
			}
			total += len(p.Frame)
			if p.Msg != nil {
				if err := p.Msg.Validate(); err != nil {
					t.Fatalf("Read returned an invalid message: %v", err)
				}
			}
			if total > len(b) {
				t.Fatal("read more than was sent")
			}
		}
	})
}
