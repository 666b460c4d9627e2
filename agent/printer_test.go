package agent

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/ipp/ipptest"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

func TestPrinterConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"printer:\n  uri: http://printer/ipp/print\n", "agent.yaml:2: printer.uri: want an ipp:// or ipps:// URI"},
		{"printer:\n  uri: ipp://printer\n", "agent.yaml:2: printer.uri: has no path"},
		{"printer:\n  tls_sha256: AB:CD\n", "agent.yaml:2: printer.uri: is required when printer.tls_sha256 is set"},
		{"printer:\n  uri: ipp://p/ipp/print\n  tls_sha256: " + strings.Repeat("AB:", 31) + "AB\n", "agent.yaml:3: printer.tls_sha256: pins the certificate of an ipps:// printer"},
		{"printer:\n  uri: ipps://p/ipp/print\n  tls_sha256: nope\n", "agent.yaml:3: printer.tls_sha256: want a SHA-256 fingerprint"},
		{"printer:\n  uri: ipp://p/ipp/print\n  interval: 10ms\n", "agent.yaml:3: printer.interval: 10ms is too often"},
		{"printer:\n  uri: ipp://p/ipp/print\n  timeout: 2m\n", "agent.yaml:3: printer.timeout: 2m0s is longer than the interval (30s)"},
		{"printer:\n  uri: ipp://p/ipp/print\n  timeut: 2s\n", "agent.yaml:3: printer.timeut: unknown key"},
	} {
		p := filepath.Join(t.TempDir(), "agent.yaml")
		os.WriteFile(p, []byte(tc.yaml), 0o600)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
	p := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(p, []byte("printer:\n  uri: ipps://printer.local/ipp/print\n  tls_sha256: "+strings.Repeat("ab", 32)+"\n  interval: 1m\n  timeout: 5s\n"), 0o600)
	if c, err := LoadConfig(p); err != nil || c.Printer.URI != "ipps://printer.local/ipp/print" || c.Printer.Interval != time.Minute {
		t.Errorf("a good printer section: %+v, %v", c.Printer, err)
	}
}

// TestPrinterFromKioskConfig: with printer.uri unset the agent watches
// the printer the kiosk's config names; printer.uri wins when set; a
// missing file means no printer; a bad address or file is an error that
// names the file and the key (the agent then runs without printer health).
func TestPrinterFromKioskConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fp := strings.Repeat("ab", 32)
	good := write("good.yaml", "home_url: kiosk://home\nprinting:\n  printer: ipps://desk.local/ipp/print\n  tls_sha256: "+fp+"\n  pages_per_day: 30\n")
	none := write("none.yaml", "home_url: kiosk://home\n")
	badURI := write("baduri.yaml", "printing:\n  printer: http://desk.local/ipp/print\n")
	badPin := write("badpin.yaml", "printing:\n  printer: ipps://desk.local/ipp/print\n  tls_sha256: nope\n")
	badYAML := write("badyaml.yaml", "printing: [\n")
	log := logrus.New()
	log.SetOutput(io.Discard)
	for _, tc := range []struct {
		name    string
		c       PrinterConfig
		uri     string
		tls     string
		wantErr string
	}{
		{"from the kiosk's config", PrinterConfig{KioskConfig: good}, "ipps://desk.local/ipp/print", fp, ""},
		{"printer.uri wins", PrinterConfig{URI: "ipp://other/ipp/print", KioskConfig: good}, "ipp://other/ipp/print", "", ""},
		{"the kiosk does not print", PrinterConfig{KioskConfig: none}, "", "", ""},
		{"no kiosk config on this machine", PrinterConfig{KioskConfig: filepath.Join(dir, "missing.yaml")}, "", "", ""},
		{"not read", PrinterConfig{}, "", "", ""},
		{"a bad address", PrinterConfig{KioskConfig: badURI}, "", "", badURI + ": printing.printer: want an ipp:// or ipps:// URI"},
		{"a bad pin", PrinterConfig{KioskConfig: badPin}, "", "", badPin + ": printing.tls_sha256: want a SHA-256 fingerprint"},
		{"not YAML", PrinterConfig{KioskConfig: badYAML}, "", "", badYAML + ": yaml:"},
	} {
		got, err := tc.c.printerTarget(log)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.URI != tc.uri || got.TLSSHA256 != tc.tls {
			t.Errorf("%s: %+v, %v; want uri %q tls %q", tc.name, got, err, tc.uri, tc.tls)
		}
	}
	// The shipped defaults read the kiosk's config where the packages put it.
	if d := Defaults().Printer.KioskConfig; d != "/etc/accesskiosk/kiosk.yaml" {
		t.Errorf("default printer.kiosk_config %q", d)
	}
}

// consoleFleet is the real fleet server with its console: the device API
// over loopback TLS for the agent, and the same server over plain HTTP on
// loopback for the browser.
type consoleFleet struct {
	st                       *store.Store
	agentURL, fp, browserURL string
}

