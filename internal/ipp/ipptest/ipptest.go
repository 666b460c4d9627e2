// Package ipptest starts real printers for tests, on loopback ports
// with private directories, and stops them with t.Cleanup:
//
//   - StartPrinter runs ippeveprinter (Debian's cups-ipp-utils), an IPP
//     Everywhere printer that keeps each job's document in its spool
//     directory. Its test-only web forms set paper and toner levels, which
//     it then reports in printer-state-reasons.
//   - StartCUPS runs cupsd (Debian's cups-daemon) with a private
//     configuration; AddQueue makes a queue in front of a printer, which
//     holds jobs (job-hold-until), releases them (Release-Job) and can be
//     paused (Pause-Printer).
//
// What the tests check on the printer is read with ipptool, CUPS's own IPP
// client (JobState), not with the package under test.
package ipptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/OpenPrinting/goipp"
)

// startTimeout bounds how long a printer may take to listen.
const startTimeout = 30 * time.Second

// Need skips t unless the programs are installed (make deps installs
// them); under CI it fails instead, so a missing package is seen.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (make deps installs it)", p)
			}
			t.Skipf("%s is not installed (make deps installs it)", p)
		}
	}
}

// proc is a child process group with its output kept for failure reports.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t testing.TB, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process group and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

func (p *proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	// Signals arrive asynchronously: wait until the process is in the
	// state asked for (T for stopped), so the test's next request meets it.
	stat := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatalf("signal %v: %v", sig, err)
		}
		// The state follows the command name in parentheses.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		stopped := len(fields) > 0 && fields[0] == "T"
		if stopped == (sig == syscall.SIGSTOP) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("signal %v: the process did not change state", sig)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// freePort asks the kernel for a free loopback port. Another process can
// take it before the printer binds it; callers retry on a failed start.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits until 127.0.0.1:port accepts connections, or p exits.
func waitListening(p *proc, port int) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("exited: %s", p.out.String())
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not listening on port %d after %v: %s", port, startTimeout, p.out.String())
}

// Printer is a running ippeveprinter.
type Printer struct {
	URI   string // ipp://127.0.0.1:PORT/ipp/print
	Host  string // 127.0.0.1:PORT
	Spool string // where it keeps each job's document
	proc  *proc
}

// PrinterOptions choose what the printer offers.
type PrinterOptions struct {
	// Color makes it a colour printer (print-color-mode color and
	// monochrome); otherwise it prints monochrome only.
	Color bool
	// Formats is its document-format-supported; "" means application/pdf.
	Formats string
	// Slow makes it take 5 to 15 seconds over each job, one job at a
	// time, as ippeveprinter does by default, so that later jobs wait in
	// pending; otherwise each job completes as soon as it arrives.
	Slow bool
}

