// Package ipp is the kiosk's IPP client: the one implementation of talking
// to a printer (an IPP Everywhere printer or a CUPS queue) that the kiosk's
// printing (kiosk/printing: jobs, cancels) and the agent's printer health
// (agent: printer_offline, printer_needs_paper, ...) share. Messages are
// encoded by OpenPrinting's goipp; every call takes a context and has a
// deadline of its own when the context has none, so a dead or silent
// printer gives an error, never a hang. An ipps:// printer's self-signed
// certificate is trusted by its pinned fingerprint (internal/pin).
//
// The pieces: Printer (Attributes, Submit, Job, Cancel, Release),
// CheckURI for configs, and HealthWarnings / CheckHealth, which turn
// printer-state and printer-state-reasons into warnings for IT staff.
// Nothing here carries a job's document, title or anything about who
// printed: errors and warnings name the printer and its own keywords.
package ipp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/OpenPrinting/goipp"

	"accesskiosk/internal/pin"
)

// Defaults of Options and Ticket.
const (
	DefaultUser    = "kiosk"          // requesting-user-name
	DefaultJobName = "Access Kiosk"   // job-name
	DefaultTimeout = 30 * time.Second // each request
)

// Errors of talking to a printer, for errors.Is.
var (
	// ErrUnreachable: the printer did not answer (refused, no route, timed
	// out, TLS failed). The wrapped error says which.
	ErrUnreachable = errors.New("printer does not answer")
	// ErrBadResponse: something answered, but not with an IPP response.
	ErrBadResponse = errors.New("printer's answer is not IPP")
	// ErrNotFound: the printer does not know the job (IPP client-error-not-found).
	ErrNotFound = errors.New("no such job on the printer")
	// ErrNotPossible: the printer refused the operation in the job's state,
	// such as cancelling a job that has completed (client-error-not-possible).
	ErrNotPossible = errors.New("not possible in the job's state")
	// ErrCertificate: an ipps:// printer's certificate is not the pinned
	// one, or not trusted when none is pinned.
	ErrCertificate = errors.New("printer's certificate is not trusted")
)

// IPPError is an IPP response with an error status: the printer answered
// but refused. Status is the IPP status code, Message the printer's
// status-message (printer text, never a document's).
type IPPError struct {
	Op      goipp.Op
	Host    string
	Status  goipp.Status
	Message string
}

