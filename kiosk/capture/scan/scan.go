// Package scan scans pages from a SANE scanner for the kiosk's picker
// (issue 15) by driving SANE's own front end, `scanimage` (Debian
// sane-utils), as a child process, one process per page.
//
// # Why scanimage and not a cgo binding of libsane
//
//   - Crash isolation. SANE backends are vendor drivers loaded into the
//     front end's process (some closed, e.g. epkowa's plugins, Brother's
//     brscan); a crash, a hang in a USB read or a leak in one must not take
//     the kiosk's window, the resident's session and the wipe with it. In a
//     child it costs one failed scan, reported as a clear error; a hung
//     child is killed at PageTimeout.
//   - cgo stays in one corner. kiosk/webkit is the only cgo in the tree; a
//     libsane binding would be a second, with its own stub and threading
//     rules (sane_read blocks; backends are not thread-safe).
//   - Cancel works the way SANE means it to. SIGTERM makes scanimage call
//     sane_cancel, so the driver stops the carriage and returns the head;
//     only if it has not exited after a grace period is its process group
//     killed. The pipe then closes, the half-read page is zeroed and
//     dropped, and nothing was ever written to a file.
//   - The heavy work stays in the child: scanimage encodes the page as JPEG
//     with the system's libjpeg-turbo as rows arrive (--format=jpeg) and
//     streams it through a pipe, with --progress lines on stderr; Go only
//     decodes it once for the preview. BenchmarkScanToPDF measures the
//     alternative (raw PNM through the pipe, encoded with Go's image/jpeg):
//     it costs about 1.4 times the CPU for colour pages (the same for grey)
//     and holds each raw page (7.4 MB for 200 × 200 mm in colour at 200
//     dpi) where this holds its JPEG (about 0.5 MB).
//   - Limits act early: the JPEG header gives the page's size in pixels
//     before the first row, so a page over max_megapixels is refused then;
//     a page whose bytes pass max_file_size is refused as they arrive.
//
// The price is a process start per page (a few milliseconds; a USB scanner
// that warms its lamp does so per page either way), libjpeg's default
// quality (75: text at 200 dpi stays crisp), and reading the device's
// options once per Scanner (`scanimage -A`), to map "colour"/"grey" and the
// resolution onto the names and values the device offers.
//
// # Driving it from the GTK loop
//
// Scan returns at once with a Job. Read its Events in a goroutine and hand
// each to the loop (webkit.Invoke): progress for the page being scanned,
// then the Page with its preview. Job.Cancel (or cancelling the context)
// stops the scan; Events is closed when the job is over, and Job.Err then
// says how it ended. One job runs at a time per Scanner. Probe opens the
// device to tell present, absent or failing, for the device health the
// kiosk reports (capture.Health.Warning gives "scanner_missing" for a
// configured scanner that is gone).
package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/capture/internal/child"
)

// Device is the device name in health warnings ("scanner_missing").
const Device = "scanner"

// Errors for expected states, checked with errors.Is.
var (
	// ErrNotConfigured: the config names no scanner.
	ErrNotConfigured = errors.New("no scanner is configured")
	// ErrBusy: a scan is already running on this Scanner, or another
	// program holds the device.
	ErrBusy = errors.New("the scanner is busy")
	// ErrAbsent: the configured device is not there (unplugged, off).
	ErrAbsent = errors.New("the scanner is not connected")
	// ErrNoDocument: the document feeder is empty.
	ErrNoDocument = errors.New("there is no paper in the scanner's feeder")
	// ErrUnavailable: scanimage is not installed.
	ErrUnavailable = errors.New("scanimage (Debian package sane-utils) is not installed")
)

// Options are a Scanner's dependencies.
type Options struct {
	// Program is the scanimage to run; "" means "scanimage" on PATH.
	Program string
	// Log gets operational events (a failed scan, a device error) and never
	// anything about a page; nil means discard.
	Log logrus.FieldLogger
	// Counters, when set, counts each scanned page.
	Counters *capture.Counters
	// StopGrace is how long a cancelled scanimage gets to stop the scanner
	// before it is killed; 0 means 3s.
	StopGrace time.Duration
	// Env is added to scanimage's environment (tests set SANE_CONFIG_DIR).
	Env []string
}