// StartPrinter starts ippeveprinter on a free loopback port. It needs a
// D-Bus system bus for its (switched off) DNS-SD, so it gets a private
// dbus-daemon of its own.
func StartPrinter(t testing.TB, o PrinterOptions) *Printer {
	t.Helper()
	Need(t, "ippeveprinter", "dbus-daemon", "ipptool")
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	bus := filepath.Join(dir, "bus")
	dbus := start(t, nil, "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+bus)
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := os.Stat(bus); err == nil {
			break
		}
		if dbus.exited() || time.Now().After(deadline) {
			t.Fatalf("private dbus-daemon for ippeveprinter did not start: %s", dbus.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	formats := o.Formats
	if formats == "" {
		formats = "application/pdf"
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		args := []string{"-n", "localhost", "-p", strconv.Itoa(port), "-d", spool, "-k",
			"-f", formats, "-r", "off", "-M", "AccessKiosk", "-m", "TestPrinter"}
		if o.Color {
			args = append(args, "-s", "10,5")
		}
		if !o.Slow {
			args = append(args, "-c", "/bin/true")
		}
		args = append(args, "TestPrinter")
		p := start(t, []string{"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + bus, "HOME=" + dir}, "ippeveprinter", args...)
		if err := waitListening(p, port); err != nil {
			lastErr = err
			p.kill()
			continue
		}
		host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		pr := &Printer{URI: "ipp://" + host + "/ipp/print", Host: host, Spool: spool, proc: p}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("ippeveprinter output:\n%s", clipLog(p.out.String()))
			}
		})
		return pr
	}
	t.Fatalf("ippeveprinter did not start: %v", lastErr)
	return nil
}

func clipLog(s string) string {
	if len(s) > 8000 {
		return "...\n" + s[len(s)-8000:]
	}
	return s
}

// Stop kills the printer (a printer switched off).
func (p *Printer) Stop() { p.proc.kill() }

// Freeze stops the printer's process (SIGSTOP): the kernel still accepts
// connections, but nothing answers, as with a hung printer. Thaw resumes it.
func (p *Printer) Freeze(t testing.TB) { p.proc.signal(t, syscall.SIGSTOP) }

// Thaw resumes a frozen printer.
func (p *Printer) Thaw(t testing.TB) { p.proc.signal(t, syscall.SIGCONT) }

// SpoolFiles lists the documents the printer has received, oldest job
// first (ippeveprinter names them JOBID-NAME.EXT).
func (p *Printer) SpoolFiles(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(p.Spool)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		// JOBID-NAME.prn files are the (empty) output of the print
		// command, not documents.
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".prn") {
			out = append(out, filepath.Join(p.Spool, e.Name()))
		}
	}
	sort.Slice(out, func(i, j int) bool { return jobNumber(out[i]) < jobNumber(out[j]) })
	return out
}

func jobNumber(path string) int {
	n, _ := strconv.Atoi(strings.SplitN(filepath.Base(path), "-", 2)[0])
	return n
}

