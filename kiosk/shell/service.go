package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/webkit"
)

// This file is the shell's D-Bus service (kiosk/bus) and its notifications
// to systemd; nothing here blocks the GTK loop but connecting at start.

// busConnectTimeout bounds connecting to the bus at start (on the GTK
// thread): a bus that never answers the handshake would otherwise leave
// the kiosk with a window, no page and nothing logged; with the bound it
// exits with the reason and systemd starts it again.
var busConnectTimeout = 15 * time.Second

func (s *Shell) serveBus() error {
	conn := s.opts.Bus
	if conn == nil {
		// The context bounds the handshake only; the connection lives on.
		ctx, cancel := context.WithTimeout(context.Background(), busConnectTimeout)
		c, err := bus.Connect(ctx, s.cfg.DBus)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("serve D-Bus: the %s bus did not answer within %v", s.cfg.DBus, busConnectTimeout)
		}
		if err != nil {
			return fmt.Errorf("serve D-Bus: %w", err)
		}
		conn, s.ownConn = c, true
	}
	s.conn = conn
	srv, err := bus.Serve(conn, service{s})
	if err != nil {
		return fmt.Errorf("serve D-Bus on %s bus: %w", s.cfg.DBus, err)
	}
	s.server = srv
	return nil
}

// service is the shell as a bus.Service; its methods run on D-Bus goroutines.
type service struct{ s *Shell }

func (v service) EndSession(reason string) error {
	// The receipt counts from the call, and the wipe goes ahead of
	// whatever the loop has queued (a busy page's messages).
	requested := v.s.now()
	webkit.InvokeUrgent(func() { v.s.endSessionAt(reason, requested) })
	return nil
}

func (v service) Status() bus.Status {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	st := v.s.status
	st.UptimeMs = v.s.now().Sub(v.s.start).Milliseconds()
	return st
}

func (v service) ShowMessage(text string, seconds uint32) error {
	webkit.Invoke(func() { v.s.showMessage(text, time.Duration(seconds)*time.Second) })
	return nil
}

// compositorRenderer says how the compositor the kiosk runs in draws: cage
// passes its environment on, and the kiosk unit runs cage again with
// WLR_RENDERER=pixman when its GPU renderer failed at start, so that value
// here means the screen is drawn in software (the agent warns IT staff).
func compositorRenderer() string {
	if os.Getenv("WLR_RENDERER") == "pixman" {
		return bus.RendererSoftware
	}
	return ""
}

// notify queues an sd_notify message. It never blocks the GTK thread: a
// datagram socket whose reader stalls would otherwise hang the UI.
func (s *Shell) notify(state string) {
	select {
	case s.notices <- state:
	default:
	}
}

func (s *Shell) notifier() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stopTick:
			return
		case st := <-s.notices:
			if _, err := daemon.SdNotify(false, st); err != nil {
				s.log.WithError(err).Warn("sd_notify")
			}
		}
	}
}

// emit queues a D-Bus signal; signals go out in order from one goroutine.
func (s *Shell) emit(f func()) {
	if s.closed {
		return
	}
	select {
	case s.signals <- f:
	default:
		s.log.Warn("D-Bus signal queue full; signal dropped")
	}
}

func (s *Shell) emitter() {
	defer s.wg.Done()
	for f := range s.signals {
		f()
	}
}