func startConsoleFleet(t *testing.T) *consoleFleet {
	t.Helper()
	dir := t.TempDir()
	log := logrus.New()
	log.SetOutput(io.Discard)
	st, err := store.Open(context.Background(), store.Config{Dialect: store.SQLite, Path: filepath.Join(dir, "fleet.db")}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rules := alert.Rules{OfflineAfter: 10 * time.Minute, DiskLowPercent: 10, HotCelsius: 80, CrashLoopRestarts: 3}
	var srv *server.Server
	con, err := console.New(console.Config{Store: st, Log: log, CouncilName: "Anytown Council", Rules: rules,
		ForgetDevice: func(id string) { srv.ForgetDevice(id) }})
	if err != nil {
		t.Fatal(err)
	}
	if srv, err = server.New(server.Config{Store: st, Log: log, Console: con, RateBurst: 1000, RatePerSecond: 100}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cert, _, err := tlscert.LoadOrCreate(filepath.Join(dir, "tls"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx, ln, &tls.Config{Certificates: []tls.Certificate{cert}}) }()
	t.Cleanup(func() { cancel(); <-done })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	h, err := password.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), "alice", store.RoleAdmin, h); err != nil {
		t.Fatal(err)
	}
	return &consoleFleet{st: st, agentURL: "https://" + ln.Addr().String(), fp: tlscert.Fingerprint(cert.Certificate[0]), browserURL: hs.URL}
}

// TestPrinterWarningsReachTheConsole: the agent watches the kiosk's real
// printer (ippeveprinter); out of paper, then stopped, its warnings reach
// the real fleet within a report, and IT staff see them in the console in
// real Chromium, beside the kiosk (its page and the kiosks list) and on
// the overview; a warning the printer no longer has goes (out of paper,
// then stopped: only printer_offline is left).
func TestPrinterWarningsReachTheConsole(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/chromium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium missing: make deps")
		}
		t.Skip("chromium missing")
	}
	ctx := context.Background()
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	fleet := startConsoleFleet(t)
	if _, err := fleet.st.CreateSite(ctx, "central", "Central Library"); err != nil {
		t.Fatal(err)
	}
	tok, err := fleet.st.CreateToken(ctx, "central", "alice", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	addr := bustest.Start(t)
	sd := systemdtest.Start(t, addr)
	sd.SetUnit("accesskiosk-kiosk.service", "active", "running", 0)
	if _, err := bus.Serve(bustest.Conn(t, addr), &shell{}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, fleet.agentURL, addr)
	cfg.Fleet.Fingerprint = fleet.fp
	cfg.Report.Interval = 2 * time.Second // a report now and then; a printer change is reported at once
	// IT name the printer once, in the kiosk's config; the agent reads it there.
	kioskYAML := filepath.Join(t.TempDir(), "kiosk.yaml")
	if err := os.WriteFile(kioskYAML, []byte("home_url: kiosk://home\nprinting:\n  printer: "+pr.URI+"\n  pages_per_session: 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Printer = PrinterConfig{KioskConfig: kioskYAML, Interval: time.Second, Timeout: 3 * time.Second}
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(tok.Secret), 0o600)
	log, _ := applog.New(io.Discard, "info")
	actx, cancel := context.WithCancel(ctx)
	a, err := Start(actx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()

	// warnings is what the fleet's store holds from the kiosk's last report.
	var dev store.Device
	warnings := func() map[string]api.Warning {
		ds, err := fleet.st.Devices(ctx, store.DeviceFilter{Site: "central"})
		if err != nil || len(ds) != 1 || ds[0].Last == nil {
			return nil
		}
		dev = ds[0]
		m := map[string]api.Warning{}
		for _, w := range dev.Last.Warnings {
			m[w.Code] = w
		}
		return m
	}
	waitPrinter := func(what string, cond func(map[string]api.Warning) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			if w := warnings(); w != nil && cond(w) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; the fleet has %+v", what, warnings())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	printerCodes := func(w map[string]api.Warning) []string {
		var out []string
		for c := range w {
			if strings.HasPrefix(c, "printer_") {
				out = append(out, c)
			}
		}
		return out
	}
	waitPrinter("a report with a healthy printer", func(w map[string]api.Warning) bool { return len(printerCodes(w)) == 0 })

	pr.SetPaper(t, 0)
	waitPrinter("printer_needs_paper at the fleet", func(w map[string]api.Warning) bool {
		return w["printer_needs_paper"].Severity == "critical"
	})
	start := time.Now()
	pr.Stop()
	waitPrinter("printer_offline at the fleet", func(w map[string]api.Warning) bool {
		return w["printer_offline"].Severity == "critical" && len(printerCodes(w)) == 1
	})
	t.Logf("printer stopped → printer_offline stored by the fleet in %v", time.Since(start).Round(time.Millisecond))
	if text := warnings()["printer_offline"].Text; !strings.Contains(text, pr.Host) {
		t.Errorf("printer_offline says %q; want it to name the printer %s", text, pr.Host)
	}

	// The console, in real Chromium.
	actxB, cancelA := chromedp.NewExecAllocator(ctx, chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actxB)
	defer cancelB()
	bctx, cancelT := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelT()
	if err := chromedp.Do(bctx,
		chromedp.Navigate(fleet.browserURL+"/"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("alerts")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	overview, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("alerts")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(overview, "Printer not answering") || !strings.Contains(overview, dev.Hostname) {
		t.Errorf("the overview's Needs attention says %q; want the kiosk %s and its printer", overview, dev.Hostname)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(fleet.browserURL+"/kiosks/"+dev.ID), chromedp.WaitVisible(chromedp.ID("warnings"))); err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("warnings")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "Printer not answering") || !strings.Contains(page, "does not answer") {
		t.Errorf("the kiosk's page says %q; want the printer not answering", page)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(fleet.browserURL+"/kiosks"), chromedp.WaitVisible(chromedp.ID("kiosks"))); err != nil {
		t.Fatal(err)
	}
	list, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("kiosks")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "Printer not answering") {
		t.Errorf("the kiosks list says %q; want the printer beside the kiosk", list)
	}
}
