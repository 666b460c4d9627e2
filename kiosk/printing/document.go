package printing

import (
	"accesskiosk/internal/ipp"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Errors of reading a document, for errors.Is. None of them, nor any error
// this file returns, carries the document's name, path or contents.
var (
	ErrNotPDF     = errors.New("the file is not a PDF")
	ErrBrokenPDF  = errors.New("the PDF is damaged and cannot be read")
	ErrEncrypted  = errors.New("the PDF is protected by a password")
	ErrTooLarge   = errors.New("the PDF is too large to print here")
	ErrTooMany    = errors.New("the PDF has too many pages to print here")
	ErrNoPDFTools = errors.New("poppler-utils (pdfinfo, pdftoppm) is not installed")
	ErrNoPage     = errors.New("no such page in the PDF")
)

// Bounds on documents. A page's PDF from WebKit is some kilobytes; a
// council's letter a few megabytes.
const (
	DefaultMaxDocumentBytes = 32 << 20
	DefaultMaxDocumentPages = 300
	DefaultToolTimeout      = 20 * time.Second
	// DefaultPreviewWidth is the width of a page preview in pixels: an A4
	// page at about 170 dpi, so 10-point text is some 24 pixels tall and
	// still readable when the panel shows it at the largest text size.
	DefaultPreviewWidth = 1400
	maxPreviewWidth     = 4000
	maxPreviewBytes     = 64 << 20
	toolMemoryLimit     = 1 << 30 // address space for pdfinfo/pdftoppm
)

// DocumentOptions bound what ReadDocument accepts; the zero value means
// the defaults.
type DocumentOptions struct {
	MaxBytes int64         // 0 means DefaultMaxDocumentBytes
	MaxPages int           // 0 means DefaultMaxDocumentPages
	Timeout  time.Duration // for pdfinfo and each pdftoppm run; 0 means DefaultToolTimeout
}

func (o DocumentOptions) withDefaults() DocumentOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxDocumentBytes
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxDocumentPages
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultToolTimeout
	}
	return o
}

// Document is a PDF held in memory with its page count, ready to preview
// and print: what is counted is exactly what is sent, whatever happens to
// the file afterwards. It is immutable and safe for concurrent use.
type Document struct {
	data  []byte
	pages int
	opts  DocumentOptions
}

// Pages is the number of pages in the PDF (at least 1).
func (d *Document) Pages() int { return d.pages }

// Size is the PDF's length in bytes.
func (d *Document) Size() int { return len(d.data) }

// OpenDocument reads the PDF at path (a print-to-PDF output or a PDF the
// session downloaded) and counts its pages. Only regular files are read.
// Errors never carry path: a downloaded file's name can say who the
// resident is.
func OpenDocument(ctx context.Context, path string, opts DocumentOptions) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the document: %w", unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open the document: %w", unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open the document: %w: not a regular file", ErrNotPDF)
	}
	o := opts.withDefaults()
	if fi.Size() > o.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, fi.Size(), o.MaxBytes)
	}
	return ReadDocument(ctx, f, opts)
}

// unwrapPath drops the path from an *os.PathError.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// ReadDocument reads a PDF from r (at most opts.MaxBytes) and counts its
// pages with poppler's pdfinfo, run as a child process with a time and
// memory limit, so that a hostile or broken PDF cannot hang or crash the
// kiosk. A damaged PDF gives ErrBrokenPDF, one that needs a password
// ErrEncrypted.
func ReadDocument(ctx context.Context, r io.Reader, opts DocumentOptions) (*Document, error) {
	o := opts.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, o.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the document: %w", unwrapPath(err))
	}
	if int64(len(data)) > o.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, o.MaxBytes)
	}
	// A PDF's header may follow up to 1024 bytes of junk (ISO 32000-1 7.5.2
	// says it starts the file; readers allow some garbage before it).
	head := data
	if len(head) > 1024 {
		head = head[:1024]
	}
	if !bytes.Contains(head, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w (%d bytes without a %%PDF- header)", ErrNotPDF, len(data))
	}
	pages, err := countPages(ctx, data, o)
	if err != nil {
		return nil, err
	}
	if pages > o.MaxPages {
		return nil, fmt.Errorf("%w: %d pages, at most %d", ErrTooMany, pages, o.MaxPages)
	}
	return &Document{data: data, pages: pages, opts: o}, nil
}

