package shell

import (
	"errors"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/webkit"
)

// One-time volunteer codes from the fleet console reach the shell through
// the optional D-Bus method AddVolunteerCode (bus.VolunteerCodes): the
// agent calls it, Serve checks the code's form and lifetime, and the shell
// hands the code to its volunteer gate on the GTK thread, which keeps only
// its SHA-256. The code is never logged.

var _ bus.VolunteerCodes = service{}

// volunteerCodeWait bounds how long a D-Bus caller waits for the GTK
// thread to take a code.
const volunteerCodeWait = 5 * time.Second

// errNoVolunteerMode: the shell has no volunteer gate.
var errNoVolunteerMode = errors.New("volunteer mode is not running on this kiosk")

// AddVolunteerCode gives the volunteer gate a one-time code valid for
// seconds from now. It runs on a D-Bus goroutine and waits for the GTK
// thread, so the caller learns whether the gate took the code.
func (v service) AddVolunteerCode(code string, seconds uint32) error {
	done := make(chan error, 1)
	webkit.Invoke(func() { done <- v.s.addVolunteerCode(code, time.Duration(seconds)*time.Second) })
	select {
	case err := <-done:
		return err
	case <-time.After(volunteerCodeWait):
		return errors.New("the kiosk is busy; the code was not taken in time")
	}
}

// addVolunteerCode runs on the GTK thread. Errors never carry the code.
func (s *Shell) addVolunteerCode(code string, ttl time.Duration) error {
	if s.vol == nil {
		return errNoVolunteerMode
	}
	if err := s.vol.Gate().AddCode(code, ttl); err != nil {
		s.log.Warn("a volunteer code from the fleet was refused")
		return errors.New("the kiosk refused the volunteer code")
	}
	s.log.WithField("valid_s", int(ttl/time.Second)).Info("volunteer code added")
	return nil
}