// Scanner scans from the configured device.
type Scanner struct {
	cfg  Config
	opt  Options
	log  logrus.FieldLogger
	prog string

	mu      sync.Mutex
	running bool
	devOpts *deviceOptions // read once
}

// New returns a Scanner for cfg (which has passed Validate). It does not
// touch the device.
func New(cfg Config, o Options) *Scanner {
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(ioDiscard{})
		log = l
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 3 * time.Second
	}
	prog := o.Program
	if prog == "" {
		prog = "scanimage"
	}
	return &Scanner{cfg: cfg, opt: o, log: log.WithField("component", "scanner"), prog: prog}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

// Configured reports whether the config names a scanner; when it does not,
// the picker leaves scanning out.
func (s *Scanner) Configured() bool { return s.cfg.Configured() }

// Config is the scanner's config.
func (s *Scanner) Config() Config { return s.cfg }

// ScanOptions choose how a Scan scans. Zero fields mean the config's.
type ScanOptions struct {
	// Mode is Colour or Grey; "" means the config's mode.
	Mode Mode
	// Resolution in dpi; 0 means the config's (200 by default).
	Resolution int
	// Pages is how many pages to scan in this job: 1 for a flatbed (the
	// resident places each page), more for a document feeder, which stops
	// early, without error, when it runs out of paper after the first page.
	// 0 means 1. At most the config's MaxPages.
	Pages int
}

// Event is something that happened in a Job.
type Event struct {
	// Index is the page's number in this job, from 0.
	Index int
	// Progress is the fraction of the page received, 0 to 1.
	Progress float64
	// Page is set once the page is complete (Progress is then 1).
	Page *capture.Page
}

// Job is a running scan.
type Job struct {
	events chan Event
	done   chan struct{}
	cancel context.CancelFunc
	err    error

	mu    sync.Mutex // guards sends to events against its closing
	ended bool
}

// sendProgress reports progress unless the reader is behind (progress
// never takes the room kept for pages) or the job has ended. It is called
// from scanimage's stderr reader.
func (j *Job) sendProgress(ev Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ended && len(j.events) < progressSlots {
		j.events <- ev
	}
}

func (j *Job) sendPage(ev Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events <- ev // never blocks: the channel has room for every page
}

func (j *Job) end() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ended = true
	close(j.events)
}

// Events delivers progress and pages, in order. Progress events are
// dropped while the reader is behind; pages never are. It is closed when
// the job is over.
func (j *Job) Events() <-chan Event { return j.events }

// Done is closed when the job is over and its child process is gone.
func (j *Job) Done() <-chan struct{} { return j.done }

// Err says how the job ended, once Done is closed: nil when every page
// asked for was scanned (or the feeder ran out after the first);
// context.Canceled after Cancel; a *capture.LimitError for a page over the
// size limit; ErrAbsent, ErrBusy, ErrNoDocument, context.DeadlineExceeded
// (PageTimeout) or another error from the scanner otherwise. Pages
// delivered before an error stay valid.
func (j *Job) Err() error {
	<-j.done
	return j.err
}

// Cancel stops the job: the page being scanned is dropped and the scanner
// is told to stop. It returns at once; Done is closed once the child has
// exited.
func (j *Job) Cancel() { j.cancel() }

// Wait cancels nothing; it waits for the job to end and returns Err.
func (j *Job) Wait() error { return j.Err() }

// progressSlots is room in the events channel for progress; pages have
// their own room, so sending a page never blocks.
const progressSlots = 8

