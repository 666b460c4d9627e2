package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/internal/ipp"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/printing"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is printing (issue 16), when the config has a printing:
// section: the toolbar's Print button and a page's window.print() open the
// kiosk's print panel (kiosk/ui's kiosk://print) in the sheet over the
// page (sheet.go), never GTK's print dialog; the panel prints the page, or
// a PDF from the session's files, to the printer over IPP
// (kiosk/printing).
//
//   - Who may open it: the toolbar's Print, and window.print() from the top
//     frame of the page in the service view (kiosk/webkit makes it do
//     nothing in any other frame, so no allow_frames frame can), while a
//     session is on and the page committed there is one the allow list
//     allows (a page of any other origin never commits: navigation.go).
//     At most one panel per session at a time: a request while one is
//     open or being prepared is dropped and counted, and kiosk/webkit hands
//     at most a couple of requests a second to Go, so a page calling
//     window.print() in a loop gets one panel and costs nothing more.
//   - What it prints: the page is rendered by WebKit itself
//     (View.PrintPDF: print media, A4) into a fresh private folder of the
//     session's files (files.go), read into memory (printing.Document, its
//     pages counted by poppler) and the file removed at once; previews of
//     up to maxPreviewPages pages are drawn off the GTK loop. The job's
//     name and user are the kiosk's (printing.Config), never the page's.
//   - Print: only a tap on the panel's Print in the sheet sends a job (the
//     bridge's "print" from the sheet; from anywhere else it is refused),
//     one per panel, within the session's and the day's page limits and
//     the kiosk's jobs per minute (kiosk/printing).
//   - Session end: the session's jobs still pending or held are cancelled
//     on the printer (Session.CancelPending, off the GTK loop, bounded);
//     the receipt waits for it and says print_jobs cleared (or failed),
//     with counts: jobs, pages printed, jobs cancelled.
//   - Privacy: the document and its previews are in memory only, the file
//     WebKit writes lives for the moment it takes to read it, and logs
//     carry counts and reasons, never a title, a file name or a URL.

const (
	toolPrint  = 400     // the toolbar's Print button (after the ids in shell.go)
	printOwner = "print" // the sheet's owner (sheet.go)
	// maxPreviewPages is how many pages the panel previews: the rest are
	// counted and printed, not drawn (a PDF may have 300 pages).
	maxPreviewPages = 6
	// printPrepareTimeout bounds rendering a page or reading a file, with
	// its previews; printSendTimeout bounds sending a job.
	printPrepareTimeout = 60 * time.Second
	printSendTimeout    = 2 * time.Minute
	// dayCountName is the day's page count file in the state directory.
	dayCountName = "print-count.json"
)

// printer is the shell's printing: the service (printer, day count, rate)
// and the session's printing.Session (nil until the session's first
// panel).
type printer struct {
	svc     *printing.Service
	stop    context.CancelFunc
	sess    *printing.Session
	dropped uint64 // print requests dropped while a panel was open
}

// printPanel is the session's print panel: what the page shows (ui), and
// the document it prints. It lives on the tab, so it goes with the
// session.
type printPanel struct {
	gen   int // counts the panel's documents; work for an older one is dropped
	panel ui.PrintPanel
	doc   *printing.Document
	busy  bool // a document is being prepared or a job sent
}

var printGen struct {
	sync.Mutex
	n int
}

// nextPrintGen numbers documents across sessions, so that a preview URL
// (?doc=N) never means another document.
func nextPrintGen() int {
	printGen.Lock()
	defer printGen.Unlock()
	printGen.n++
	return printGen.n
}

