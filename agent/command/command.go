// Package command carries out what IT staff ask of a device through the
// fleet: end the session, restart the kiosk, reboot, show a message,
// identify, hand the kiosk a one-time volunteer code. A volunteer code is
// passed to the kiosk and forgotten: it is never logged, never written to
// the journal and never repeated in an acknowledgement. Each command has an id and runs at most once, even across agent
// restarts and when the fleet sends it again because an acknowledgement
// was lost: a journal on disk remembers every command seen and its result.
// Results are acknowledged in the next report batch. Unknown or malformed
// commands are refused with a reason, never crashed on.
package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/health"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/kiosk/bus"
)

// KindIdentify puts the device's id and site on its screen, so staff on
// site can tell which kiosk the console means.
const KindIdentify = api.CommandIdentify

// Kiosk is the part of the kiosk the commands use (kiosklink.Link).
type Kiosk interface {
	EndSession(ctx context.Context, reason string) error
	ShowMessage(ctx context.Context, text string, d time.Duration) error
}

// VolunteerCodes is the optional part of a Kiosk that accepts one-time
// volunteer codes (kiosklink.Link, over kiosk/bus AddVolunteerCode). A Kiosk
// without it refuses volunteer_code; an error wrapping bus.ErrNotSupported
// (a kiosk without volunteer mode) refuses it too.
type VolunteerCodes interface {
	AddVolunteerCode(ctx context.Context, code string, d time.Duration) error
}

// Assist passes an offer of remote help (assist_offer) to the agent's
// assist relay (agent/assist Relay.Offer): it dials the fleet with the
// share id, and the kiosk asks its resident. nil refuses the kind.
type Assist func(ctx context.Context, shareID string) error

// System is the part of the operating system the commands use (system.Manager).
type System interface {
	RestartUnit(ctx context.Context, unit string) error
	Reboot(ctx context.Context) error
}

// Options configure an Executor.
type Options struct {
	// Journal is the file the executor remembers commands in.
	Journal string
	Kiosk   Kiosk
	System  System
	// Assist takes assist_offer; nil refuses it (remote help is off).
	Assist Assist
	// KioskUnit is restarted by restart_kiosk; "" refuses that command.
	KioskUnit string
	// AllowReboot: false refuses reboot.
	AllowReboot bool
	// Identity is the text identify shows ("Kiosk ab12 at Central Library").
	Identity func() string
	// Timeout bounds each command; 0 means 30s.
	Timeout time.Duration
	Now     func() time.Time
	Log     logrus.FieldLogger
}

// Executor runs commands and keeps their acknowledgements until sent.
type Executor struct {
	o Options

	mu      sync.Mutex
	journal []record // oldest first, bounded by maxJournal
}

type record struct {
	ID      string          `json:"id"`
	Kind    string          `json:"kind"`
	Started bool            `json:"started"`
	Ack     *api.CommandAck `json:"ack,omitempty"` // nil while running
	Sent    bool            `json:"sent"`          // the fleet has the ack
}

const (
	maxJournal = 500
	maxIDLen   = api.MaxIDLen
)