func (e *IPPError) Error() string {
	s := fmt.Sprintf("IPP %s to %s: %s", e.Op, e.Host, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is lets errors.Is(err, ErrNotFound) and errors.Is(err, ErrNotPossible)
// match the statuses they stand for.
func (e *IPPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == goipp.StatusErrorNotFound || e.Status == goipp.StatusErrorGone
	case ErrNotPossible:
		return e.Status == goipp.StatusErrorNotPossible
	}
	return false
}

// Options configure a Printer; the zero value is usable.
type Options struct {
	// User is the requesting-user-name of every request; "" means DefaultUser.
	User string
	// Timeout bounds each request whose context has no sooner deadline;
	// 0 means DefaultTimeout. A document upload gets Timeout plus one
	// second per 256 KiB.
	Timeout time.Duration
	// Pin pins an ipps:// printer's leaf certificate (the SHA-256 of its
	// DER bytes). The zero value means verify against the system's roots.
	Pin pin.Fingerprint
}

// Printer talks IPP to one printer or CUPS queue over HTTP (ipp://) or
// HTTPS (ipps://). It keeps no state about jobs; it is safe for concurrent
// use.
type Printer struct {
	uri     string // as configured; sent as printer-uri
	httpURL string // what the HTTP request goes to
	host    string // host:port, for error messages
	user    string
	timeout time.Duration
	client  *http.Client
	reqID   atomic.Uint32
	v11     atomic.Bool // the printer wants IPP/1.1
}

// maxResponse bounds an IPP response (a full Get-Printer-Attributes with a
// media database is some tens of kilobytes).
const maxResponse = 4 << 20

// NewPrinter returns a client for the printer at uri (ipp:// or ipps://;
// see CheckURI). It does not contact the printer.
func NewPrinter(uri string, opts Options) (*Printer, error) {
	if err := CheckURI(uri); err != nil {
		return nil, fmt.Errorf("printer %s: %w", uri, err)
	}
	u, _ := url.Parse(uri)
	port := u.Port()
	if port == "" {
		port = "631" // IANA's port for IPP and IPPS alike
	}
	hu := *u
	hu.Scheme = "http"
	if u.Scheme == "ipps" {
		hu.Scheme = "https"
	}
	hu.Host = net.JoinHostPort(u.Hostname(), port)
	p := &Printer{
		uri:     uri,
		httpURL: hu.String(),
		host:    hu.Host,
		user:    opts.User,
		timeout: opts.Timeout,
	}
	if p.user == "" {
		p.user = DefaultUser
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:                 nil, // a printer is on the local network: never through a proxy
		DialContext:           (&net.Dialer{Timeout: p.timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   p.timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 0, // the request's context bounds it
	}
	if u.Scheme == "ipps" {
		tr.TLSClientConfig = printerTLS(u.Hostname(), opts.Pin)
	}
	p.client = &http.Client{
		Transport: tr,
		// A printer that redirects (CUPS to https for a password, say) is
		// configured differently from what the kiosk was told: say so
		// rather than follow.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return fmt.Errorf("printer redirects to %s; use that address in printing.printer", req.URL.Redacted())
		},
	}
	return p, nil
}

// printerTLS verifies against the system roots, or, with a pin, accepts
// exactly the pinned leaf certificate (printers' certificates are
// self-signed, so pinning is how an ipps printer is trusted).
func printerTLS(serverName string, fp pin.Fingerprint) *tls.Config {
	if fp.IsZero() {
		return &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	}
	c := fp.TLSConfig()
	c.ServerName = serverName
	return c
}

// URI is the printer's URI as configured.
func (p *Printer) URI() string { return p.uri }

// Host is the printer's host:port, for messages to IT staff.
func (p *Printer) Host() string { return p.host }

// request builds an IPP request with the operation attributes every
// operation starts with (RFC 8011 4.1.4).
func (p *Printer) request(op goipp.Op) *goipp.Message {
	v := goipp.MakeVersion(2, 0)
	if p.v11.Load() {
		v = goipp.MakeVersion(1, 1)
	}
	m := goipp.NewRequest(v, op, p.reqID.Add(1))
	m.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
	m.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("en")))
	m.Operation.Add(goipp.MakeAttribute("printer-uri", goipp.TagURI, goipp.String(p.uri)))
	return m
}

func (p *Printer) addUser(m *goipp.Message) {
	m.Operation.Add(goipp.MakeAttribute("requesting-user-name", goipp.TagName, goipp.String(p.user)))
}

// do sends m (followed by doc, if any) and returns the response when its
// status is successful. It never waits past ctx's deadline or, when ctx has
// none, past the printer's timeout (scaled up for a document).
func (p *Printer) do(ctx context.Context, m *goipp.Message, doc []byte) (*goipp.Message, error) {
	op := goipp.Op(m.Code)
	timeout := p.timeout + time.Duration(len(doc)/(256<<10))*time.Second
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	busyWait := 100 * time.Millisecond
	for {
		head, err := m.EncodeBytes()
		if err != nil {
			return nil, fmt.Errorf("IPP %s: encode request: %w", op, err)
		}
		resp, err := p.roundTrip(ctx, op, head, doc)
		if err != nil {
			return nil, err
		}
		st := goipp.Status(resp.Code)
		if st == goipp.StatusErrorVersionNotSupported && m.Version.Major() >= 2 {
			// An IPP/1.1 printer: ask again in 1.1 and from now on.
			p.v11.Store(true)
			m.Version = goipp.MakeVersion(1, 1)
			continue
		}
		if st == goipp.StatusErrorBusy && (op == goipp.OpCreateJob || op == goipp.OpPrintJob) {
			// The printer is busy with another job and takes no new one
			// now (ippeveprinter and many small printers hold one job at
			// a time): ask again until the deadline, as CUPS does.
			t := time.NewTimer(busyWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return resp, fmt.Errorf("IPP %s to %s: %w: busy with another job until the deadline: %w", op, p.host, ErrUnreachable, ctx.Err())
			case <-t.C:
			}
			busyWait = min(2*busyWait, 2*time.Second)
			m.RequestID = p.reqID.Add(1)
			continue
		}
		if st > 0x00ff { // 0x0000-0x00ff are the successful statuses
			return resp, &IPPError{Op: op, Host: p.host, Status: st, Message: statusMessage(resp)}
		}
		return resp, nil
	}
}

