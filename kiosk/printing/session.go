package printing

import (
	"accesskiosk/internal/ipp"
	"accesskiosk/internal/pin"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Errors of printing in a session, for errors.Is. Their messages are
// counts and states only.
var (
	ErrSessionEnded    = errors.New("the session has ended")
	ErrBusy            = errors.New("a print of this session is still being sent")
	ErrCopies          = errors.New("copies out of range")
	ErrNoColor         = errors.New("colour printing is not available")
	ErrHoldUnsupported = errors.New("the printer cannot hold jobs until they are released (job-hold-until, Release-Job)")
	ErrNotAccepting    = errors.New("the printer is not accepting jobs")
	ErrNoReleaseCodes  = errors.New("release codes are not in use (printing.release is now)")
	ErrWrongCode       = errors.New("wrong release code")
	ErrCodeLocked      = errors.New("too many wrong release codes in this session")
)

// Bounds of a Service.
const (
	// DefaultCancelTimeout bounds CancelPending when its context has no
	// deadline: the session's wipe waits at most this long for the printer.
	DefaultCancelTimeout = 15 * time.Second
	// attrsMaxAge is how long the printer's attributes are reused for
	// Print and Capabilities before asking again.
	attrsMaxAge = 30 * time.Second
	// maxWrongCodes is how many wrong release codes a session may enter.
	maxWrongCodes = 5
	// maxOrphans bounds the jobs kept for a later cancel.
	maxOrphans = 1000
	// retryInterval is how often Run retries cancelling orphans.
	retryInterval = 30 * time.Second
)

// Options configure a Service; the zero value is usable (a count in memory
// only, the real clock, no log).
type Options struct {
	// DayCountFile is where the day's page count lives, in the kiosk's
	// state directory (such as /var/lib/accesskiosk-kiosk/print-count.json);
	// "" keeps it in memory, so a restart resets it.
	DayCountFile string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log gets one line per job and per session end, with counts only;
	// nil discards.
	Log logrus.FieldLogger
	// CancelTimeout bounds CancelPending when its context has no deadline;
	// 0 means DefaultCancelTimeout.
	CancelTimeout time.Duration
}

// Service is the kiosk's printing: one printer, the day's page count, the
// kiosk-wide job rate limit, and the sessions that print. It is safe for
// concurrent use.
type Service struct {
	cfg           Config
	printer       *ipp.Printer
	day           *DayCount
	rate          *rateLimit
	now           func() time.Time
	log           logrus.FieldLogger
	cancelTimeout time.Duration

	mu      sync.Mutex
	attrs   *ipp.Attributes
	attrsAt time.Time
	orphans []orphan // jobs of ended sessions whose cancel failed
}

// orphan is a job a session could not cancel at its end.
type orphan struct {
	id    int
	pages int
	at    time.Time
}

// New returns the printing service for cfg, which must have passed
// Config.Validate with a printer set. It does not contact the printer. A
// damaged day count file is logged and replaced (the count restarts at 0).
func New(cfg Config, opts Options) (*Service, error) {
	if !cfg.Enabled() {
		return nil, errors.New("printing: no printer configured")
	}
	if cfg.MaxCopies == 0 || cfg.PagesPerSession == 0 || cfg.JobsPerMinute == 0 {
		return nil, errors.New("printing: config not validated (call Config.Validate first)")
	}
	var fp pin.Fingerprint
	if cfg.TLSSHA256 != "" {
		var err error
		if fp, err = pin.Parse(cfg.TLSSHA256); err != nil {
			return nil, fmt.Errorf("printing: tls_sha256: %w", err)
		}
	}
	p, err := ipp.NewPrinter(cfg.Printer, ipp.Options{User: cfg.User, Timeout: cfg.Timeout, Pin: fp})
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:           cfg,
		printer:       p,
		rate:          newRateLimit(cfg.JobsPerMinute, time.Minute),
		now:           opts.Now,
		log:           opts.Log,
		cancelTimeout: opts.CancelTimeout,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		l := logrus.New()
		l.Out = io.Discard
		s.log = l
	}
	if s.cancelTimeout <= 0 {
		s.cancelTimeout = DefaultCancelTimeout
	}
	s.day, err = OpenDayCount(opts.DayCountFile)
	if err != nil {
		s.log.WithError(err).Warn("print: page count file unreadable; counting today's pages from 0")
	}
	return s, nil
}

// Printer is the service's printer client (for health checks and tests).
func (s *Service) Printer() *ipp.Printer { return s.printer }