// setupPrinting starts printing when the config has a printer: the
// service, the toolbar's Print button and the panel's bridge messages. On
// the GTK thread, from Start.
func (s *Shell) setupPrinting() error {
	if !s.cfg.Printing.Enabled() {
		return nil
	}
	dayFile := ""
	if s.opts.StateDir != "" {
		dayFile = filepath.Join(s.opts.StateDir, dayCountName)
	} else {
		s.log.Warn("print: no state directory ($STATE_DIRECTORY): today's page count starts again at every restart")
	}
	svc, err := printing.New(s.cfg.Printing, printing.Options{DayCountFile: dayFile, Now: s.now,
		Log: s.log.WithField("component", "print")})
	if err != nil {
		return fmt.Errorf("printing: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	go svc.Run(ctx) // retries cancels a dead printer refused at a session's end
	s.printing = &printer{svc: svc, stop: stop}
	s.win.AddTool(toolPrint, "Print", "Print", webkit.ToolNormal, false)
	s.bridge.on("print", s.printMessage)
	s.bridge.on("print-file", s.printFileMessage)
	s.bridge.on("print-close", func(m bridgeMsg) {
		if m.from != fromSheet {
			s.bridge.refused++
			return
		}
		s.closePrint(m.tab)
	})
	return nil
}

// stopPrinting stops the service's retries (Close).
func (s *Shell) stopPrinting() {
	if s.printing != nil {
		s.printing.stop()
	}
}

// Printing is the shell's printing service (tests); nil without a printer.
func (s *Shell) Printing() *printing.Service {
	if s.printing == nil {
		return nil
	}
	return s.printing.svc
}

// withPrintPanel adds tab t's print panel to a kiosk:// request's
// context (ui.go's pagesFor), with the config's cost and collect lines in
// the session's language as it is now.
func (s *Shell) withPrintPanel(ctx context.Context, t *tab) context.Context {
	if s.printing == nil || t.print == nil {
		return ctx
	}
	p := t.print.panel
	p.Cost, p.Collect = s.cfg.Printing.CostText(s.lang()), s.cfg.Printing.CollectText(s.lang())
	return ui.WithPrintPanel(ctx, &p)
}

// printSession is the session's printing, started with its first panel.
func (s *Shell) printSession() *printing.Session {
	if s.printing.sess == nil {
		s.printing.sess = s.printing.svc.StartSession()
	}
	return s.printing.sess
}

// printRequested is a page's window.print() in tab t's service view.
func (s *Shell) printRequested(t *tab) {
	s.openPrint(t, false)
}

// printButton is the toolbar's Print: the page on screen, or, on the
// kiosk's own pages, the session's files.
func (s *Shell) printButton() {
	s.openPrint(s.cur, true)
}

// openPrint opens the print panel for what tab t's service view shows.
// fromToolbar: the resident tapped Print, which on a page that cannot be
// printed (the kiosk's own) offers the session's files instead.
func (s *Shell) openPrint(t *tab, fromToolbar bool) {
	if s.printing == nil || s.closed || t == nil || t != s.cur || s.reset != nil {
		return
	}
	if t.print != nil || (t.sheetOwner() != "" && t.sheetOwner() != printOwner) {
		s.printing.dropped++ // at most one panel (or other sheet) at a time
		return
	}
	if s.state != bus.StateInSession && s.state != bus.StateWarning {
		// No resident: a page asking to print by itself before anyone
		// touched the screen gets nothing.
		s.log.WithField("reason", "no_session").Info("print request refused")
		return
	}
	uri := t.view.URI()
	printable := !t.provisional && !strings.HasPrefix(uri, "kiosk:") && s.cfg.AllowList.Decide(uri).Allow
	if !printable && !fromToolbar {
		s.log.WithField("reason", "not_printable").Info("print request refused")
		return
	}
	pp := &printPanel{gen: nextPrintGen()}
	t.print = pp
	sess := s.printSession()
	if !printable {
		// The kiosk's own page (home, a guide): print one of your files.
		pp.panel = ui.PrintPanel{Step: ui.PrintFiles, Files: s.printableFiles(t)}
		if !s.openSheet(t, printOwner, "kiosk://print", s.printGone(t, pp)) {
			t.print = nil
			return
		}
		s.log.WithField("source", "files").Info("print panel opened")
		return
	}
	pp.panel = ui.PrintPanel{Step: ui.PrintPreparing}
	pp.busy = true
	if !s.openSheet(t, printOwner, "kiosk://print", s.printGone(t, pp)) {
		t.print = nil
		return
	}
	s.log.WithField("source", "page").Info("print panel opened")
	dir, err := t.files.NewDir()
	if err != nil {
		s.printFailed(t, pp, ui.ProblemRender, fmt.Errorf("render the page: %w", err))
		return
	}
	path := filepath.Join(dir, "page.pdf")
	gen, sgen := pp.gen, s.sessionGen
	start := time.Now()
	t.view.PrintPDF(path, func(err error) {
		if err != nil {
			t.files.Discard(dir)
			if s.current(t, pp, gen, sgen) {
				s.printFailed(t, pp, ui.ProblemRender, err)
			}
			return
		}
		files := t.files
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), printPrepareTimeout)
			defer cancel()
			doc, err := printing.OpenDocument(ctx, path, printing.DocumentOptions{})
			files.Discard(dir) // the PDF is in memory now; nothing of it stays on disk
			s.prepared(t, pp, gen, sgen, sess, doc, false, "", err, start)
		}()
	})
}

