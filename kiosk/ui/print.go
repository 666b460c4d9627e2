package ui

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The print panel (issue 16), kiosk://print: what the shell shows in place
// of the page a resident asked to print (window.print() or the toolbar's
// Print), or to choose one of their files to print. It is one page that
// shows the panel's current step; the shell keeps the state (PrintPanel),
// hands it to each request with WithPrintPanel and reloads the page when
// the step changes. Paths:
//
//	/print                  the panel: preparing, ready (preview and choices), sending, sent, failed, files
//	/print/preview/{n}      page n's preview (PNG) from PrintPanel.Previews
//	/assets/print.js|.css   its script and styles
//
// The page posts through the bridge (kiosk.js's post):
//
//	{action: "print", copies: N, color: bool}   Print, with the resident's choices
//	{action: "print-file", file: ID}            print one of the session's files instead
//	{action: "print-close"}                     Cancel, Done or Back: close the panel
//
// Without a shell (the tests, the screenshots) the buttons do nothing and
// the panel is what the request's context carries, or, without one, the
// "nothing to print" step.

// PrintStep is what the panel shows now.
type PrintStep string

// Print panel steps.
const (
	PrintPreparing PrintStep = "preparing" // the page is being made into a PDF, its previews drawn
	PrintReady     PrintStep = "ready"     // preview, page count, choices, Print
	PrintSending   PrintStep = "sending"   // the job is on its way to the printer
	PrintSent      PrintStep = "sent"      // the printer took it: where to collect it, the release code
	PrintFailed    PrintStep = "failed"    // the print cannot go: Problem says why
	PrintFiles     PrintStep = "files"     // nothing to print yet: choose one of the session's files
)

// PrintPanel is what kiosk://print shows: the session's print panel, from
// the shell. Texts from config (Cost, Collect) come in the session's
// language already; FileName is shown, never logged or reported.
type PrintPanel struct {
	Step PrintStep
	// What is being printed: the page on screen, or FileName from the
	// session's files.
	FromFile bool
	FileName string
	Pages    int      // pages of the document
	Previews [][]byte // PNG previews of pages 1..len(Previews) (len ≤ Pages)
	// Key names the document among those the session had: preview URLs
	// carry it (?doc=KEY), so that an image of an earlier document is
	// never shown for this one. Letters and digits; "" for none.
	Key string
	// The resident's choices: copies 1..MaxCopies, colour when Color.
	MaxCopies   int
	Copies      int
	Color       bool
	ColorChosen bool
	// PagesLeft is what the session may still print (the lower of its own
	// and the kiosk's day's allowance).
	PagesLeft int
	Cost      string // the cost line, "" for none
	Collect   string // where to collect the printout
	// Sent: the job's pages (pages × copies) and, with held printing, the
	// code to release it at the desk.
	JobPages    int
	ReleaseCode string
	// Problem says why the print cannot go (Step PrintFailed), or, with
	// Step PrintReady, a problem with a previous try the resident can fix
	// (too many copies for the pages left).
	Problem PrintProblem
	// Files are the session's PDFs the resident may print instead.
	Files []PrintFile
}

// PrintProblem is why a print cannot go, as a code and counts.
type PrintProblem struct {
	Code string // one of the PrintProblem* codes; "" for none
	Want int    // pages the print needs (quotas)
	Left int    // pages left (quotas)
	Wait int    // seconds until the next job may go (rate)
}

// Print problem codes; each has a message "print.problem.CODE".
const (
	ProblemQuotaSession   = "quota_session"   // past the session's pages
	ProblemQuotaDay       = "quota_day"       // past the kiosk's pages today
	ProblemRate           = "rate"            // too many jobs from this kiosk in the last minute
	ProblemPrinterOffline = "printer_offline" // the printer does not answer
	ProblemPrinterStaff   = "printer_staff"   // the printer needs staff (no paper, jam, paused, not accepting)
	ProblemNotPrintable   = "not_printable"   // the file is not a PDF the kiosk can read (or has a password)
	ProblemTooBig         = "too_big"         // the document is too large or has too many pages
	ProblemRender         = "render"          // the page could not be made ready to print
	ProblemFailed         = "failed"          // anything else
)