// Config is the configuration in force.
func (s *Service) Config() Config { return s.cfg }

// attributes returns the printer's attributes, asking it again when those
// held are older than maxAge.
func (s *Service) attributes(ctx context.Context, maxAge time.Duration) (*ipp.Attributes, error) {
	s.mu.Lock()
	a, at := s.attrs, s.attrsAt
	s.mu.Unlock()
	if a != nil && s.now().Sub(at) < maxAge {
		return a, nil
	}
	a, err := s.printer.Attributes(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.attrs, s.attrsAt = a, s.now()
	s.mu.Unlock()
	return a, nil
}

// Capabilities is what the print panel may offer now.
type Capabilities struct {
	Color     bool             // a colour choice may be offered (printer has it, config allows it)
	MaxCopies int              // copies the panel may offer: 1..MaxCopies
	Held      bool             // jobs are held for a release code (release: pin)
	Accepting bool             // the printer takes jobs now
	State     ipp.PrinterState // the printer's state
	Warnings  []ipp.Warning    // what is wrong with the printer, if anything
}

// Capabilities asks the printer (or reuses an answer up to 30 s old) what
// the panel may offer.
func (s *Service) Capabilities(ctx context.Context) (Capabilities, error) {
	a, err := s.attributes(ctx, attrsMaxAge)
	if err != nil {
		return Capabilities{}, err
	}
	return Capabilities{
		Color:     s.cfg.Color != ColorNever && a.CanColor(),
		MaxCopies: min(s.cfg.MaxCopies, a.MaxCopies),
		Held:      s.cfg.Release == ReleasePIN,
		Accepting: a.AcceptingJobs,
		State:     a.State,
		Warnings:  ipp.HealthWarnings(a),
	}, nil
}

// DayPagesLeft is how many pages this kiosk may still print today.
func (s *Service) DayPagesLeft() int {
	return max(0, s.cfg.PagesPerDay-s.day.Used(s.now()))
}

// Session is one resident's printing: the jobs it sent, its pages, its
// release code. Start one with StartSession when a session starts and end
// it with CancelPending when the session ends. Safe for concurrent use.
type Session struct {
	svc *Service

	mu         sync.Mutex
	sending    chan struct{} // non-nil while a Print is sending; closed when it is done
	ended      bool
	pages      int
	jobs       []*Job
	code       string
	wrongCodes int
}

// Job is one job a session sent, as last known.
type Job struct {
	ID     int          // the printer's job-id
	Pages  int          // pages it prints: document pages × copies
	Copies int          // copies asked for
	Color  bool         // colour asked for
	Held   bool         // held for a release code when sent
	State  ipp.JobState // last known state
}

// StartSession begins a session's printing. With release "pin" it draws
// the session's 4-digit release code.
func (s *Service) StartSession() *Session {
	ss := &Session{svc: s}
	if s.cfg.Release == ReleasePIN {
		ss.code = newReleaseCode()
	}
	return ss
}

func newReleaseCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		panic("printing: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%04d", n.Int64())
}

// ReleaseCode is the session's release code with release "pin" ("" with
// release "now"): the panel shows it, and the job's name carries it.
func (ss *Session) ReleaseCode() string { return ss.code }

// PagesLeft is how many pages the session may still print: the lower of
// its own allowance and the kiosk's for today.
func (ss *Session) PagesLeft() int {
	ss.mu.Lock()
	sessionLeft := ss.svc.cfg.PagesPerSession - ss.pages
	ss.mu.Unlock()
	return max(0, min(sessionLeft, ss.svc.DayPagesLeft()))
}

// Jobs is a snapshot of the jobs this session sent, oldest first.
func (ss *Session) Jobs() []Job {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]Job, len(ss.jobs))
	for i, j := range ss.jobs {
		out[i] = *j
	}
	return out
}

// PrintOptions are the resident's choices on the panel.
type PrintOptions struct {
	Copies int  // 1..Capabilities.MaxCopies; 0 means 1
	Color  bool // colour (only when Capabilities.Color); false prints in black and white where the printer can choose
}