func (p *Printer) roundTrip(ctx context.Context, op goipp.Op, head, doc []byte) (*goipp.Message, error) {
	body := io.MultiReader(bytes.NewReader(head), bytes.NewReader(doc))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.httpURL, body)
	if err != nil {
		return nil, fmt.Errorf("IPP %s to %s: %w", op, p.host, err)
	}
	req.ContentLength = int64(len(head) + len(doc))
	req.Header.Set("Content-Type", goipp.ContentType)
	req.Header.Set("Accept", goipp.ContentType)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, p.netError(op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		msg := fmt.Sprintf("HTTP %s", resp.Status)
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			msg += ": the printer or CUPS queue wants a password; let user " + p.user + " print and cancel its own jobs without one"
		case http.StatusUpgradeRequired:
			msg += ": the printer wants TLS; use an ipps:// URI"
		case http.StatusNotFound:
			msg += ": no printer at that path; check printing.printer"
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc := resp.Header.Get("Location")
			if u, err := url.Parse(loc); err == nil {
				loc = u.Redacted()
			}
			msg += ": the printer redirects to " + Clip(loc, 200) + "; use that address in printing.printer"
		}
		return nil, fmt.Errorf("IPP %s to %s: %w: %s", op, p.host, ErrBadResponse, msg)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, p.netError(op, err)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("IPP %s to %s: %w: response longer than %d bytes", op, p.host, ErrBadResponse, maxResponse)
	}
	var m goipp.Message
	if err := m.DecodeBytesEx(data, goipp.DecoderOptions{EnableWorkarounds: true}); err != nil {
		return nil, fmt.Errorf("IPP %s to %s: %w: %v (%d bytes, content type %q)", op, p.host, ErrBadResponse, err, len(data), resp.Header.Get("Content-Type"))
	}
	return &m, nil
}

func (p *Printer) netError(op goipp.Op, err error) error {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		fp := pin.Of(cve.UnverifiedCertificates[0].Raw)
		return fmt.Errorf("IPP %s to %s: %w: %v; if this is the printer's own certificate, pin it with tls_sha256: %s", op, p.host, ErrCertificate, cve.Err, fp)
	}
	var me *pin.MismatchError
	if errors.As(err, &me) {
		return fmt.Errorf("IPP %s to %s: %w: its SHA-256 is %s, not the pinned tls_sha256 %s", op, p.host, ErrCertificate, me.Got, me.Want)
	}
	if errors.Is(err, pin.ErrMismatch) {
		return fmt.Errorf("IPP %s to %s: %w: no certificate", op, p.host, ErrCertificate)
	}
	return fmt.Errorf("IPP %s to %s: %w: %w", op, p.host, ErrUnreachable, err)
}

func statusMessage(m *goipp.Message) string {
	for _, a := range m.Operation {
		if a.Name == "status-message" && len(a.Values) > 0 {
			return Clip(a.Values[0].V.String(), 200)
		}
	}
	return ""
}

// Clip shortens s to at most n bytes (at a character boundary), with an
// ellipsis when it cut anything: a printer's text in a message stays short.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xc0 != 0x80 }

// Attributes are what the kiosk needs to know about a printer.
type Attributes struct {
	State               PrinterState
	StateReasons        []string // printer-state-reasons keywords as sent, such as "media-empty-error"
	StateMessage        string   // printer-state-message, printer text
	AcceptingJobs       bool     // printer-is-accepting-jobs
	MakeAndModel        string   // printer-make-and-model
	Formats             []string // document-format-supported
	ColorModes          []string // print-color-mode-supported, such as monochrome, color, auto
	ColorSupported      bool     // color-supported, or "color" among ColorModes
	MaxCopies           int      // upper bound of copies-supported; 1 when absent
	Operations          []goipp.Op
	HoldUntil           []string // job-hold-until-supported
	CreateJobAttributes []string // job-creation-attributes-supported
}

// PrinterState is printer-state (RFC 8011 5.4.11).
type PrinterState int

// Printer states.
const (
	PrinterIdle       PrinterState = 3
	PrinterProcessing PrinterState = 4
	PrinterStopped    PrinterState = 5
)