// PrintFile is one of the session's files that can be printed.
type PrintFile struct {
	ID   string // the shell's identifier for it (never a path)
	Name string // its name as the resident saw it
}

type printPanelKey struct{}

// WithPrintPanel returns ctx carrying the session's print panel; the shell
// wraps the kiosk:// requests of the session's views with it.
func WithPrintPanel(ctx context.Context, p *PrintPanel) context.Context {
	return context.WithValue(ctx, printPanelKey{}, p)
}

func printPanelFrom(r *http.Request) *PrintPanel {
	p, _ := r.Context().Value(printPanelKey{}).(*PrintPanel)
	return p
}

// printData is what the template sees.
type printData struct {
	*PrintPanel
	Previews []printPreview
	Copies   []int  // 1..MaxCopies
	Problem  string // the problem's message in the session's language
}

type printPreview struct {
	N   int
	URL template.URL
}

func (p *Pages) printRoutes(m *http.ServeMux) error {
	t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/print.html")
	if err != nil {
		return fmt.Errorf("parse template print: %w", err)
	}
	p.pages["print"] = t
	m.HandleFunc("GET /print", p.printPanel)
	m.HandleFunc("GET /print/preview/{n}", p.printPreview)
	for _, a := range []struct{ name, ct string }{{"print.js", "text/javascript; charset=utf-8"}, {"print.css", "text/css; charset=utf-8"}} {
		m.HandleFunc("GET /assets/"+a.name, p.asset(func() ([]byte, string) {
			b, _ := webFS.ReadFile("web/" + a.name)
			return b, a.ct
		}))
	}
	return nil
}

func (p *Pages) printPanel(w http.ResponseWriter, r *http.Request) {
	pp := printPanelFrom(r)
	if pp == nil {
		pp = &PrintPanel{Step: PrintFiles}
	}
	titles := map[PrintStep]string{
		PrintPreparing: "print.preparing.title", PrintReady: "print.title", PrintSending: "print.sending.title",
		PrintSent: "print.sent.title", PrintFailed: "print.failed.title", PrintFiles: "print.files.title",
	}
	title, ok := titles[pp.Step]
	if !ok {
		title = "print.title"
	}
	if pp.Step == PrintReady && pp.FromFile {
		title = "print.title.file"
	}
	v := p.newView(r, "print", title)
	v.Panel = true // no header navigation: the panel covers the page it prints
	d := printData{PrintPanel: pp}
	for i := range pp.Previews {
		n := i + 1
		u := v.Asset("/print/preview/" + strconv.Itoa(n))
		if pp.Key != "" {
			u += template.URL("?doc=" + url.QueryEscape(pp.Key))
		}
		d.Previews = append(d.Previews, printPreview{N: n, URL: u})
	}
	for i := 1; i <= pp.MaxCopies; i++ {
		d.Copies = append(d.Copies, i)
	}
	if c := pp.Problem.Code; c != "" {
		text := v.T("print.problem." + c)
		if strings.Contains(text, "%") { // counts by explicit index: %[1]d want, %[2]d left, %[3]d wait
			text = fmt.Sprintf(text, pp.Problem.Want, pp.Problem.Left, pp.Problem.Wait)
		}
		d.Problem = text
	}
	v.Data = d
	p.render(w, http.StatusOK, v)
}

func (p *Pages) printPreview(w http.ResponseWriter, r *http.Request) {
	pp := printPanelFrom(r)
	n, err := strconv.Atoi(r.PathValue("n"))
	if pp != nil && r.URL.Query().Get("doc") != pp.Key {
		pp = nil // an earlier document's preview
	}
	if pp == nil || err != nil || n < 1 || n > len(pp.Previews) || len(pp.Previews[n-1]) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pp.Previews[n-1])
}