// Scan starts scanning and returns at once. It fails at once with
// ErrNotConfigured, or ErrBusy when a job is running.
func (s *Scanner) Scan(ctx context.Context, o ScanOptions) (*Job, error) {
	if !s.Configured() {
		return nil, ErrNotConfigured
	}
	maxPages := s.cfg.Limits().MaxPages
	if maxPages == 0 {
		maxPages = capture.DefaultMaxPages
	}
	pages := o.Pages
	if pages <= 0 {
		pages = 1
	}
	if pages > maxPages {
		return nil, &capture.LimitError{Limit: capture.LimitPages, Max: int64(maxPages)}
	}
	mode := o.Mode
	if mode == "" {
		mode = s.cfg.mode()
	} else if m, ok := parseMode(string(mode)); ok {
		mode = m
	} else {
		return nil, fmt.Errorf("scan: mode %q: want %q or %q", o.Mode, Colour, Grey)
	}
	res := o.Resolution
	if res == 0 {
		res = s.cfg.resolution()
	}
	if res < MinResolution || res > MaxResolution {
		return nil, fmt.Errorf("scan: resolution %d dpi: want %d to %d", res, MinResolution, MaxResolution)
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return nil, ErrBusy
	}
	s.running = true
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	j := &Job{events: make(chan Event, pages+progressSlots), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer func() {
			cancel()
			s.mu.Lock()
			s.running = false
			s.mu.Unlock()
			j.end()
			close(j.done)
		}()
		j.err = s.run(ctx, j, mode, res, pages)
		if j.err != nil && !errors.Is(j.err, context.Canceled) {
			s.log.WithError(j.err).Warn("scan failed")
		}
	}()
	return j, nil
}

func (s *Scanner) run(ctx context.Context, j *Job, mode Mode, res, pages int) error {
	opts, err := s.options(ctx)
	if err != nil {
		return err
	}
	args := opts.args(s.cfg.Device, mode, res, s.cfg.Source)
	// The resolution the device will really scan at, for the page's size.
	dpi := opts.resolution(res)
	for i := range pages {
		p, err := s.scanPage(ctx, args, mode, dpi, func(f float64) {
			j.sendProgress(Event{Index: i, Progress: f})
		})
		if err != nil {
			if i > 0 && errors.Is(err, ErrNoDocument) {
				return nil // the feeder is empty: the document is done
			}
			return err
		}
		s.opt.Counters.AddScan()
		j.sendPage(Event{Index: i, Progress: 1, Page: p})
	}
	return nil
}

// options reads the device's options once.
func (s *Scanner) options(ctx context.Context) (deviceOptions, error) {
	s.mu.Lock()
	if s.devOpts != nil {
		o := *s.devOpts
		s.mu.Unlock()
		return o, nil
	}
	s.mu.Unlock()
	out, err := s.runQuick(ctx, 30*time.Second, "--device-name="+s.cfg.Device, "--all-options")
	if err != nil {
		return deviceOptions{}, err
	}
	o := parseOptions(out)
	s.mu.Lock()
	s.devOpts = &o
	s.mu.Unlock()
	return o, nil
}

// runQuick runs scanimage with args to completion and returns its stdout.
func (s *Scanner) runQuick(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	stderr := &progressWriter{}
	cmd := s.command(args, w, stderr)
	p, err := child.Start(cmd)
	w.Close()
	if err != nil {
		return "", s.startError(err)
	}
	stop := context.AfterFunc(ctx, func() { p.Stop(s.opt.StopGrace) })
	defer stop()
	var out bytes.Buffer
	_, rerr := out.ReadFrom(&limitReader{r: r, n: 1 << 20})
	werr := p.Err()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if werr != nil {
		return "", deviceError(werr, stderr.String())
	}
	if rerr != nil {
		return "", fmt.Errorf("scanner: reading scanimage: %w", rerr)
	}
	return out.String(), nil
}

func (s *Scanner) command(args []string, stdout *os.File, stderr io.Writer) *exec.Cmd {
	cmd := exec.Command(s.prog, args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.Env = append(append(os.Environ(), s.opt.Env...), "LC_ALL=C")
	return cmd
}

func (s *Scanner) startError(err error) error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("scanner: %w", ErrUnavailable)
	}
	return fmt.Errorf("scanner: start scanimage: %w", err)
}