func (s PrinterState) String() string {
	switch s {
	case PrinterIdle:
		return "idle"
	case PrinterProcessing:
		return "processing"
	case PrinterStopped:
		return "stopped"
	}
	return fmt.Sprintf("printer-state(%d)", int(s))
}

// Supports says whether op is among operations-supported.
func (a *Attributes) Supports(op goipp.Op) bool {
	for _, o := range a.Operations {
		if o == op {
			return true
		}
	}
	return false
}

// SupportsFormat says whether document-format-supported lists mime.
func (a *Attributes) SupportsFormat(mime string) bool { return contains(a.Formats, mime) }

// CanHold says whether the printer holds jobs until released:
// job-hold-until with "indefinite" and the Release-Job operation.
func (a *Attributes) CanHold() bool {
	holds := contains(a.HoldUntil, "indefinite") || contains(a.CreateJobAttributes, "job-hold-until")
	return holds && a.Supports(goipp.OpReleaseJob)
}

// CanColor says whether a job may ask for print-color-mode "color".
func (a *Attributes) CanColor() bool { return contains(a.ColorModes, "color") }

// CanMonochrome says whether a job may ask for print-color-mode "monochrome".
func (a *Attributes) CanMonochrome() bool { return contains(a.ColorModes, "monochrome") }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// printerAttrNames are the attributes Attributes asks for; asking for
// these rather than "all" keeps the answer small.
var printerAttrNames = []string{
	"printer-state", "printer-state-reasons", "printer-state-message",
	"printer-is-accepting-jobs", "printer-make-and-model",
	"document-format-supported", "print-color-mode-supported", "color-supported",
	"copies-supported", "operations-supported", "job-hold-until-supported",
	"job-creation-attributes-supported",
}

// Attributes asks the printer for its state and capabilities
// (Get-Printer-Attributes).
func (p *Printer) Attributes(ctx context.Context) (*Attributes, error) {
	m := p.request(goipp.OpGetPrinterAttributes)
	p.addUser(m)
	vals := make([]goipp.Value, len(printerAttrNames))
	for i, n := range printerAttrNames {
		vals[i] = goipp.String(n)
	}
	m.Operation.Add(goipp.MakeAttr("requested-attributes", goipp.TagKeyword, vals[0], vals[1:]...))
	resp, err := p.do(ctx, m, nil)
	if err != nil {
		return nil, err
	}
	a, ok := parseAttributes(resp)
	if !ok {
		return nil, fmt.Errorf("IPP %s to %s: %w: no printer-state in the answer", goipp.OpGetPrinterAttributes, p.host, ErrBadResponse)
	}
	return a, nil
}

// parseAttributes reads the printer attributes of a response; ok is false
// when it has no printer-state.
func parseAttributes(resp *goipp.Message) (a *Attributes, ok bool) {
	a = &Attributes{MaxCopies: 1}
	seenState := false
	for _, at := range resp.Printer {
		switch at.Name {
		case "printer-state":
			if n, ok := firstInt(at); ok {
				a.State, seenState = PrinterState(n), true
			}
		case "printer-state-reasons":
			a.StateReasons = strs(at)
		case "printer-state-message":
			if s := strs(at); len(s) > 0 {
				a.StateMessage = Clip(s[0], 200)
			}
		case "printer-is-accepting-jobs":
			a.AcceptingJobs = firstBool(at)
		case "printer-make-and-model":
			if s := strs(at); len(s) > 0 {
				a.MakeAndModel = Clip(s[0], 200)
			}
		case "document-format-supported":
			a.Formats = strs(at)
		case "print-color-mode-supported":
			a.ColorModes = strs(at)
		case "color-supported":
			a.ColorSupported = firstBool(at)
		case "copies-supported":
			for _, v := range at.Values {
				switch x := v.V.(type) {
				case goipp.Range:
					a.MaxCopies = x.Upper
				case goipp.Integer:
					a.MaxCopies = int(x)
				}
			}
		case "operations-supported":
			for _, v := range at.Values {
				if n, ok := v.V.(goipp.Integer); ok {
					a.Operations = append(a.Operations, goipp.Op(n))
				}
			}
		case "job-hold-until-supported":
			a.HoldUntil = strs(at)
		case "job-creation-attributes-supported":
			a.CreateJobAttributes = strs(at)
		}
	}
	if !seenState {
		return nil, false
	}
	if contains(a.ColorModes, "color") {
		a.ColorSupported = true
	}
	if a.MaxCopies < 1 {
		a.MaxCopies = 1
	}
	return a, true
}

