package printing

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/internal/ipp"
	"accesskiosk/internal/ipp/ipptest"
	"accesskiosk/internal/pin"
)

// These tests print to real printers on loopback: ippeveprinter (an IPP
// Everywhere printer) and cupsd with a queue in front of one. What arrived
// and in which state each job is are read back from the printer (its spool
// directory, and ipptool, CUPS's own client), not from this package.

// fakeClock is the service's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t *testing.T, cfg Config, opts Options) *Service {
	t.Helper()
	if err := cfg.Validate(nil, "printing"); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func threePages(t testing.TB) *Document {
	t.Helper()
	ipptest.Need(t, "pdfinfo")
	doc, err := OpenDocument(context.Background(), "testdata/three-pages-chromium.pdf", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// pdfinfoPages counts a spooled document's pages with pdfinfo directly.
func pdfinfoPages(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("pdfinfo", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo on the printer's copy: %v", err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gave no page count:\n%s", out)
	}
	return string(m[1])
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestPrintArrivesAsOnePDFJob(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: pr.URI}, Options{})
	caps, err := svc.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if caps.Color || caps.MaxCopies != 3 || !caps.Accepting || caps.Held || len(caps.Warnings) != 0 {
		t.Errorf("capabilities of a monochrome printer: %+v", caps)
	}
	sess := svc.StartSession()
	doc := threePages(t)
	job, err := sess.Print(ctx, doc, PrintOptions{Copies: 1})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID <= 0 || job.Pages != 3 || job.Held {
		t.Errorf("job %+v", job)
	}

	files := pr.WaitSpool(t, 1)
	got, _ := os.ReadFile(files[0])
	if !bytes.Equal(got, doc.data) {
		t.Errorf("the printer's copy (%d bytes) differs from the document (%d bytes)", len(got), len(doc.data))
	}
	if n := pdfinfoPages(t, files[0]); n != "3" {
		t.Errorf("the printer's copy has %s pages, want 3", n)
	}
	attrs := ipptest.JobAttributes(t, pr.URI, job.ID)
	for k, want := range map[string]string{
		"job-name": "Access Kiosk", "job-originating-user-name": "kiosk",
		"print-color-mode": "monochrome",
	} {
		if attrs[k] != want {
			t.Errorf("on the printer, %s = %q, want %q", k, attrs[k], want)
		}
	}
	ipptest.WaitJobState(t, pr.URI, job.ID, "completed")

	if left := sess.PagesLeft(); left != 17 {
		t.Errorf("session pages left %d, want 17", left)
	}
	if left := svc.DayPagesLeft(); left != 297 {
		t.Errorf("day pages left %d, want 297", left)
	}
	jobs, err := sess.Refresh(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].State != ipp.JobCompleted {
		t.Errorf("Refresh: %+v, %v", jobs, err)
	}
	r, err := sess.CancelPending(ctx)
	if err != nil || r != (Receipt{Jobs: 1, Pages: 3, Done: 1, Printed: 3}) || !r.Cleared() {
		t.Errorf("receipt %+v, err %v", r, err)
	}
	if _, err := sess.Print(ctx, doc, PrintOptions{}); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("print after the session ended: %v", err)
	}
}

func TestCopiesAndColour(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{Color: true})
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: pr.URI}, Options{})
	caps, err := svc.Capabilities(ctx)
	if err != nil || !caps.Color {
		t.Fatalf("colour printer: %+v, %v", caps, err)
	}
	sess := svc.StartSession()
	doc := threePages(t)
	colour, err := sess.Print(ctx, doc, PrintOptions{Copies: 2, Color: true})
	if err != nil {
		t.Fatal(err)
	}
	mono, err := sess.Print(ctx, doc, PrintOptions{Copies: 1})
	if err != nil {
		t.Fatal(err)
	}
	if colour.Pages != 6 || mono.Pages != 3 || sess.PagesLeft() != 11 {
		t.Errorf("pages: colour job %d, mono job %d, left %d; want 6, 3, 11", colour.Pages, mono.Pages, sess.PagesLeft())
	}
	a := ipptest.JobAttributes(t, pr.URI, colour.ID)
	if a["copies"] != "2" || a["print-color-mode"] != "color" {
		t.Errorf("colour job on the printer: copies %q, print-color-mode %q", a["copies"], a["print-color-mode"])
	}
	a = ipptest.JobAttributes(t, pr.URI, mono.ID)
	if a["copies"] != "" && a["copies"] != "1" || a["print-color-mode"] != "monochrome" {
		t.Errorf("mono job on the printer: copies %q, print-color-mode %q", a["copies"], a["print-color-mode"])
	}
	if _, err := sess.Print(ctx, doc, PrintOptions{Copies: 4}); !errors.Is(err, ErrCopies) {
		t.Errorf("4 copies of at most 3: %v", err)
	}
	if n := len(pr.WaitSpool(t, 2)); n != 2 {
		t.Errorf("%d documents reached the printer, want 2", n)
	}

	// color: never keeps a colour printer in black and white.
	never := newService(t, Config{Printer: pr.URI, Color: ColorNever}, Options{})
	if caps, _ := never.Capabilities(ctx); caps.Color {
		t.Error("color: never still offers colour")
	}
	if _, err := never.StartSession().Print(ctx, doc, PrintOptions{Color: true}); !errors.Is(err, ErrNoColor) {
		t.Errorf("colour with color: never: %v", err)
	}

	// A monochrome printer refuses colour before anything is sent.
	monoPr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	monoSvc := newService(t, Config{Printer: monoPr.URI}, Options{})
	if _, err := monoSvc.StartSession().Print(ctx, doc, PrintOptions{Color: true}); !errors.Is(err, ErrNoColor) {
		t.Errorf("colour on a monochrome printer: %v", err)
	}
	if files := monoPr.SpoolFiles(t); len(files) != 0 {
		t.Errorf("a refused print reached the printer: %v", files)
	}
}

