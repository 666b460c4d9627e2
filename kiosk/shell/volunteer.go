package shell

import (
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit"
)

// Volunteer mode (package volunteer has the rules, kiosk/ui the screens):
//
//   - The toolbar's Volunteer button opens kiosk://volunteer, the PIN pad.
//   - After the PIN, the service picker sits in the pane beside the
//     service view (split.go), and the guide it picks replaces it there.
//   - The screens post volunteer messages through the bridge (bridge.go:
//     only the kiosk's own top-level pages can); volunteer.Assist answers
//     (a PIN or code entry is checked off the GTK loop) and the shell does
//     what it says:
//     load a page, start an assisted session (longer idle timeout, the
//     "Volunteer helping" banner), or end the session (reason handover,
//     the normal full wipe).
//   - During an assisted session, End session is the hand-over: it opens
//     the outcome screen instead of the resident's confirmation.
//   - Every receipt goes through Assist.Finish, which sets assisted,
//     category and outcome from the configured vocabulary only and returns
//     the next session to unassisted.

const toolVolunteer = 100

// startVolunteer makes the unlock gate and adds the toolbar button.
func (s *Shell) startVolunteer() error {
	gate, err := volunteer.NewGate(s.cfg.Volunteer, s.now)
	if err != nil {
		return err
	}
	s.vol = volunteer.NewAssist(&s.cfg.Volunteer, gate)
	s.win.AddTool(toolVolunteer, "Volunteer", "Volunteer", webkit.ToolNormal, true)
	return nil
}

// Volunteer is the shell's volunteer mode (for one-time codes: Volunteer().Gate().AddCode).
func (s *Shell) Volunteer() *volunteer.Assist { return s.vol }

// idleTimeout is the current session's idle timeout: longer when assisted.
func (s *Shell) idleTimeout() time.Duration {
	if s.vol != nil {
		if on, d := s.vol.Active(); on {
			return max(d, s.cfg.Session.IdleTimeout)
		}
	}
	return s.cfg.Session.IdleTimeout
}

// assisted reports whether a volunteer is helping in this session.
func (s *Shell) assisted() bool {
	if s.vol == nil {
		return false
	}
	on, _ := s.vol.Active()
	return on
}

// indicator is the banner's resting text, in the session's language.
func (s *Shell) indicator() string {
	if s.assisted() {
		return s.tr("vol.banner")
	}
	return ""
}

// volunteerMessage handles a volunteer screen's message, from the bridge
// (bridge.go): the PIN pad in the service view, the picker in the pane.
func (s *Shell) volunteerMessage(m bridgeMsg) {
	if s.vol == nil {
		return
	}
	vm, err := volunteer.ParseMessage(m.raw)
	if err != nil {
		s.log.WithError(err).Info("script message refused")
		return
	}
	if vm.Action == volunteer.ActionUnlock {
		if m.from != fromService {
			s.bridge.refused++ // the PIN pad is the service view's page
			return
		}
		s.unlock(vm)
		return
	}
	rep, err := s.vol.Handle(vm)
	if err != nil {
		s.log.WithField("action", vm.Action).WithError(err).Info("volunteer message refused")
		return
	}
	s.volunteerReply(rep)
}

// unlock checks a PIN or code entry off the GTK loop (every attempt
// derives the PIN's key in full: tens of milliseconds), one at a time, and
// applies the answer on the loop if the session it was typed in is still
// on. Entries typed while one is being checked are dropped.
func (s *Shell) unlock(vm volunteer.Message) {
	if s.unlocking {
		s.bridge.refused++
		return
	}
	s.unlocking = true
	gen := s.sessionGen
	vol := s.vol
	go func() {
		rep, err := vol.Handle(vm)
		webkit.Invoke(func() {
			s.unlocking = false
			if s.closed {
				return
			}
			if gen != s.sessionGen {
				// The session ended while the entry was checked: it does
				// not unlock the next one.
				if rep.Assisted {
					var r bus.Receipt
					vol.Finish(&r)
				}
				return
			}
			if err != nil {
				s.log.WithField("action", vm.Action).WithError(err).Info("volunteer message refused")
				return
			}
			s.volunteerReply(rep)
		})
	}()
}

// volunteerReply does what volunteer.Assist answered.
func (s *Shell) volunteerReply(rep volunteer.Reply) {
	if rep.Assisted {
		s.log.Info("assisted session started")
		s.lastInput = s.now() // the idle timer counts from the unlock
		if s.state == bus.StateIdle {
			s.input(s.now())
		}
		s.win.Banner(s.indicator())
	}
	if rep.End {
		s.endSession(bus.ReasonHandover)
		return
	}
	if rep.Main != "" {
		s.loadPrivileged(rep.Main)
	}
	if rep.Panel != "" {
		// The picker and the guides it opens sit beside the service.
		s.openPane(s.cur, rep.Panel)
	}
}

// handOver opens the outcome screen (End session during an assisted session).
func (s *Shell) handOver() {
	rep, err := s.vol.Handle(volunteer.Message{Action: volunteer.ActionHandover})
	if err != nil || rep.Main == "" {
		s.endSession(bus.ReasonHandover)
		return
	}
	s.closeGuide(s.cur) // the outcome screen is the volunteer's, full width
	s.loadPrivileged(rep.Main)
}

// finishVolunteer fills the receipt's volunteer fields and ends volunteer
// mode; called for every session end.
func (s *Shell) finishVolunteer(r *bus.Receipt) {
	if s.vol != nil {
		s.vol.Finish(r)
	}
}