func strs(a goipp.Attribute) []string {
	out := make([]string, 0, len(a.Values))
	for _, v := range a.Values {
		switch x := v.V.(type) {
		case goipp.String:
			out = append(out, string(x))
		case goipp.TextWithLang:
			out = append(out, x.Text)
		}
	}
	return out
}

func firstInt(a goipp.Attribute) (int, bool) {
	if len(a.Values) == 0 {
		return 0, false
	}
	n, ok := a.Values[0].V.(goipp.Integer)
	return int(n), ok
}

func firstBool(a goipp.Attribute) bool {
	if len(a.Values) == 0 {
		return false
	}
	b, ok := a.Values[0].V.(goipp.Boolean)
	return ok && bool(b)
}

// ColorMode is print-color-mode.
type ColorMode string

// Colour modes a job may ask for. "" leaves the printer's default.
const (
	Monochrome ColorMode = "monochrome"
	Color      ColorMode = "color"
)

// Ticket describes one job. The job's name and user are the kiosk's
// (Config.JobName and User), never a page title, URL or file name.
type Ticket struct {
	Name   string    // job-name; "" means DefaultJobName
	Copies int       // copies; 0 means 1
	Color  ColorMode // print-color-mode; "" means the printer's default
	Hold   bool      // job-hold-until: indefinite (the job waits for Release)
}

// JobState is job-state (RFC 8011 5.3.7).
type JobState int

// Job states.
const (
	JobPending           JobState = 3
	JobHeld              JobState = 4 // pending-held
	JobProcessing        JobState = 5
	JobProcessingStopped JobState = 6
	JobCanceled          JobState = 7
	JobAborted           JobState = 8
	JobCompleted         JobState = 9
)

func (s JobState) String() string {
	switch s {
	case JobPending:
		return "pending"
	case JobHeld:
		return "pending-held"
	case JobProcessing:
		return "processing"
	case JobProcessingStopped:
		return "processing-stopped"
	case JobCanceled:
		return "canceled"
	case JobAborted:
		return "aborted"
	case JobCompleted:
		return "completed"
	case 0:
		return "unknown"
	}
	return fmt.Sprintf("job-state(%d)", int(s))
}

// Done says whether the job is over (canceled, aborted or completed).
func (s JobState) Done() bool { return s >= JobCanceled }

// JobStatus is a job as the printer last described it.
type JobStatus struct {
	ID      int
	State   JobState
	Reasons []string // job-state-reasons
}