// pdfTool builds the command for a poppler tool reading the PDF from its
// standard input (so the child never sees a file name), under prlimit when
// util-linux has it.
func pdfTool(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoPDFTools, name, err)
	}
	argv := append([]string{bin}, args...)
	if pl, err := exec.LookPath("prlimit"); err == nil {
		argv = append([]string{pl, "--as=" + strconv.Itoa(toolMemoryLimit), "--core=0", "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.WaitDelay = 2 * time.Second
	return cmd, nil
}

func countPages(ctx context.Context, data []byte, o DocumentOptions) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd, err := pdfTool(ctx, "pdfinfo", "fd://0")
	if err != nil {
		return 0, err
	}
	var out, errOut bytes.Buffer
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout = &limitedBuffer{b: &out, n: 64 << 10}
	cmd.Stderr = &limitedBuffer{b: &errOut, n: 16 << 10}
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return 0, fmt.Errorf("%w: pdfinfo took longer than %v", ErrBrokenPDF, o.Timeout)
	}
	if runErr != nil {
		if strings.Contains(errOut.String(), "Incorrect password") {
			return 0, ErrEncrypted
		}
		return 0, fmt.Errorf("%w: pdfinfo: %v%s", ErrBrokenPDF, runErr, firstErrorLine(errOut.String()))
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		// Only the page count is read; the other lines (the title, the
		// author) are never looked at, kept or logged.
		if rest, ok := strings.CutPrefix(sc.Text(), "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil || n < 1 {
				return 0, fmt.Errorf("%w: no pages", ErrBrokenPDF)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: pdfinfo gave no page count", ErrBrokenPDF)
}

// firstErrorLine keeps poppler's first "Syntax Error" style line, which
// says what is broken, for IT staff, with anything quoted in it (an
// operator or a name from the file, which could be a word of the
// document) cut out.
func firstErrorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Syntax Error") || strings.HasPrefix(l, "Internal Error") || strings.HasPrefix(l, "I/O Error") {
			return " (" + ipp.Clip(quotedRE.ReplaceAllString(l, "…"), 120) + ")"
		}
	}
	return ""
}

var quotedRE = regexp.MustCompile(`'[^']*'|"[^"]*"|<[^>]*>|\([^)]*\)`)

// limitedBuffer keeps the first n bytes written and drops the rest, so a
// child's output cannot grow without bound.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}

// Preview renders page (1-based) as a PNG width pixels wide (0 means
// DefaultPreviewWidth), keeping the page's proportions, with poppler's
// pdftoppm. The image stays in memory; nothing is written to disk.
func (d *Document) Preview(ctx context.Context, page, width int) ([]byte, error) {
	if page < 1 || page > d.pages {
		return nil, fmt.Errorf("%w: page %d of %d", ErrNoPage, page, d.pages)
	}
	if width <= 0 {
		width = DefaultPreviewWidth
	}
	if width > maxPreviewWidth {
		width = maxPreviewWidth
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	p := strconv.Itoa(page)
	cmd, err := pdfTool(ctx, "pdftoppm", "-png", "-f", p, "-l", p, "-singlefile",
		"-scale-to-x", strconv.Itoa(width), "-scale-to-y", "-1", "-")
	if err != nil {
		return nil, err
	}
	var out, errOut bytes.Buffer
	lo := &limitedBuffer{b: &out, n: maxPreviewBytes + 1}
	cmd.Stdin = bytes.NewReader(d.data)
	cmd.Stdout = lo
	cmd.Stderr = &limitedBuffer{b: &errOut, n: 16 << 10}
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("preview page %d: %w: pdftoppm took longer than %v", page, ErrBrokenPDF, d.opts.Timeout)
	}
	if runErr != nil {
		return nil, fmt.Errorf("preview page %d: %w: pdftoppm: %v%s", page, ErrBrokenPDF, runErr, firstErrorLine(errOut.String()))
	}
	if out.Len() > maxPreviewBytes {
		return nil, fmt.Errorf("preview page %d: image larger than %d bytes", page, maxPreviewBytes)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
		return nil, fmt.Errorf("preview page %d: %w: pdftoppm gave no PNG%s", page, ErrBrokenPDF, firstErrorLine(errOut.String()))
	}
	return out.Bytes(), nil
}