// Print sends doc to the printer as one job, after checking the session's
// and the day's page limits and the kiosk's job rate. It returns the job
// as the printer accepted it. Refusals: *QuotaError (ErrQuota), *RateError
// (ErrRateLimited), ErrBusy while another print of the session is being
// sent, ErrCopies, ErrNoColor, ErrHoldUnsupported, ErrNotAccepting,
// ErrSessionEnded; a printer that does not answer or refuses gives the
// printer's error (ipp.ErrUnreachable, *ipp.IPPError). Nothing is counted for a
// refused print. A print that reaches the printer after the session ended
// (CancelPending stopped waiting for it) is cancelled there and gives
// ErrSessionEnded with the job.
func (ss *Session) Print(ctx context.Context, doc *Document, o PrintOptions) (Job, error) {
	s := ss.svc
	if doc == nil {
		return Job{}, errors.New("print: no document")
	}
	if o.Copies == 0 {
		o.Copies = 1
	}
	ss.mu.Lock()
	switch {
	case ss.ended:
		ss.mu.Unlock()
		return Job{}, ErrSessionEnded
	case ss.sending != nil:
		ss.mu.Unlock()
		return Job{}, ErrBusy
	}
	done := make(chan struct{})
	ss.sending = done
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		ss.sending = nil
		ss.mu.Unlock()
		close(done)
	}()

	if o.Copies < 1 || o.Copies > s.cfg.MaxCopies {
		return Job{}, fmt.Errorf("%w: %d copies asked, 1 to %d allowed", ErrCopies, o.Copies, s.cfg.MaxCopies)
	}
	a, err := s.attributes(ctx, attrsMaxAge)
	if err != nil {
		return Job{}, err
	}
	if !a.AcceptingJobs {
		return Job{}, ErrNotAccepting
	}
	if o.Copies > a.MaxCopies {
		return Job{}, fmt.Errorf("%w: %d copies asked, the printer takes at most %d", ErrCopies, o.Copies, a.MaxCopies)
	}
	t := ipp.Ticket{Name: s.cfg.JobName, Copies: o.Copies}
	switch {
	case o.Color && (s.cfg.Color == ColorNever || !a.CanColor()):
		return Job{}, ErrNoColor
	case o.Color:
		t.Color = ipp.Color
	case a.CanMonochrome():
		t.Color = ipp.Monochrome
	}
	if s.cfg.Release == ReleasePIN {
		if !a.CanHold() {
			return Job{}, ErrHoldUnsupported
		}
		t.Hold = true
		t.Name += " " + ss.code
	}

	want := doc.Pages() * o.Copies
	ss.mu.Lock()
	sessionLeft := s.cfg.PagesPerSession - ss.pages
	ss.mu.Unlock()
	if want > sessionLeft {
		return Job{}, &QuotaError{Scope: ScopeSession, Limit: s.cfg.PagesPerSession, Left: max(0, sessionLeft), Want: want}
	}
	now := s.now()
	ok, dayLeft, werr := s.day.Reserve(now, want, s.cfg.PagesPerDay)
	if !ok {
		return Job{}, &QuotaError{Scope: ScopeDay, Limit: s.cfg.PagesPerDay, Left: dayLeft, Want: want}
	}
	if werr != nil {
		s.log.WithError(werr).Warn("print: could not save today's page count")
	}
	if ok, after := s.rate.take(now); !ok {
		s.refund(now, want)
		return Job{}, &RateError{Limit: s.cfg.JobsPerMinute, RetryAfter: after}
	}

	js, err := s.printer.Submit(ctx, doc.data, t)
	if err != nil {
		s.refund(now, want)
		return Job{}, err
	}
	j := &Job{ID: js.ID, Pages: want, Copies: o.Copies, Color: o.Color, Held: t.Hold, State: js.State}
	if j.State == 0 {
		j.State = ipp.JobPending
	}
	ss.mu.Lock()
	ss.pages += want
	ss.jobs = append(ss.jobs, j)
	ended := ss.ended
	n := len(ss.jobs)
	ss.mu.Unlock()
	s.log.WithFields(logrus.Fields{"job_id": j.ID, "pages": want, "copies": o.Copies, "color": o.Color, "held": t.Hold, "session_jobs": n}).Info("print: job accepted")
	if ended {
		// The session ended while this job was on its way and
		// CancelPending gave up waiting for it: cancel it here.
		ss.cancelLate(ctx, j)
		return ss.snapshot(j), ErrSessionEnded
	}
	return ss.snapshot(j), nil
}

func (ss *Session) snapshot(j *Job) Job {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return *j
}

func (s *Service) refund(now time.Time, pages int) {
	if err := s.day.Refund(now, pages); err != nil {
		s.log.WithError(err).Warn("print: could not save today's page count")
	}
}