// scanPage scans one page. scanimage encodes it as JPEG with the system's
// libjpeg as the rows come and writes it to a pipe; we keep the bytes in
// memory (refusing a page whose header announces more pixels than allowed,
// or whose bytes pass the file size limit, at once) and take progress from
// its --progress lines. Nothing touches a file.
func (s *Scanner) scanPage(ctx context.Context, args []string, mode Mode, dpi int, progress func(float64)) (*capture.Page, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.pageTimeout())
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	defer r.Close()
	stderr := &progressWriter{progress: progress}
	p, err := child.Start(s.command(args, w, stderr))
	w.Close()
	if err != nil {
		return nil, s.startError(err)
	}
	stopped := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		p.Stop(s.opt.StopGrace)
		close(stopped)
	})
	// However this ends, the child is gone before we return.
	defer func() {
		if stop() {
			p.Stop(s.opt.StopGrace)
		} else {
			<-stopped
		}
		<-p.Done()
	}()

	data, rerr := s.readJPEG(r)
	var le *capture.LimitError
	if errors.As(rerr, &le) {
		return nil, rerr
	}
	werr := p.Err() // also waits for the last progress line
	if err := ctx.Err(); err != nil {
		clear(data)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("scanner: the page took longer than %v: %w", s.cfg.pageTimeout(), err)
		}
		return nil, err
	}
	if werr != nil {
		clear(data)
		return nil, deviceError(werr, stderr.String())
	}
	if rerr != nil {
		return nil, fmt.Errorf("scanner: reading the image: %w", rerr)
	}
	page, err := capture.NewPageFromJPEG(data, capture.Scanned, dpi)
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	if mode == Grey && page.Colour {
		// The device has no grey mode: make the page grey here.
		return greyPage(ctx, page, dpi)
	}
	return page, nil
}

// readJPEG reads scanimage's JPEG into memory, checking the page's size in
// pixels as soon as the header has arrived and its length in bytes
// throughout.
func (s *Scanner) readJPEG(r io.Reader) ([]byte, error) {
	maxBytes := int64(s.cfg.Limits().MaxFileSize)
	if maxBytes <= 0 {
		maxBytes = capture.DefaultMaxFileSize
	}
	var buf bytes.Buffer
	sized := false
	chunk := make([]byte, 64<<10)
	for {
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		if int64(buf.Len()) > maxBytes {
			clear(buf.Bytes())
			return nil, &capture.LimitError{Limit: capture.LimitFileSize, Max: maxBytes}
		}
		if !sized && n > 0 {
			if c, cerr := jpeg.DecodeConfig(bytes.NewReader(buf.Bytes())); cerr == nil {
				sized = true
				if int64(c.Width)*int64(c.Height) > s.cfg.maxPixels() {
					clear(buf.Bytes())
					return nil, &capture.LimitError{Limit: capture.LimitPagePixels, Max: s.cfg.maxPixels()}
				}
			}
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return buf.Bytes(), err
		}
	}
}

// greyPage re-encodes a colour page as greyscale.
func greyPage(ctx context.Context, p *capture.Page, dpi int) (*capture.Page, error) {
	img, err := jpeg.Decode(bytes.NewReader(p.JPEG()))
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	b := img.Bounds()
	g := image.NewGray(b)
	draw.Draw(g, b, img, b.Min, draw.Src)
	gp, err := capture.NewPage(ctx, g, capture.Scanned, dpi)
	clear(g.Pix)
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	return gp, nil
}

// deviceError turns scanimage's exit and its last words into an error.
// scanimage's messages name the device and SANE's status, never anything
// of the page.
func deviceError(exit error, stderr string) error {
	msg := lastMessage(stderr)
	l := strings.ToLower(msg)
	var sentinel error
	switch {
	case strings.Contains(l, "document feeder out of documents"), strings.Contains(l, "no documents"):
		sentinel = ErrNoDocument
	case strings.Contains(l, "device busy"):
		sentinel = ErrBusy
	case strings.Contains(l, "open of device") && (strings.Contains(l, "invalid argument") || strings.Contains(l, "no such") || strings.Contains(l, "not found")):
		sentinel = ErrAbsent
	}
	if msg == "" {
		msg = exit.Error()
	}
	if sentinel != nil {
		return fmt.Errorf("%w (%s)", sentinel, msg)
	}
	return fmt.Errorf("scanner: %s", msg)
}