// current reports whether pp, for document gen of session sgen, is still
// the panel on screen.
func (s *Shell) current(t *tab, pp *printPanel, gen, sgen int) bool {
	return !s.closed && t == s.cur && t.print == pp && pp.gen == gen && s.sessionGen == sgen
}

// prepared draws the previews and asks the printer what the panel may
// offer (off the GTK loop), then shows the panel ready, or failed.
func (s *Shell) prepared(t *tab, pp *printPanel, gen, sgen int, sess *printing.Session, doc *printing.Document,
	fromFile bool, fileName string, err error, start time.Time) {
	if err != nil {
		webkit.Invoke(func() {
			if s.current(t, pp, gen, sgen) {
				s.printFailed(t, pp, docProblem(err), err)
			}
		})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), printPrepareTimeout)
	defer cancel()
	n := min(doc.Pages(), maxPreviewPages)
	previews := make([][]byte, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var perr error
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range 2 { // two at a time: pdftoppm is the slow part
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				png, err := doc.Preview(ctx, i+1, 0)
				mu.Lock()
				if err != nil && perr == nil {
					perr = err
				}
				previews[i] = png
				mu.Unlock()
			}
		}()
	}
	caps, cerr := s.printing.svc.Capabilities(ctx)
	wg.Wait()
	left := sess.PagesLeft()
	webkit.Invoke(func() {
		if !s.current(t, pp, gen, sgen) {
			return
		}
		pp.busy = false
		if perr != nil {
			s.printFailed(t, pp, ui.ProblemNotPrintable, perr)
			return
		}
		if cerr != nil {
			s.printFailed(t, pp, printerProblem(cerr), cerr)
			return
		}
		if !caps.Accepting || printerBlocked(caps.Warnings) {
			s.printFailed(t, pp, ui.ProblemPrinterStaff, errors.New("the printer is not ready"))
			return
		}
		pp.doc = doc
		pp.panel = ui.PrintPanel{Step: ui.PrintReady, FromFile: fromFile, FileName: fileName, Pages: doc.Pages(),
			Previews: previews, Key: strconv.Itoa(gen), MaxCopies: max(1, caps.MaxCopies), Copies: 1, Color: caps.Color,
			PagesLeft: left, Files: s.printableFiles(t)}
		if doc.Pages() > left {
			scope := ui.ProblemQuotaSession
			if s.printing.svc.DayPagesLeft() < doc.Pages() {
				scope = ui.ProblemQuotaDay
			}
			pp.panel.Step, pp.panel.Problem = ui.PrintFailed, ui.PrintProblem{Code: scope, Want: doc.Pages(), Left: left}
			pp.doc = nil
		}
		s.log.WithFields(logrus.Fields{"pages": doc.Pages(), "file": fromFile, "ms": time.Since(start).Milliseconds()}).Info("print panel ready")
		s.reloadSheet(t, printOwner)
	})
}

// printFailed shows the panel's failed step with problem (err goes to the
// log: counts and kinds of error, never a path or a title).
func (s *Shell) printFailed(t *tab, pp *printPanel, problem string, err error) {
	pp.busy, pp.doc = false, nil
	pp.panel = ui.PrintPanel{Step: ui.PrintFailed, Problem: ui.PrintProblem{Code: problem}, Files: s.printableFiles(t)}
	s.log.WithField("problem", problem).WithError(err).Info("print refused")
	s.reloadSheet(t, printOwner)
}

// printableFiles lists the session's PDFs for the panel.
func (s *Shell) printableFiles(t *tab) []ui.PrintFile {
	var out []ui.PrintFile
	for _, f := range t.files.List() {
		if f.MIME == "application/pdf" || strings.HasSuffix(strings.ToLower(f.Name), ".pdf") {
			out = append(out, ui.PrintFile{ID: f.ID, Name: f.Name})
		}
	}
	return out
}