func TestQuota(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	ctx := ctxT(t)
	clock := newClock()
	countFile := filepath.Join(t.TempDir(), "print-count.json")
	cfg := Config{Printer: pr.URI, PagesPerSession: 5, PagesPerDay: 8, JobsPerMinute: 30}
	svc := newService(t, cfg, Options{DayCountFile: countFile, Now: clock.Now})
	doc := threePages(t)

	s1 := svc.StartSession()
	j1, err := s1.Print(ctx, doc, PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The resident collects the printout before the session ends (a job
	// still pending at the end would be cancelled and not counted).
	ipptest.WaitJobState(t, pr.URI, j1.ID, "completed")
	_, err = s1.Print(ctx, doc, PrintOptions{})
	var qe *QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, ErrQuota) || qe.Scope != ScopeSession || qe.Left != 2 || qe.Want != 3 {
		t.Fatalf("second print in a 5-page session: %v", err)
	}
	if want := "this print needs 3 pages but 2 are left for this session (limit 5)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if _, err := s1.CancelPending(ctx); err != nil {
		t.Fatal(err)
	}

	s2 := svc.StartSession()
	if _, err := s2.Print(ctx, doc, PrintOptions{}); err != nil {
		t.Fatal(err)
	}
	if left := s2.PagesLeft(); left != 2 {
		t.Errorf("session 2: %d pages left, want 2 (the day's 8 less 6)", left)
	}
	s3 := svc.StartSession()
	_, err = s3.Print(ctx, doc, PrintOptions{})
	if !errors.As(err, &qe) || qe.Scope != ScopeDay || qe.Left != 2 {
		t.Fatalf("third session past the day's limit: %v", err)
	}
	if !strings.Contains(err.Error(), "left for this kiosk today (limit 8)") {
		t.Errorf("message %q", err)
	}

	// A restart keeps the day's count: the same file, a new service.
	svc2 := newService(t, cfg, Options{DayCountFile: countFile, Now: clock.Now})
	if _, err := svc2.StartSession().Print(ctx, doc, PrintOptions{}); !errors.As(err, &qe) || qe.Scope != ScopeDay {
		t.Fatalf("after a restart: %v, want the day's limit still reached", err)
	}
	// The next day it prints again.
	clock.Add(24 * time.Hour)
	if _, err := svc2.StartSession().Print(ctx, doc, PrintOptions{}); err != nil {
		t.Fatalf("next day: %v", err)
	}
	if n := len(pr.WaitSpool(t, 3)); n != 3 {
		t.Errorf("%d documents reached the printer, want 3", n)
	}
}

