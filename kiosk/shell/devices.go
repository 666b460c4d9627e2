package shell

import (
	"context"
	"sync/atomic"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/capture/camera"
	"accesskiosk/kiosk/capture/scan"
)

// This file is the file picker's devices: the scanner and the camera the
// config names, and what the kiosk last saw of them. Each is asked every
// probeEvery (never while the picker is using it) off the GTK loop; the
// state goes into D-Bus Status (scanner, camera: present, absent,
// failing), from which the agent raises scanner_missing and the like for
// IT staff, and decides whether the picker offers the choice at all.

// probeEvery is how often the devices are asked how they are.
const probeEvery = time.Minute

// devices are the picker's devices.
type devices struct {
	scanner  *scan.Scanner // nil: none configured
	camera   *camera.Camera
	refused  int         // file chooser requests refused (tests)
	scanning atomic.Bool // the picker is scanning: no probe now

	// Guarded by Shell.mu.
	scanH, camH capture.Health
}

// startDevices makes the devices the config names and watches them.
func (s *Shell) startDevices() {
	s.makeDevices()
	if s.dev.scanner != nil || s.dev.camera != nil {
		go s.probeDevices()
	}
}

// makeDevices makes the devices the config names (again). On the GTK
// loop, which alone reads them without the lock.
func (s *Shell) makeDevices() {
	var sc *scan.Scanner
	var cam *camera.Camera
	if s.cfg.Scanner.Configured() {
		sc = scan.New(s.cfg.Scanner, scan.Options{Log: s.log, Env: s.opts.ScanEnv})
	}
	if s.cfg.Camera.Configured() {
		cam = camera.New(s.cfg.Camera, camera.Options{Log: s.log, Env: s.opts.CameraEnv})
	}
	s.mu.Lock()
	s.dev.scanner, s.dev.camera = sc, cam
	s.mu.Unlock()
}

// probeDevices asks the devices how they are, now and every probeEvery,
// until the shell closes.
func (s *Shell) probeDevices() {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		s.probeOnce()
		select {
		case <-s.stopTick:
			return
		case <-t.C:
		}
	}
}

func (s *Shell) probeOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc, cam := s.devs()
	if sc != nil && !s.dev.scanning.Load() {
		h := sc.Probe(ctx)
		if h.State == capture.Failing && s.dev.scanning.Load() {
			h.State = capture.Present // busy with our own scan
		}
		s.setHealth(true, h)
	}
	if cam != nil {
		s.setHealth(false, cam.Probe(ctx)) // a query that does not disturb a preview
	}
}

// devs are the devices, read off the loop.
func (s *Shell) devs() (*scan.Scanner, *camera.Camera) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dev.scanner, s.dev.camera
}

func (s *Shell) setHealth(scanner bool, h capture.Health) {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := ""
	switch h.State {
	case capture.Present:
		state = bus.DevicePresent
	case capture.Absent:
		state = bus.DeviceAbsent
	case capture.Failing:
		state = bus.DeviceFailing
	}
	if scanner {
		if s.dev.scanH.State != h.State {
			s.log.WithField("scanner", h.String()).Info("scanner state")
		}
		s.dev.scanH, s.status.Scanner = h, state
	} else {
		if s.dev.camH.State != h.State {
			s.log.WithField("camera", h.String()).Info("camera state")
		}
		s.dev.camH, s.status.Camera = h, state
	}
}

func (s *Shell) scanHealth() capture.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dev.scanH
}

func (s *Shell) camHealth() capture.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dev.camH
}
