package shell

import (
	"errors"
	"strings"
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
//   - The screens post volunteer messages to the "kiosk" script message
//     handler; volunteer.Assist answers and the shell does what it says:
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

// message handles a script message from a page (on the GTK thread). Any
// page may ask for the on-screen keyboard; only the kiosk's own pages
// (kiosk://) may drive anything else (guides, volunteer mode): their other
// messages from any other page are ignored.
func (s *Shell) message(body string) {
	if s.view == nil {
		return
	}
	if m, ok := keyboardMsg(body); ok {
		// Any page's user script may ask for the keyboard (keyboard.go).
		s.keyboardMessage(s.view, m)
		return
	}
	if !strings.HasPrefix(s.view.URI(), "kiosk://") {
		return
	}
	if s.pageMessage(body) {
		return // a built-in page's button (ui.go)
	}
	s.volunteerMessage(body)
}

// volunteerMessage handles a volunteer screen's message, from the main
// view or the pane beside it (both showing kiosk:// pages only).
func (s *Shell) volunteerMessage(body string) {
	m, err := volunteer.ParseMessage([]byte(body))
	if errors.Is(err, volunteer.ErrNotVolunteer) {
		return // other pages' messages (the idle page, the keyboard) are handled elsewhere
	}
	if err != nil {
		s.log.WithError(err).Info("script message refused")
		return
	}
	if s.vol == nil {
		return
	}
	rep, err := s.vol.Handle(m)
	if err != nil {
		s.log.WithField("action", m.Action).WithError(err).Info("volunteer message refused")
		return
	}
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
		s.view.LoadURI(rep.Main)
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
	s.view.LoadURI(rep.Main)
}

// finishVolunteer fills the receipt's volunteer fields and ends volunteer
// mode; called for every session end.
func (s *Shell) finishVolunteer(r *bus.Receipt) {
	if s.vol != nil {
		s.vol.Finish(r)
	}
}