// A page that calls window.print() in a loop, from several places at
// once, gets at most jobs_per_minute jobs to the printer, in any session.
func TestPrintLoopIsRateLimited(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	ctx := ctxT(t)
	clock := newClock()
	svc := newService(t, Config{Printer: pr.URI, JobsPerMinute: 2, PagesPerSession: 500, PagesPerDay: 10000}, Options{Now: clock.Now})
	doc, err := ReadDocument(ctx, bytes.NewReader(makePDF(1)), DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sess := svc.StartSession()
	var (
		mu              sync.Mutex
		ok, busy, rated int
		other           []error
		wg              sync.WaitGroup
	)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				_, err := sess.Print(ctx, doc, PrintOptions{})
				mu.Lock()
				var re *RateError
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrBusy):
					busy++
				case errors.As(err, &re) && re.RetryAfter > 0 && re.RetryAfter <= time.Minute:
					rated++
				default:
					other = append(other, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 2 || len(other) != 0 || rated == 0 {
		t.Fatalf("100 prints in a loop: %d sent, %d busy, %d rate-limited, other errors %v; want 2 sent", ok, busy, rated, other)
	}
	// A new session does not reset the kiosk's rate.
	if _, err := svc.StartSession().Print(ctx, doc, PrintOptions{}); !errors.Is(err, ErrRateLimited) {
		t.Errorf("new session within the minute: %v", err)
	}
	clock.Add(61 * time.Second)
	if _, err := sess.Print(ctx, doc, PrintOptions{}); err != nil {
		t.Errorf("a minute later: %v", err)
	}
	if n := len(pr.WaitSpool(t, 3)); n != 3 {
		t.Errorf("%d jobs reached the printer, want 3", n)
	}
	if sess.PagesLeft() != 497 {
		t.Errorf("refused prints were counted: %d pages left, want 497", sess.PagesLeft())
	}
}

// startQueue runs cupsd with a queue "desk" in front of an ippeveprinter.
func startQueue(t *testing.T) (*ipptest.Printer, *ipptest.CUPS, string) {
	t.Helper()
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	cups := ipptest.StartCUPS(t)
	return pr, cups, cups.AddQueue(t, "desk", pr.URI)
}

func TestHeldJobCancelledAtSessionEnd(t *testing.T) {
	pr, _, queue := startQueue(t)
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: queue, Release: ReleasePIN}, Options{})
	sess := svc.StartSession()
	code := sess.ReleaseCode()
	if !regexp.MustCompile(`^\d{4}$`).MatchString(code) {
		t.Fatalf("release code %q", code)
	}
	job, err := sess.Print(ctx, threePages(t), PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := ipptest.JobAttributes(t, queue, job.ID)
	if a["job-state"] != "pending-held" || a["job-hold-until"] != "indefinite" || a["job-name"] != "Access Kiosk "+code {
		t.Fatalf("held job on CUPS: state %q, hold %q, name %q", a["job-state"], a["job-hold-until"], a["job-name"])
	}
	if svc.DayPagesLeft() != 297 {
		t.Errorf("day pages left %d, want 297 while held", svc.DayPagesLeft())
	}

	r, err := sess.CancelPending(ctx)
	if err != nil || r != (Receipt{Jobs: 1, Pages: 3, Cancelled: 1}) {
		t.Fatalf("receipt %+v, err %v", r, err)
	}
	if st := ipptest.JobState(t, queue, job.ID); st != "canceled" {
		t.Errorf("on CUPS the job is %q after the session ended, want canceled", st)
	}
	if files := pr.SpoolFiles(t); len(files) != 0 {
		t.Errorf("the cancelled job reached the printer: %v", files)
	}
	if svc.DayPagesLeft() != 300 {
		t.Errorf("a cancelled held job still counts: %d pages left today, want 300", svc.DayPagesLeft())
	}
}

func TestHeldJobReleasedWithCode(t *testing.T) {
	pr, _, queue := startQueue(t)
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: queue, Release: ReleasePIN}, Options{})
	sess := svc.StartSession()
	doc := threePages(t)
	job, err := sess.Print(ctx, doc, PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wrong := "0000"
	if sess.ReleaseCode() == wrong {
		wrong = "1111"
	}
	if n, err := sess.Release(ctx, wrong); n != 0 || !errors.Is(err, ErrWrongCode) {
		t.Fatalf("wrong code: %d released, %v", n, err)
	}
	if st := ipptest.JobState(t, queue, job.ID); st != "pending-held" {
		t.Fatalf("after a wrong code the job is %q", st)
	}
	if n, err := sess.Release(ctx, sess.ReleaseCode()); n != 1 || err != nil {
		t.Fatalf("right code: %d released, %v", n, err)
	}
	files := pr.WaitSpool(t, 1)
	got, _ := os.ReadFile(files[0])
	if !bytes.Equal(got, doc.data) || pdfinfoPages(t, files[0]) != "3" {
		t.Errorf("released job reached the printer as %d bytes, want the 3-page document", len(got))
	}
	ipptest.WaitJobState(t, queue, job.ID, "completed")
	r, err := sess.CancelPending(ctx)
	if err != nil || r.Done != 1 || r.Cancelled != 0 || !r.Cleared() {
		t.Errorf("receipt after release: %+v, %v", r, err)
	}

	// Guessing is bounded: five wrong codes lock the session's code.
	s2 := svc.StartSession()
	for i := 0; i < 5; i++ {
		s2.Release(ctx, wrong)
	}
	if _, err := s2.Release(ctx, s2.ReleaseCode()); !errors.Is(err, ErrCodeLocked) {
		t.Errorf("after 5 wrong codes: %v", err)
	}
}