// Open loads the journal (creating none until the first command). A
// command found started but without a result (the agent died while running
// it) is acknowledged as failed, not run again; a reboot found that way is
// acknowledged as done, since the reboot is what ended the agent.
func Open(o Options) (*Executor, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		l := logrus.New()
		l.Out = nilWriter{}
		o.Log = l
	}
	e := &Executor{o: o}
	b, err := os.ReadFile(o.Journal)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("read command journal: %w", err)
	}
	if err := json.Unmarshal(b, &e.journal); err != nil {
		// A damaged journal must not stop the agent; the risk is running a
		// command twice, so say so loudly.
		o.Log.WithError(err).Error("command journal is damaged; starting a new one")
		e.journal = nil
		return e, nil
	}
	changed := false
	for i := range e.journal {
		r := &e.journal[i]
		if r.Ack == nil {
			ack := api.CommandAck{ID: r.ID, Status: api.AckFailed, Detail: "the agent stopped while carrying it out", UnixMs: o.Now().UnixMilli()}
			if r.Kind == api.CommandReboot {
				ack.Status, ack.Detail = api.AckDone, "rebooted"
			}
			r.Ack, changed = &ack, true
		}
	}
	if changed {
		if err := e.save(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// Run carries out cmds in order. Commands already in the journal are not
// run again; their acknowledgement is queued again if the fleet is still
// sending them (the earlier one was lost). It returns how many commands
// were new.
func (e *Executor) Run(ctx context.Context, cmds []api.Command) int {
	n := 0
	for _, c := range cmds {
		if e.resend(c.ID) {
			continue
		}
		n++
		e.run(ctx, c)
	}
	return n
}

func (e *Executor) resend(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.journal {
		if e.journal[i].ID == id && id != "" {
			if e.journal[i].Sent {
				e.journal[i].Sent = false
				e.saveLogged()
			}
			return true
		}
	}
	return false
}

func (e *Executor) run(ctx context.Context, c api.Command) {
	log := e.o.Log.WithFields(logrus.Fields{"command_id": c.ID, "kind": c.Kind})
	if reason := validate(c); reason != "" {
		log.WithField("reason", reason).Warn("command refused")
		if c.ID == "" || len(c.ID) > maxIDLen {
			return // nothing to acknowledge it by
		}
		e.finish(c, api.AckRefused, reason, false)
		return
	}
	if refused := e.refusal(c); refused != "" {
		log.WithField("reason", refused).Warn("command refused")
		e.finish(c, api.AckRefused, refused, false)
		return
	}
	e.mu.Lock()
	e.add(record{ID: c.ID, Kind: c.Kind, Started: true})
	err := e.save()
	e.mu.Unlock()
	if err != nil {
		// Without a journal entry the command could run twice; refuse it.
		log.WithError(err).Error("cannot record command; not running it")
		e.mu.Lock()
		e.journal = e.journal[:len(e.journal)-1]
		e.mu.Unlock()
		return
	}
	cctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	var detail string
	switch c.Kind {
	case api.CommandEndSession:
		err = e.o.Kiosk.EndSession(cctx, bus.ReasonFleetCommand)
	case api.CommandShowMessage:
		err = e.o.Kiosk.ShowMessage(cctx, strings.TrimSpace(c.Text), time.Duration(c.Seconds)*time.Second)
	case KindIdentify:
		err = e.o.Kiosk.ShowMessage(cctx, e.o.Identity(), 60*time.Second)
	case api.CommandVolunteerCode:
		err = e.o.Kiosk.(VolunteerCodes).AddVolunteerCode(cctx, c.Text, time.Duration(c.Seconds)*time.Second)
		if errors.Is(err, bus.ErrNotSupported) {
			log.Warn("command refused: the kiosk does not accept volunteer codes")
			e.finish(c, api.AckRefused, "the kiosk does not accept volunteer codes (no volunteer mode in this kiosk version)", true)
			return
		}
		// Errors from kiosk/bus never carry the code: both ends check it
		// before use and report only what is wrong with it.
	case api.CommandAssistOffer:
		// The offer waits at most its Seconds (the fleet's share expires).
		octx, ocancel := context.WithTimeout(cctx, time.Duration(c.Seconds)*time.Second)
		err = e.o.Assist(octx, c.Text)
		ocancel()
	case api.CommandRestartKiosk:
		err = e.o.System.RestartUnit(cctx, e.o.KioskUnit)
		detail = "restarted " + e.o.KioskUnit
	case api.CommandReboot:
		// Record success first: a successful reboot ends this process
		// before it could write anything.
		e.finish(c, api.AckDone, "rebooting", true)
		if err = e.o.System.Reboot(cctx); err == nil {
			log.Info("reboot requested")
			return
		}
	}
	if err != nil {
		log.WithError(err).Warn("command failed")
		e.finish(c, api.AckFailed, health.Clip(err.Error(), api.MaxTextLen), true)
		return
	}
	log.Info("command done")
	e.finish(c, api.AckDone, detail, true)
}

func (e *Executor) refusal(c api.Command) string {
	switch {
	case c.Kind == api.CommandRestartKiosk && e.o.KioskUnit == "":
		return "no kiosk unit is configured on this device"
	case c.Kind == api.CommandReboot && !e.o.AllowReboot:
		return "reboot is disabled in this device's config"
	case (c.Kind == api.CommandEndSession || c.Kind == api.CommandShowMessage || c.Kind == KindIdentify) && e.o.Kiosk == nil:
		return "no kiosk link"
	case (c.Kind == api.CommandRestartKiosk || c.Kind == api.CommandReboot) && e.o.System == nil:
		return "no system bus"
	case c.Kind == KindIdentify && e.o.Identity == nil:
		return "no identity to show"
	case c.Kind == api.CommandAssistOffer && e.o.Assist == nil:
		return "remote help (assist) is not enabled on this device"
	case c.Kind == api.CommandVolunteerCode && e.o.Kiosk == nil:
		return "no kiosk link"
	case c.Kind == api.CommandVolunteerCode:
		if _, ok := e.o.Kiosk.(VolunteerCodes); !ok {
			return "this agent's kiosk link cannot pass volunteer codes"
		}
	}
	return ""
}

// validate returns why c is malformed, or "".
func validate(c api.Command) string {
	switch {
	case c.ID == "":
		return "command has no id"
	case len(c.ID) > maxIDLen:
		return "command id is too long"
	}
	switch c.Kind {
	case api.CommandEndSession, api.CommandRestartKiosk, api.CommandReboot, KindIdentify:
		if c.Text != "" || c.Seconds != 0 {
			return fmt.Sprintf("%s takes no text or seconds", c.Kind)
		}
	case api.CommandShowMessage:
		t := strings.TrimSpace(c.Text)
		switch {
		case t == "":
			return "show_message needs text"
		case !utf8.ValidString(t):
			return "show_message text is not UTF-8"
		case utf8.RuneCountInString(t) > bus.MaxMessageLen:
			return fmt.Sprintf("show_message text is longer than %d characters", bus.MaxMessageLen)
		case c.Seconds < 0 || c.Seconds > bus.MaxMessageSeconds:
			return fmt.Sprintf("show_message seconds must be 0 to %d", bus.MaxMessageSeconds)
		}
	case api.CommandVolunteerCode:
		if err := api.CheckVolunteerCode(c.Text, c.Seconds); err != nil {
			return "volunteer_code " + err.Error()
		}
	case api.CommandAssistOffer:
		if err := api.CheckAssistOffer(c.Text, c.Seconds); err != nil {
			return "assist_offer " + err.Error()
		}
	case "":
		return "command has no kind"
	default:
		k := c.Kind
		if len(k) > 40 {
			k = k[:40]
		}
		return fmt.Sprintf("unknown command kind %q", k)
	}
	return ""
}

func (e *Executor) finish(c api.Command, status, detail string, started bool) {
	ack := api.CommandAck{ID: c.ID, Status: status, Detail: detail, UnixMs: e.o.Now().UnixMilli()}
	e.mu.Lock()
	defer e.mu.Unlock()
	found := false
	for i := range e.journal {
		if e.journal[i].ID == c.ID {
			e.journal[i].Ack, e.journal[i].Sent, found = &ack, false, true
		}
	}
	if !found {
		e.add(record{ID: c.ID, Kind: c.Kind, Started: started, Ack: &ack})
	}
	e.saveLogged()
}

func (e *Executor) add(r record) {
	e.journal = append(e.journal, r)
	if len(e.journal) > maxJournal {
		// Drop the oldest acknowledged records; keep anything unsent.
		keep := e.journal[:0]
		over := len(e.journal) - maxJournal
		for _, r := range e.journal {
			if over > 0 && r.Sent {
				over--
				continue
			}
			keep = append(keep, r)
		}
		e.journal = keep
	}
}

// Acks returns the acknowledgements not yet sent, oldest first, at most
// api.MaxAcksPerBatch.
func (e *Executor) Acks() []api.CommandAck {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []api.CommandAck
	for _, r := range e.journal {
		if r.Ack != nil && !r.Sent && len(out) < api.MaxAcksPerBatch {
			out = append(out, *r.Ack)
		}
	}
	return out
}

// Sent marks acks as delivered to the fleet.
func (e *Executor) Sent(acks []api.CommandAck) {
	if len(acks) == 0 {
		return
	}
	ids := map[string]bool{}
	for _, a := range acks {
		ids[a.ID] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.journal {
		if ids[e.journal[i].ID] && e.journal[i].Ack != nil {
			e.journal[i].Sent = true
		}
	}
	e.saveLogged()
}

func (e *Executor) saveLogged() {
	if err := e.save(); err != nil {
		e.o.Log.WithError(err).Error("save command journal")
	}
}

// save writes the journal crash-safely. Callers hold e.mu.
func (e *Executor) save() error {
	b, err := json.Marshal(e.journal)
	if err != nil {
		return err
	}
	dir := filepath.Dir(e.o.Journal)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save command journal: %w", err)
	}
	if err := atomicfile.Write(e.o.Journal, b, 0o600); err != nil {
		return fmt.Errorf("save command journal: %w", err)
	}
	return nil
}