// lastMessage is scanimage's last meaningful stderr line, without its
// "scanimage: " prefix and the progress and format chatter.
func lastMessage(stderr string) string {
	lines := strings.FieldsFunc(stderr, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "", strings.HasPrefix(l, "Progress:"), strings.HasPrefix(l, "Output format is not set"),
			strings.Contains(l, "received signal"), strings.Contains(l, "trying to stop scanner"):
			continue
		}
		return strings.TrimPrefix(l, "scanimage: ")
	}
	return ""
}

// Probe opens the device (scanimage -A) and says whether it is there and
// working. It takes up to 30 seconds for a network scanner that does not
// answer. While a scan runs, it answers Present without touching the
// device. A Scanner with no device configured is NotConfigured.
func (s *Scanner) Probe(ctx context.Context) capture.Health {
	if !s.Configured() {
		return capture.Health{State: capture.NotConfigured}
	}
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if running {
		return capture.Health{State: capture.Present}
	}
	out, err := s.runQuick(ctx, 30*time.Second, "--device-name="+s.cfg.Device, "--all-options")
	switch {
	case err == nil:
		o := parseOptions(out)
		s.mu.Lock()
		s.devOpts = &o
		s.mu.Unlock()
		return capture.Health{State: capture.Present}
	case errors.Is(err, ErrAbsent):
		return capture.Health{State: capture.Absent, Detail: err.Error()}
	}
	return capture.Health{State: capture.Failing, Detail: err.Error()}
}

// DeviceInfo is a scanner SANE can see.
type DeviceInfo struct {
	Name   string // for scanner.device, e.g. "epson2:libusb:001:004"
	Vendor string
	Model  string
	Type   string // e.g. "flatbed scanner"
}

// List asks SANE for every scanner it can see (scanimage
// --formatted-device-list), for IT staff choosing scanner.device. Network
// discovery can make it take up to a minute; it needs no device configured.
func (s *Scanner) List(ctx context.Context) ([]DeviceInfo, error) {
	const sep = "\x1f" // a byte no device name contains
	out, err := s.runQuick(ctx, time.Minute, "--formatted-device-list=%d"+sep+"%v"+sep+"%m"+sep+"%t%n")
	if err != nil {
		return nil, err
	}
	var list []DeviceInfo
	for l := range strings.SplitSeq(out, "\n") {
		f := strings.Split(l, sep)
		if len(f) == 4 {
			list = append(list, DeviceInfo{Name: f[0], Vendor: f[1], Model: f[2], Type: f[3]})
		}
	}
	return list, nil
}

// progressWriter is scanimage's stderr: it keeps the last 4 KiB for error
// messages and reports each "Progress: 45.3%" as it comes.
type progressWriter struct {
	progress func(float64) // nil for none

	mu      sync.Mutex
	buf     []byte
	partial []byte // an unfinished progress line
}

func (t *progressWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if n := len(t.buf); n > 4096 {
		t.buf = append(t.buf[:0], t.buf[n-4096:]...)
	}
	if t.progress == nil {
		return len(p), nil
	}
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexAny(t.partial, "\r\n")
		if i < 0 {
			break
		}
		line := string(t.partial[:i])
		t.partial = t.partial[i+1:]
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Progress: "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64); err == nil && f >= 0 && f <= 100 {
				t.progress(f / 100)
			}
		}
	}
	if len(t.partial) > 256 {
		t.partial = t.partial[:0]
	}
	return len(p), nil
}

func (t *progressWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// limitReader reads at most n bytes, then fails.
type limitReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("too much output")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