func TestPinNeedsAPrinterThatHolds(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: pr.URI, Release: ReleasePIN}, Options{})
	_, err := svc.StartSession().Print(ctx, threePages(t), PrintOptions{})
	if !errors.Is(err, ErrHoldUnsupported) {
		t.Fatalf("release pin on ippeveprinter (no job-hold-until): %v", err)
	}
	if files := pr.SpoolFiles(t); len(files) != 0 || svc.DayPagesLeft() != 300 {
		t.Errorf("refused print: spool %v, day pages left %d", files, svc.DayPagesLeft())
	}
}

// A job waiting on a printer with no paper would print for the next
// person once paper is loaded: the session's end cancels it.
func TestJobStuckWithoutPaperIsCancelled(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	ctx := ctxT(t)
	pr.SetPaper(t, 0)
	svc := newService(t, Config{Printer: pr.URI}, Options{})
	sess := svc.StartSession()
	job, err := sess.Print(ctx, threePages(t), PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ipptest.WaitJobState(t, pr.URI, job.ID, "processing")
	r, err := sess.CancelPending(ctx)
	if err != nil || r.Cancelled != 1 || r.Printing != 0 {
		t.Fatalf("receipt %+v, err %v", r, err)
	}
	pr.SetPaper(t, 100)
	st, reasons := ipptest.PrinterState(t, pr.URI)
	t.Logf("after loading paper: printer %s, %s; job %v", st, reasons, ipptest.JobAttributes(t, pr.URI, job.ID)["job-state-reasons"])
	if st := ipptest.WaitJobState(t, pr.URI, job.ID, "canceled", "completed"); st != "canceled" {
		t.Errorf("once paper was loaded the job was %s, want canceled", st)
	}
}

// A job already printing on a working printer is left to finish; the one
// waiting behind it in the CUPS queue is cancelled.
func TestSessionEndLeavesPrintingJobCancelsPending(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{Slow: true})
	cups := ipptest.StartCUPS(t)
	queue := cups.AddQueue(t, "desk", pr.URI)
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: queue}, Options{})
	sess := svc.StartSession()
	doc := threePages(t)
	first, err := sess.Print(ctx, doc, PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ipptest.WaitJobState(t, queue, first.ID, "processing")
	second, err := sess.Print(ctx, doc, PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := ipptest.JobState(t, queue, second.ID); st != "pending" {
		t.Fatalf("second job is %q behind a printing one, want pending", st)
	}
	r, err := sess.CancelPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Jobs != 2 || r.Printing+r.Done != 1 || r.Cancelled != 1 || r.Printed != 3 {
		t.Errorf("receipt %+v: want the first left printing (or done), the second cancelled", r)
	}
	if st := ipptest.JobState(t, queue, second.ID); st != "canceled" {
		t.Errorf("second job is %q on CUPS, want canceled", st)
	}
	if st := ipptest.JobState(t, queue, first.ID); st != "processing" && st != "completed" {
		t.Errorf("first job is %q on CUPS, want it left printing", st)
	}
	if n := len(pr.WaitSpool(t, 1)); n != 1 {
		t.Errorf("%d documents reached the printer, want the first only", n)
	}
}

// A print server that hangs at the end of a session: the wipe is not held
// up past CancelTimeout, the job is counted as not cleared, and the
// service cancels it once the server answers again.
func TestHungPrintServerAtSessionEnd(t *testing.T) {
	pr, cups, queue := startQueue(t)
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: queue, Release: ReleasePIN, Timeout: 2 * time.Second}, Options{CancelTimeout: 2 * time.Second})
	sess := svc.StartSession()
	job, err := sess.Print(ctx, threePages(t), PrintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cups.Freeze(t)
	start := time.Now()
	r, err := sess.CancelPending(context.Background())
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("CancelPending took %v with a 2s bound", d)
	}
	if !errors.Is(err, ipp.ErrUnreachable) || r.Failed != 1 || r.Cleared() || svc.PendingCancels() != 1 {
		t.Fatalf("receipt %+v, err %v, pending cancels %d", r, err, svc.PendingCancels())
	}
	start = time.Now()
	if _, err := svc.StartSession().Print(ctx, threePages(t), PrintOptions{}); !errors.Is(err, ipp.ErrUnreachable) {
		t.Errorf("print to a hung server: %v", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("print to a hung server took %v", d)
	}
	cups.Thaw(t)
	if left := svc.RetryCancels(ctx); left != 0 {
		t.Fatalf("%d cancels left after the server came back", left)
	}
	if st := ipptest.JobState(t, queue, job.ID); st != "canceled" {
		t.Errorf("job is %q on CUPS, want canceled", st)
	}
	if files := pr.SpoolFiles(t); len(files) != 0 {
		t.Errorf("the job reached the printer: %v", files)
	}
}