// printMessage is the panel's Print {copies, color}: from the sheet only,
// once per document, while the panel is ready.
func (s *Shell) printMessage(m bridgeMsg) {
	t := m.tab
	pp := t.print
	if m.from != fromSheet || pp == nil || pp.busy || pp.doc == nil || pp.panel.Step != ui.PrintReady {
		s.bridge.refused++
		return
	}
	var req struct {
		Copies int  `json:"copies"`
		Color  bool `json:"color"`
	}
	if json.Unmarshal(m.raw, &req) != nil || req.Copies < 1 || req.Copies > pp.panel.MaxCopies || (req.Color && !pp.panel.Color) {
		s.bridge.refused++
		return
	}
	doc, sess := pp.doc, s.printSession()
	gen, sgen := pp.gen, s.sessionGen
	pp.busy = true
	pp.panel.Copies, pp.panel.ColorChosen = req.Copies, req.Color
	pp.panel.Step, pp.panel.JobPages, pp.panel.Problem = ui.PrintSending, doc.Pages()*req.Copies, ui.PrintProblem{}
	s.reloadSheet(t, printOwner)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), printSendTimeout)
		defer cancel()
		job, err := sess.Print(ctx, doc, printing.PrintOptions{Copies: req.Copies, Color: req.Color})
		left := sess.PagesLeft()
		webkit.Invoke(func() {
			if !s.current(t, pp, gen, sgen) {
				return
			}
			pp.busy = false
			pp.panel.PagesLeft = left
			if err != nil {
				s.printRefused(t, pp, err)
				return
			}
			pp.doc = nil // one job per panel: printing again starts again
			pp.panel.Step, pp.panel.JobPages, pp.panel.ReleaseCode = ui.PrintSent, job.Pages, sess.ReleaseCode()
			pp.panel.Previews = nil
			s.log.WithFields(logrus.Fields{"job_id": job.ID, "pages": job.Pages, "copies": job.Copies,
				"ms": time.Since(start).Milliseconds()}).Info("print job sent")
			if s.opts.Observer.Printed != nil {
				s.opts.Observer.Printed(job.ID, time.Since(start))
			}
			s.reloadSheet(t, printOwner)
		})
	}()
}

// printRefused shows why a job did not go: too many copies for the pages
// left goes back to the choices with the reason; anything else fails.
func (s *Shell) printRefused(t *tab, pp *printPanel, err error) {
	var qe *printing.QuotaError
	var re *printing.RateError
	switch {
	case errors.As(err, &qe):
		code := ui.ProblemQuotaSession
		if qe.Scope == printing.ScopeDay {
			code = ui.ProblemQuotaDay
		}
		p := ui.PrintProblem{Code: code, Want: qe.Want, Left: qe.Left}
		s.log.WithFields(logrus.Fields{"problem": code, "want": qe.Want, "left": qe.Left}).Info("print refused")
		if pp.doc != nil && pp.doc.Pages() <= qe.Left {
			pp.panel.Step, pp.panel.Problem, pp.panel.PagesLeft = ui.PrintReady, p, qe.Left // fewer copies will do
			s.reloadSheet(t, printOwner)
			return
		}
		pp.doc = nil
		pp.panel = ui.PrintPanel{Step: ui.PrintFailed, Problem: p, Files: s.printableFiles(t)}
		s.reloadSheet(t, printOwner)
	case errors.As(err, &re):
		s.printFailed(t, pp, ui.ProblemRate, err)
	case errors.Is(err, printing.ErrNotAccepting):
		s.printFailed(t, pp, ui.ProblemPrinterStaff, err)
	case errors.Is(err, printing.ErrSessionEnded):
		// The session is over; its wipe cancelled the job.
	default:
		s.printFailed(t, pp, printerProblem(err), err)
	}
}