// cancelLate cancels a job that reached the printer after its session
// ended, or leaves it to Run's retries.
func (ss *Session) cancelLate(ctx context.Context, j *Job) {
	s := ss.svc
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cancelTimeout)
	defer cancel()
	if err := s.printer.Cancel(cctx, j.ID); err != nil && !errors.Is(err, ipp.ErrNotPossible) && !errors.Is(err, ipp.ErrNotFound) {
		s.addOrphan(j)
		return
	}
	ss.setState(j, ipp.JobCanceled)
	s.refund(s.now(), j.Pages)
	s.log.WithField("job_id", j.ID).Info("print: job that arrived after its session ended was cancelled")
}

// Refresh asks the printer for the state of the session's jobs that are
// not over yet and returns them all. A printer that does not answer leaves
// the last known states and gives its error.
func (ss *Session) Refresh(ctx context.Context) ([]Job, error) {
	var firstErr error
	for _, j := range ss.open() {
		js, err := ss.svc.printer.Job(ctx, j.ID)
		if err != nil {
			if errors.Is(err, ipp.ErrNotFound) {
				ss.setState(j, ipp.JobCanceled) // the printer forgot it; it will not print
				continue
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		ss.setState(j, js.State)
	}
	return ss.Jobs(), firstErr
}

// open lists the jobs not known to be over.
func (ss *Session) open() []*Job {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []*Job
	for _, j := range ss.jobs {
		if !j.State.Done() {
			out = append(out, j)
		}
	}
	return out
}

func (ss *Session) setState(j *Job, st ipp.JobState) {
	ss.mu.Lock()
	j.State = st
	ss.mu.Unlock()
}

// Release lets the session's held jobs print when code is the session's
// release code, and returns how many it released. After 5 wrong codes the
// session refuses every code (ErrCodeLocked).
func (ss *Session) Release(ctx context.Context, code string) (int, error) {
	if ss.code == "" {
		return 0, ErrNoReleaseCodes
	}
	ss.mu.Lock()
	if ss.wrongCodes >= maxWrongCodes {
		ss.mu.Unlock()
		return 0, ErrCodeLocked
	}
	if subtle.ConstantTimeCompare([]byte(code), []byte(ss.code)) != 1 {
		ss.wrongCodes++
		ss.mu.Unlock()
		return 0, ErrWrongCode
	}
	ss.wrongCodes = 0
	ss.mu.Unlock()
	var held []*Job
	ss.mu.Lock()
	for _, j := range ss.jobs {
		if j.Held && !j.State.Done() {
			held = append(held, j)
		}
	}
	ss.mu.Unlock()
	n := 0
	for _, j := range held {
		if err := ss.svc.printer.Release(ctx, j.ID); err != nil {
			return n, err
		}
		ss.mu.Lock()
		j.Held = false
		ss.mu.Unlock()
		n++
	}
	ss.svc.log.WithField("jobs", n).Info("print: held jobs released")
	return n, nil
}

// Receipt says what CancelPending did with the session's jobs, in counts:
// the `print_jobs` part of the session's wipe receipt (in the bus
// receipt's Cleared when Cleared() is true, in its Failed otherwise).
type Receipt struct {
	Jobs      int // jobs the session sent
	Pages     int // pages those jobs carried (pages × copies)
	Cancelled int // jobs cancelled at the end: pending, held, or stuck on a printer that cannot print
	Printing  int // jobs left to finish: already printing on a working printer
	Done      int // jobs already over (printed or cancelled) before the end
	Failed    int // jobs that could not be cancelled (printer unreachable); Service.Run keeps trying
	// Printed is the pages (pages × copies) of the jobs that printed, are
	// printing, or could not be cancelled: every job but those cancelled
	// or aborted, as far as the printer said.
	Printed int
}

// Cleared says whether nothing of the session can still come out of the
// printer later: every job is over, cancelled, or printing now.
func (r Receipt) Cleared() bool { return r.Failed == 0 }

// CancelPending ends the session's printing: no more prints, and every
// job still pending or held, or stopped on a printer that cannot go on
// (out of paper, jammed, paused), is cancelled on the printer (Cancel-Job).
// A job already printing on a working printer is left to finish. It waits
// for a print being sent, and returns by ctx's deadline (or within
// Options.CancelTimeout when ctx has none). Jobs it could not cancel are
// counted as Failed and handed to the service, which retries them (Run).
// The error is the first failure, for the log; the receipt is always valid.
func (ss *Session) CancelPending(ctx context.Context) (Receipt, error) {
	s := ss.svc
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cancelTimeout)
		defer cancel()
	}
	ss.mu.Lock()
	ss.ended = true
	sending := ss.sending
	ss.mu.Unlock()
	if sending != nil {
		select {
		case <-sending:
		case <-ctx.Done(): // Print will cancel its job itself when it lands
		}
	}

	ss.mu.Lock()
	r := Receipt{Jobs: len(ss.jobs), Pages: ss.pages}
	ss.mu.Unlock()
	open := ss.open()
	r.Done = r.Jobs - len(open)
	var firstErr error
	fail := func(j *Job, err error) {
		r.Failed++
		s.addOrphan(j)
		if firstErr == nil {
			firstErr = err
		}
	}
	var blocked *bool // whether the printer cannot print now; asked once, when needed
	for _, j := range open {
		js, err := s.printer.Job(ctx, j.ID)
		switch {
		case errors.Is(err, ipp.ErrNotFound):
			ss.setState(j, ipp.JobCanceled)
			r.Done++
			continue
		case err != nil:
			fail(j, err)
			continue
		}
		ss.setState(j, js.State)
		switch js.State {
		case ipp.JobCanceled, ipp.JobAborted, ipp.JobCompleted:
			r.Done++
			continue
		case ipp.JobProcessing:
			if blocked == nil {
				b := false
				if a, err := s.attributes(ctx, 0); err == nil {
					b = printerBlocked(a)
				}
				blocked = &b
			}
			if !*blocked {
				r.Printing++
				continue
			}
		}
		if err := s.printer.Cancel(ctx, j.ID); err != nil && !errors.Is(err, ipp.ErrNotFound) {
			if errors.Is(err, ipp.ErrNotPossible) {
				if js2, err2 := s.printer.Job(ctx, j.ID); err2 == nil && js2.State.Done() {
					ss.setState(j, js2.State)
					r.Done++
					continue
				}
			}
			fail(j, err)
			continue
		}
		ss.setState(j, ipp.JobCanceled)
		r.Cancelled++
		if js.State == ipp.JobPending || js.State == ipp.JobHeld {
			s.refund(s.now(), j.Pages) // it never printed: give the day's pages back
		}
	}
	ss.mu.Lock()
	for _, j := range ss.jobs {
		if j.State != ipp.JobCanceled && j.State != ipp.JobAborted {
			r.Printed += j.Pages
		}
	}
	ss.mu.Unlock()
	s.log.WithFields(logrus.Fields{"jobs": r.Jobs, "pages": r.Pages, "cancelled": r.Cancelled,
		"printing": r.Printing, "done": r.Done, "failed": r.Failed}).Info("print: session ended")
	return r, firstErr
}