// The session ends while a print is on its way to a print server that
// answers slowly: CancelPending stops waiting at its deadline, and the
// job, once it lands, is cancelled by the print that sent it.
func TestSessionEndRacesAPrintOnItsWay(t *testing.T) {
	pr, cups, queue := startQueue(t)
	ctx := ctxT(t)
	svc := newService(t, Config{Printer: queue}, Options{})
	if _, err := svc.Capabilities(ctx); err != nil { // the attributes are cached before the freeze
		t.Fatal(err)
	}
	sess := svc.StartSession()
	doc := threePages(t)
	// Paused, the queue keeps the job pending once it lands, so what the
	// test sees does not depend on whether CUPS starts it before the
	// cancel arrives.
	cups.Pause(t, "desk")
	cups.Freeze(t)
	type result struct {
		job Job
		err error
	}
	done := make(chan result, 1)
	go func() {
		j, err := sess.Print(ctx, doc, PrintOptions{})
		done <- result{j, err}
	}()
	// Wait until the print is on its way (its request is at the server).
	for deadline := time.Now().Add(30 * time.Second); ; {
		sess.mu.Lock()
		sending := sess.sending != nil
		sess.mu.Unlock()
		if sending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the print never started")
		}
		time.Sleep(time.Millisecond)
	}
	endCtx, cancel := context.WithTimeout(ctx, time.Second)
	r, err := sess.CancelPending(endCtx)
	cancel()
	if err != nil || r.Jobs != 0 {
		t.Fatalf("receipt while the print was on its way: %+v, %v", r, err)
	}
	cups.Thaw(t)
	res := <-done
	if !errors.Is(res.err, ErrSessionEnded) || res.job.ID == 0 || res.job.State != ipp.JobCanceled {
		t.Fatalf("print that landed after the end: %+v, %v", res.job, res.err)
	}
	if st := ipptest.JobState(t, queue, res.job.ID); st != "canceled" {
		t.Errorf("on CUPS the job is %q, want canceled", st)
	}
	if files := pr.SpoolFiles(t); len(files) != 0 {
		t.Errorf("the job reached the printer: %v", files)
	}
	if svc.DayPagesLeft() != 300 {
		t.Errorf("day pages left %d, want 300", svc.DayPagesLeft())
	}
}

// An ipps:// printer with a self-signed certificate: refused with its
// fingerprint in the message, trusted once that fingerprint is pinned.
func TestIPPSPinnedCertificate(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	ctx := ctxT(t)
	uri := "ipps://" + pr.Host + "/ipp/print"
	p, _ := ipp.NewPrinter(uri, ipp.Options{Timeout: 10 * time.Second})
	_, err := p.Attributes(ctx)
	if !errors.Is(err, ipp.ErrCertificate) {
		t.Fatalf("self-signed printer without a pin: %v", err)
	}
	m := regexp.MustCompile(`tls_sha256: ([0-9A-F:]{95})`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error does not give the fingerprint to pin: %v", err)
	}
	cfg := Config{Printer: uri, TLSSHA256: m[1]}
	svc := newService(t, cfg, Options{})
	if _, err := svc.StartSession().Print(ctx, threePages(t), PrintOptions{}); err != nil {
		t.Fatalf("pinned ipps printer: %v", err)
	}
	pr.WaitSpool(t, 1)

	wrong := strings.Repeat("AB:", 31) + "AB"
	bad, _ := ipp.NewPrinter(uri, ipp.Options{Pin: mustFingerprint(t, wrong)})
	if _, err := bad.Attributes(ctx); !errors.Is(err, ipp.ErrCertificate) || !strings.Contains(err.Error(), "not the pinned") {
		t.Errorf("wrong pin: %v", err)
	}
}

func mustFingerprint(t *testing.T, s string) pin.Fingerprint {
	f, err := pin.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