// Submit sends doc (a PDF) as one job. It uses Create-Job then
// Send-Document, so that the job has an id before the document travels and
// a failed upload can be cancelled rather than left on the printer; a
// printer without Create-Job gets Print-Job. The returned status is the
// printer's answer: the job is accepted (pending, or pending-held with
// Hold).
func (p *Printer) Submit(ctx context.Context, doc []byte, t Ticket) (JobStatus, error) {
	if t.Name == "" {
		t.Name = DefaultJobName
	}
	if t.Copies == 0 {
		t.Copies = 1
	}
	jobAttrs := func(m *goipp.Message) {
		m.Operation.Add(goipp.MakeAttribute("job-name", goipp.TagName, goipp.String(t.Name)))
		if t.Copies != 1 {
			m.Job.Add(goipp.MakeAttribute("copies", goipp.TagInteger, goipp.Integer(t.Copies)))
		}
		if t.Color != "" {
			m.Job.Add(goipp.MakeAttribute("print-color-mode", goipp.TagKeyword, goipp.String(string(t.Color))))
		}
		if t.Hold {
			m.Job.Add(goipp.MakeAttribute("job-hold-until", goipp.TagKeyword, goipp.String("indefinite")))
		}
	}

	m := p.request(goipp.OpCreateJob)
	p.addUser(m)
	jobAttrs(m)
	resp, err := p.do(ctx, m, nil)
	var ie *IPPError
	if errors.As(err, &ie) && ie.Status == goipp.StatusErrorOperationNotSupported {
		m = p.request(goipp.OpPrintJob)
		p.addUser(m)
		m.Operation.Add(goipp.MakeAttribute("document-format", goipp.TagMimeType, goipp.String("application/pdf")))
		jobAttrs(m)
		resp, err = p.do(ctx, m, doc)
		if err != nil {
			return JobStatus{}, err
		}
		return jobStatus(resp, p.host, goipp.OpPrintJob)
	}
	if err != nil {
		return JobStatus{}, err
	}
	js, err := jobStatus(resp, p.host, goipp.OpCreateJob)
	if err != nil {
		return JobStatus{}, err
	}

	m = p.request(goipp.OpSendDocument)
	m.Operation.Add(goipp.MakeAttribute("job-id", goipp.TagInteger, goipp.Integer(js.ID)))
	p.addUser(m)
	m.Operation.Add(goipp.MakeAttribute("document-format", goipp.TagMimeType, goipp.String("application/pdf")))
	m.Operation.Add(goipp.MakeAttribute("last-document", goipp.TagBoolean, goipp.Boolean(true)))
	resp, err = p.do(ctx, m, doc)
	if err != nil {
		// The job exists without its document: cancel it so that nothing
		// is left on the printer, on a context of its own (ctx may be the
		// reason we are here).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
		defer cancel()
		if cerr := p.Cancel(cctx, js.ID); cerr != nil && !errors.Is(cerr, ErrNotPossible) && !errors.Is(cerr, ErrNotFound) {
			return JobStatus{}, fmt.Errorf("%w (and cancelling job %d failed: %v)", err, js.ID, cerr)
		}
		return JobStatus{}, err
	}
	sent, err := jobStatus(resp, p.host, goipp.OpSendDocument)
	if err != nil {
		return JobStatus{}, err
	}
	if sent.ID == 0 {
		sent.ID = js.ID
	}
	return sent, nil
}

// jobStatus reads job-id, job-state and job-state-reasons from a response.
func jobStatus(m *goipp.Message, host string, op goipp.Op) (JobStatus, error) {
	var js JobStatus
	for _, a := range m.Job {
		switch a.Name {
		case "job-id":
			js.ID, _ = firstInt(a)
		case "job-state":
			n, _ := firstInt(a)
			js.State = JobState(n)
		case "job-state-reasons":
			js.Reasons = strs(a)
		}
	}
	if js.ID <= 0 && op != goipp.OpSendDocument {
		return JobStatus{}, fmt.Errorf("IPP %s to %s: %w: no job-id in the answer", op, host, ErrBadResponse)
	}
	return js, nil
}

// Job asks the printer for a job's state (Get-Job-Attributes).
func (p *Printer) Job(ctx context.Context, id int) (JobStatus, error) {
	m := p.request(goipp.OpGetJobAttributes)
	m.Operation.Add(goipp.MakeAttribute("job-id", goipp.TagInteger, goipp.Integer(id)))
	p.addUser(m)
	m.Operation.Add(goipp.MakeAttr("requested-attributes", goipp.TagKeyword,
		goipp.String("job-id"), goipp.String("job-state"), goipp.String("job-state-reasons")))
	resp, err := p.do(ctx, m, nil)
	if err != nil {
		return JobStatus{}, err
	}
	js, err := jobStatus(resp, p.host, goipp.OpGetJobAttributes)
	if err != nil {
		return JobStatus{}, err
	}
	if js.State == 0 {
		return JobStatus{}, fmt.Errorf("IPP %s to %s: %w: no job-state for job %d", goipp.OpGetJobAttributes, p.host, ErrBadResponse, id)
	}
	return js, nil
}

// Cancel cancels a job (Cancel-Job). A job that is already over gives an
// error matching ErrNotPossible; one the printer has forgotten, ErrNotFound.
func (p *Printer) Cancel(ctx context.Context, id int) error {
	return p.jobOp(ctx, goipp.OpCancelJob, id)
}

// Release lets a held job print (Release-Job).
func (p *Printer) Release(ctx context.Context, id int) error {
	return p.jobOp(ctx, goipp.OpReleaseJob, id)
}

func (p *Printer) jobOp(ctx context.Context, op goipp.Op, id int) error {
	m := p.request(op)
	m.Operation.Add(goipp.MakeAttribute("job-id", goipp.TagInteger, goipp.Integer(id)))
	p.addUser(m)
	_, err := p.do(ctx, m, nil)
	return err
}
