package shell

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/config"
)

// TestBusThatNeverAnswers: a bus that accepts the connection and never
// answers the handshake makes the shell's start fail with the reason
// within the bound, instead of leaving a window with no page for ever.
func TestBusThatNeverAnswers(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // read everything, answer nothing
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	old := busConnectTimeout
	busConnectTimeout = 500 * time.Millisecond
	defer func() { busConnectTimeout = old }()

	s := &Shell{cfg: &config.Config{DBus: "unix:path=" + sock}}
	done := make(chan error, 1)
	go func() { done <- s.serveBus() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not answer within 500ms") {
			t.Errorf("serveBus: %v, want the bus named as not answering", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serveBus still waiting for the bus after 30s")
	}
}