// printFileMessage is the panel's choice of one of the session's files
// {file: ID}: read, counted and previewed off the GTK loop, then ready.
func (s *Shell) printFileMessage(m bridgeMsg) {
	t := m.tab
	pp := t.print
	if m.from != fromSheet || pp == nil || pp.busy {
		s.bridge.refused++
		return
	}
	var req struct {
		File string `json:"file"`
	}
	if json.Unmarshal(m.raw, &req) != nil || req.File == "" {
		s.bridge.refused++
		return
	}
	f, sf, err := t.files.Open(req.File)
	if err != nil {
		s.bridge.refused++
		return
	}
	pp.gen = nextPrintGen()
	pp.busy, pp.doc = true, nil
	pp.panel = ui.PrintPanel{Step: ui.PrintPreparing}
	s.reloadSheet(t, printOwner)
	s.log.WithField("source", "file").Info("print panel: a file chosen")
	gen, sgen, sess, start := pp.gen, s.sessionGen, s.printSession(), time.Now()
	go func() {
		defer f.Close()
		ctx, cancel := context.WithTimeout(context.Background(), printPrepareTimeout)
		defer cancel()
		doc, err := printing.ReadDocument(ctx, f, printing.DocumentOptions{})
		s.prepared(t, pp, gen, sgen, sess, doc, true, sf.Name, err, start)
	}()
}

// printGone is told when the panel's sheet goes other than by closePrint
// (the toolbar's Back or Home, the session's end, the sheet's web
// process): the panel and its document are dropped, work still under way
// for it finds it gone (current).
func (s *Shell) printGone(t *tab, pp *printPanel) func() {
	return func() {
		if t.print == pp {
			t.print = nil
		}
	}
}

// closePrint closes the panel (Cancel, Done, Back): the page shows again
// as it was, and the panel's document is dropped.
func (s *Shell) closePrint(t *tab) {
	if t == nil || t.print == nil {
		return
	}
	t.print = nil
	s.closeSheet(t, printOwner)
}

// endPrinting is the printing part of a session's end: the panel goes with
// the tab; the session's jobs still pending or held are cancelled on the
// printer off the GTK loop, and the receipt waits for that (r.waitPrint).
func (s *Shell) endPrinting(r *pendingReset) {
	if s.printing == nil {
		return
	}
	sess := s.printing.sess
	s.printing.sess = nil
	if sess == nil {
		r.receipt.Cleared = append(r.receipt.Cleared, bus.ClearedPrintJobs) // nothing was printed
		return
	}
	r.waitPrint = true
	go func() {
		pr, err := sess.CancelPending(context.Background()) // bounded by printing.DefaultCancelTimeout
		webkit.Invoke(func() {
			r.waitPrint = false
			r.receipt.PrintJobs, r.receipt.PrintPages, r.receipt.PrintCancelled = int64(pr.Jobs), int64(pr.Printed), int64(pr.Cancelled)
			if pr.Cleared() {
				r.receipt.Cleared = append(r.receipt.Cleared, bus.ClearedPrintJobs)
			} else {
				r.receipt.Failed = append(r.receipt.Failed, bus.ClearedPrintJobs)
				s.log.WithError(err).WithField("failed", pr.Failed).Warn("print: jobs of the ended session could not be cancelled yet; retrying")
			}
			s.receiptDue(r) // when home showed first, the receipt waited for this
		})
	}()
}

// printerProblem maps a printer's error to what the panel says.
func printerProblem(err error) string {
	switch {
	case errors.Is(err, ipp.ErrUnreachable), errors.Is(err, ipp.ErrCertificate), errors.Is(err, ipp.ErrBadResponse):
		return ui.ProblemPrinterOffline
	case errors.Is(err, printing.ErrNotAccepting):
		return ui.ProblemPrinterStaff
	}
	return ui.ProblemFailed
}

// docProblem maps a document's error to what the panel says.
func docProblem(err error) string {
	switch {
	case errors.Is(err, printing.ErrTooLarge), errors.Is(err, printing.ErrTooMany):
		return ui.ProblemTooBig
	case errors.Is(err, printing.ErrNotPDF), errors.Is(err, printing.ErrBrokenPDF), errors.Is(err, printing.ErrEncrypted):
		return ui.ProblemNotPrintable
	}
	return ui.ProblemFailed
}

// printerBlocked says whether the printer's warnings stop it printing now
// (no paper, a jam, paused, ...): the panel says so before anyone taps Print.
func printerBlocked(ws []ipp.Warning) bool {
	for _, w := range ws {
		if w.Severity == ipp.Critical {
			return true
		}
	}
	return false
}