// printerBlocked says whether the printer cannot go on printing now: it is
// stopped, or reports a condition that stops it (no paper, a jam, ...).
func printerBlocked(a *ipp.Attributes) bool {
	if a.State == ipp.PrinterStopped {
		return true
	}
	for _, w := range ipp.HealthWarnings(a) {
		switch w.Code {
		case ipp.CodeNeedsPaper, ipp.CodeJammed, ipp.CodeDoorOpen, ipp.CodeStopped, ipp.CodeOffline, ipp.CodeTonerEmpty, ipp.CodeTrayMissing, ipp.CodeWasteFull:
			if w.Severity == ipp.Critical {
				return true
			}
		}
	}
	return false
}

func (s *Service) addOrphan(j *Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.orphans) >= maxOrphans {
		s.orphans = s.orphans[1:]
	}
	s.orphans = append(s.orphans, orphan{id: j.ID, pages: j.Pages, at: s.now()})
}

// RetryCancels tries again to cancel the jobs ended sessions could not,
// and returns how many are still left. A job the printer has finished or
// forgotten is dropped.
func (s *Service) RetryCancels(ctx context.Context) int {
	s.mu.Lock()
	todo := s.orphans
	s.orphans = nil
	s.mu.Unlock()
	var left []orphan
	for _, o := range todo {
		err := s.printer.Cancel(ctx, o.id)
		switch {
		case err == nil:
			s.log.WithField("job_id", o.id).Info("print: job of an ended session cancelled on retry")
		case errors.Is(err, ipp.ErrNotFound), errors.Is(err, ipp.ErrNotPossible):
			// over already
		default:
			left = append(left, o)
		}
	}
	s.mu.Lock()
	s.orphans = append(left, s.orphans...)
	n := len(s.orphans)
	s.mu.Unlock()
	return n
}

// PendingCancels is how many jobs of ended sessions wait for a cancel.
func (s *Service) PendingCancels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orphans)
}

// Run retries cancelling the jobs ended sessions could not cancel, every
// 30 seconds while there are any, until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(retryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if s.PendingCancels() > 0 {
				s.RetryCancels(ctx)
			}
		}
	}
}