// WaitSpool waits until the spool holds n documents, and returns them.
func (p *Printer) WaitSpool(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		files := p.SpoolFiles(t)
		if len(files) >= n || time.Now().After(deadline) {
			if len(files) != n {
				t.Fatalf("printer's spool holds %d documents, want %d: %v", len(files), n, files)
			}
			return files
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// form sends one of ippeveprinter's test-only web forms (GET with a query).
func (p *Printer) form(t testing.TB, path, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Host+path+"?"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ippeveprinter %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ippeveprinter %s: HTTP %s", path, resp.Status)
	}
}

// SetPaper sets the sheets in each of the printer's two trays (main and by-pass); 0 makes it
// report media-empty, fewer than 25 media-low.
func (p *Printer) SetPaper(t testing.TB, sheets int) {
	p.form(t, "/media", fmt.Sprintf("size1=na_letter_8.5x11in&type1=&level1=%d&size3=na_index-4x6_4x6in&type3=&level3=%d", sheets, sheets))
}

// SetToner sets the black toner level in percent: below 10 is toner-low,
// 0 toner-empty.
func (p *Printer) SetToner(t testing.TB, percent int) {
	p.form(t, "/supplies", fmt.Sprintf("supply0=25&supply1=%d&supply2=50&supply3=50&supply4=50", percent))
}

// JobAttributes reads a job's attributes from the printer at uri with
// ipptool, CUPS's reference IPP client, name to value as ipptool prints
// them ("job-state": "pending-held", "copies": "2", ...).
func JobAttributes(t testing.TB, uri string, id int) map[string]string {
	t.Helper()
	return IPPTool(t, uri, fmt.Sprintf(`{
OPERATION Get-Job-Attributes
GROUP operation-attributes-tag
ATTR charset attributes-charset utf-8
ATTR naturalLanguage attributes-natural-language en
ATTR uri printer-uri $uri
ATTR integer job-id %d
ATTR name requesting-user-name printertest
ATTR keyword requested-attributes all
}`, id))
}

// JobState reads a job's job-state with ipptool: "pending-held",
// "canceled", "completed", ...
func JobState(t testing.TB, uri string, id int) string {
	t.Helper()
	return JobAttributes(t, uri, id)["job-state"]
}

// WaitJobState waits until the job's state is one of want and returns it.
func WaitJobState(t testing.TB, uri string, id int, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		st := JobState(t, uri, id)
		for _, w := range want {
			if st == w {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d at %s is %q after %v, want one of %v", id, uri, st, startTimeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PrinterState reads printer-state and printer-state-reasons with ipptool.
func PrinterState(t testing.TB, uri string) (state, reasons string) {
	t.Helper()
	attrs := IPPTool(t, uri, `{
OPERATION Get-Printer-Attributes
GROUP operation-attributes-tag
ATTR charset attributes-charset utf-8
ATTR naturalLanguage attributes-natural-language en
ATTR uri printer-uri $uri
ATTR keyword requested-attributes printer-state,printer-state-reasons
}`)
	return attrs["printer-state"], attrs["printer-state-reasons"]
}

var ipptoolAttr = regexp.MustCompile(`^\s+([a-z0-9-]+) \([^)]*\) = (.*)$`)

// IPPTool runs one ipptool test (the file's text) against uri and returns
// the response's attributes, name to value as ipptool prints them.
func IPPTool(t testing.TB, uri, test string) map[string]string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "op.test")
	if err := os.WriteFile(f, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ipptool", "-T", "15", "-v", "-t", uri, f).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("status-code")) {
		t.Fatalf("ipptool %s: %v\n%s", uri, err, out)
	}
	attrs := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := ipptoolAttr.FindStringSubmatch(l); m != nil {
			attrs[m[1]] = m[2]
		}
	}
	return attrs
}

// CUPS is a running cupsd with a private configuration.
type CUPS struct {
	Host string // 127.0.0.1:PORT
	Dir  string
	proc *proc
}

// StartCUPS starts cupsd in the foreground on a free loopback port. Its
// policy lets anyone on loopback administer it (the test adds and pauses
// queues) and lets a job's owner cancel and release it, as a library's
// print server would for the kiosk's user.
func StartCUPS(t testing.TB) *CUPS {
	t.Helper()
	Need(t, "cupsd", "ipptool")
	if os.Geteuid() != 0 {
		// cupsd starts as root and runs its backends as lp.
		t.Skip("cupsd needs root")
	}
	if _, err := os.Stat("/usr/lib/cups/backend/ipp"); err != nil {
		t.Skipf("CUPS's ipp backend is not installed: %v", err)
	}
	// cupsd checks that its directories are not writable by others, and
	// its backends run as lp and must reach the spooled files: a directory
	// of its own under the temporary directory (t.TempDir's parent is 0700).
	dir, err := os.MkdirTemp("", "printertest-cups-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"spool", "tmp", "cache", "state", "ppd"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		conf := fmt.Sprintf(`Listen 127.0.0.1:%d
LogLevel info
WebInterface No
Browsing No
DefaultAuthType Basic
MaxJobs 0
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess default
  SubscriptionPrivateValues default
  <Limit Send-Document Send-URI Hold-Job Release-Job Restart-Job Cancel-Job Cancel-My-Jobs Close-Job Set-Job-Attributes>
    Require user @OWNER @SYSTEM
    Order deny,allow
  </Limit>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
`, port)
		files := fmt.Sprintf(`ServerRoot %[1]s
RequestRoot %[1]s/spool
TempDir %[1]s/tmp
CacheDir %[1]s/cache
StateDir %[1]s/state
Printcap %[1]s/printcap
ServerBin /usr/lib/cups
DataDir /usr/share/cups
ErrorLog stderr
AccessLog stderr
PageLog stderr
`, dir)
		if err := os.WriteFile(filepath.Join(dir, "cupsd.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cups-files.conf"), []byte(files), 0o644); err != nil {
			t.Fatal(err)
		}
		p := start(t, nil, "cupsd", "-f", "-c", filepath.Join(dir, "cupsd.conf"), "-s", filepath.Join(dir, "cups-files.conf"))
		if err := waitListening(p, port); err != nil {
			lastErr = err
			p.kill()
			continue
		}
		c := &CUPS{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, proc: p}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("cupsd output:\n%s", clipLog(p.out.String()))
			}
		})
		return c
	}
	t.Fatalf("cupsd did not start: %v", lastErr)
	return nil
}

// Freeze stops cupsd (SIGSTOP): connections are accepted, nothing answers.
func (c *CUPS) Freeze(t testing.TB) { c.proc.signal(t, syscall.SIGSTOP) }

// Thaw resumes a frozen cupsd.
func (c *CUPS) Thaw(t testing.TB) { c.proc.signal(t, syscall.SIGCONT) }

// QueueURI is the IPP URI of queue name.
func (c *CUPS) QueueURI(name string) string { return "ipp://" + c.Host + "/printers/" + name }

// AddQueue makes a raw queue name (documents pass unchanged) that sends
// its jobs to deviceURI (a printer's ipp:// URI), enabled and accepting,
// and returns its URI.
func (c *CUPS) AddQueue(t testing.TB, name, deviceURI string) string {
	t.Helper()
	uri := c.QueueURI(name)
	m := c.admin(goipp.OpCupsAddModifyPrinter, uri)
	m.Printer.Add(goipp.MakeAttribute("device-uri", goipp.TagURI, goipp.String(deviceURI)))
	m.Printer.Add(goipp.MakeAttribute("printer-is-accepting-jobs", goipp.TagBoolean, goipp.Boolean(true)))
	m.Printer.Add(goipp.MakeAttribute("printer-state", goipp.TagEnum, goipp.Integer(3)))
	c.send(t, m, uri)
	return uri
}

// Pause stops the queue (Pause-Printer): printer-state stopped, reason paused.
func (c *CUPS) Pause(t testing.TB, name string) {
	t.Helper()
	uri := c.QueueURI(name)
	c.send(t, c.admin(goipp.OpPausePrinter, uri), uri)
}

// Resume starts the queue again (Resume-Printer).
func (c *CUPS) Resume(t testing.TB, name string) {
	t.Helper()
	uri := c.QueueURI(name)
	c.send(t, c.admin(goipp.OpResumePrinter, uri), uri)
}

func (c *CUPS) admin(op goipp.Op, uri string) *goipp.Message {
	m := goipp.NewRequest(goipp.MakeVersion(2, 0), op, 1)
	m.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
	m.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("en")))
	m.Operation.Add(goipp.MakeAttribute("printer-uri", goipp.TagURI, goipp.String(uri)))
	m.Operation.Add(goipp.MakeAttribute("requesting-user-name", goipp.TagName, goipp.String("root")))
	return m
}

func (c *CUPS) send(t testing.TB, m *goipp.Message, uri string) { roundTrip(t, m, uri) }

// WaitIdle waits until the printer has no job left to print
// (queued-job-count 0), asking it directly over IPP.
func (p *Printer) WaitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		m := goipp.NewRequest(goipp.MakeVersion(2, 0), goipp.OpGetPrinterAttributes, 1)
		m.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
		m.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("en")))
		m.Operation.Add(goipp.MakeAttribute("printer-uri", goipp.TagURI, goipp.String(p.URI)))
		m.Operation.Add(goipp.MakeAttribute("requested-attributes", goipp.TagKeyword, goipp.String("queued-job-count")))
		r := roundTrip(t, m, p.URI)
		for _, a := range r.Printer {
			if a.Name == "queued-job-count" && len(a.Values) == 1 && a.Values[0].V == goipp.Integer(0) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("printer still has jobs after %v", startTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// roundTrip sends m to uri and returns the successful response.
func roundTrip(t testing.TB, m *goipp.Message, uri string) *goipp.Message {
	t.Helper()
	body, err := m.EncodeBytes()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	target := "http" + strings.TrimPrefix(uri, "ipp")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", goipp.ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", uri, goipp.Op(m.Code), err)
	}
	defer resp.Body.Close()
	var r goipp.Message
	if err := r.Decode(resp.Body); err != nil {
		t.Fatalf("%s %s: decode: %v", uri, goipp.Op(m.Code), err)
	}
	if st := goipp.Status(r.Code); st > 0xff {
		t.Fatalf("%s %s: %s", uri, goipp.Op(m.Code), st)
	}
	return &r
}
