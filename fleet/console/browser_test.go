package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

const (
	adminPassword  = "correct horse battery"
	viewerPassword = "viewer password 1"
	chromiumPath   = "/usr/bin/chromium"
)

// fleet is a real fleet server (store, API, console) on loopback.
type fleet struct {
	st    *store.Store
	srv   *server.Server
	url   string
	rules alert.Rules
	// skew moves the console's clock ahead (nanoseconds).
	skew atomic.Int64
}

func startFleet(t *testing.T) *fleet { t.Helper(); return startFleetWith(t, "") }

// startFleetWith starts a fleet whose console finds its release
// repository in releaseDir; opts change the console's config.
func startFleetWith(t *testing.T, releaseDir string, opts ...func(*console.Config)) *fleet {
	t.Helper()
	st := storetest.SQLite(t)
	ctx := context.Background()
	rules := alert.Rules{OfflineAfter: 10 * time.Minute, DiskLowPercent: 10, HotCelsius: 80, CrashLoopRestarts: 3}
	f := &fleet{st: st, rules: rules}
	cfg := console.Config{Store: st, Log: storetest.Logger(t), CouncilName: "Anytown Council", Rules: rules,
		Now:          func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) },
		ForgetDevice: func(id string) { f.srv.ForgetDevice(id) }, ReleaseDir: releaseDir}
	for _, o := range opts {
		o(&cfg)
	}
	con, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = server.New(server.Config{Store: st, Log: storetest.Logger(t), Console: con, Insights: con.InsightsExports()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.srv.Close)
	hs := httptest.NewServer(f.srv.Handler())
	t.Cleanup(hs.Close)
	f.url = hs.URL
	for _, u := range []struct{ name, role, pw string }{{"alice", store.RoleAdmin, adminPassword}, {"victor", store.RoleViewer, viewerPassword}} {
		h, _ := password.Hash(u.pw)
		if err := st.CreateUser(ctx, u.name, u.role, h); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// device enrols a kiosk through the store and returns its id.
func (f *fleet) device(t testing.TB, site, host string) string {
	t.Helper()
	ctx := context.Background()
	if ok, _ := f.st.SiteExists(ctx, site); !ok {
		f.st.CreateSite(ctx, site, siteNames[site])
	}
	tok, err := f.st.CreateToken(ctx, site, "alice", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: host, Arch: "arm64", AgentVersion: "1.0.0", KioskVersion: "1.0.0", Capability: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e.DeviceID
}

var siteNames = map[string]string{"central": "Central Library", "north": "North Community Hub", "riverside": "Riverside Library"}

// reportAt stores a report made at time at (and received then).
func (f *fleet) reportAt(t testing.TB, dev, site string, at time.Time, r api.Report, acks ...api.CommandAck) store.IngestResult {
	t.Helper()
	f.st.SetClock(func() time.Time { return at })
	defer f.st.SetClock(time.Now)
	if r.ID == "" {
		r.ID = fmt.Sprintf("r%d", at.UnixNano())
	}
	r.CreatedUnixMs = at.UnixMilli()
	res, err := f.st.Ingest(context.Background(), []store.IngestItem{{DeviceID: dev, SiteID: site, Batch: &api.ReportBatch{Capability: 2, Reports: []api.Report{r}, Acks: acks}}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func health(state string, temp float64, diskFreePct int) api.Health {
	return api.Health{AgentVersion: "1.0.0", KioskVersion: "1.0.0", OSRelease: "Debian GNU/Linux 12 (bookworm)", UptimeSeconds: 3 * 86400,
		Load1: 0.4, TempCelsius: temp, MemTotalBytes: 4 << 30, MemAvailBytes: 2 << 30,
		DiskTotalBytes: 32 << 30, DiskFreeBytes: uint64(diskFreePct) * (32 << 30) / 100, KioskState: state, KioskUnit: "active", NetworkUp: true}
}

// browser starts headless Chromium with a fresh profile. Without Chromium
// the test is skipped, unless CI=true, when it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium missing (%v): run make deps", err)
		}
		t.Skipf("chromium missing: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	// A bound on the whole browser session, not a timing: the
	// accessibility test alone visits 37 page states at two widths, which
	// takes minutes on a loaded machine (each step has its own bound).
	ctx, cancelC := context.WithTimeout(ctx, 15*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func signIn(t *testing.T, ctx context.Context, url, user, pw string) {
	t.Helper()
	do(t, ctx, "sign in as "+user,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), user),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("count-online")),
	)
}

// TestConsoleInChromium drives the console in real headless Chromium:
// sign in, see a kiosk that reported, end its session, see the kiosk's
// acknowledgement and the audit entry; a viewer cannot send commands; a
// cross-site POST is refused.
func TestConsoleInChromium(t *testing.T) {
	f := startFleet(t)
	ctx := browser(t)
	dev := f.device(t, "central", "central-kiosk-1")
	f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("in_session", 55, 60)})

	// A wrong password is refused with a message.
	do(t, ctx, "wrong password",
		chromedp.Navigate(f.url+"/"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")),
	)
	if got := text(t, ctx, ".govuk-error-summary"); !strings.Contains(got, "wrong") {
		t.Errorf("error summary = %q", got)
	}

	signIn(t, ctx, f.url, "alice", adminPassword)
	if got := text(t, ctx, "#count-online"); got != "1" {
		t.Errorf("overview online = %q, want 1", got)
	}
	if got := text(t, ctx, "#count-session"); got != "1" {
		t.Errorf("overview in session = %q, want 1", got)
	}
	do(t, ctx, "open the kiosk list", chromedp.Navigate(f.url+"/kiosks"), chromedp.WaitVisible(chromedp.ID("kiosks")))
	if got := text(t, ctx, "#kiosks"); !strings.Contains(got, "central-kiosk-1") || !strings.Contains(got, "In session") {
		t.Errorf("kiosk list = %q", got)
	}

	// End session: button, confirmation page, confirm.
	do(t, ctx, "end session",
		chromedp.Click(chromedp.CSS(`#kiosks a[href="/kiosks/`+dev+`"]`)),
		chromedp.WaitVisible(chromedp.ID("cmd-end_session")),
		chromedp.Click(chromedp.ID("cmd-end_session")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	)
	if got := text(t, ctx, "h1"); !strings.Contains(got, "End the session on central-kiosk-1?") {
		t.Errorf("confirmation heading = %q", got)
	}
	do(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("commands")))
	if got := text(t, ctx, "#commands"); !strings.Contains(got, "End session") || !strings.Contains(got, "Waiting for the kiosk") {
		t.Errorf("commands after sending = %q", got)
	}
	// The kiosk (its agent) picks the command up with its next report and acknowledges it.
	res := f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("idle", 55, 60)})
	if len(res.Commands) != 1 || res.Commands[0].Kind != api.CommandEndSession {
		t.Fatalf("agent was given %+v, want one end_session", res.Commands)
	}
	f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("idle", 55, 60)},
		api.CommandAck{ID: res.Commands[0].ID, Status: api.AckDone, Detail: "session ended, reset in 180 ms"})
	do(t, ctx, "reload kiosk", chromedp.Navigate(f.url+"/kiosks/"+dev), chromedp.WaitVisible(chromedp.ID("commands")))
	if got := text(t, ctx, "#commands"); !strings.Contains(got, "Done") || !strings.Contains(got, "session ended, reset in 180 ms") {
		t.Errorf("commands after ack = %q", got)
	}
	do(t, ctx, "audit log", chromedp.Navigate(f.url+"/audit"), chromedp.WaitVisible(chromedp.ID("audit")))
	if got := text(t, ctx, "#audit"); !strings.Contains(got, "command.end_session") || !strings.Contains(got, dev) || !strings.Contains(got, "alice") {
		t.Errorf("audit log = %q", got)
	}

	// A cross-site page auto-submits a form at the console while alice is signed in.
	evil := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><form id="f" method="post" action="%s/kiosks/%s/command">
			<input name="kind" value="reboot"><input name="confirm" value="yes"></form>
			<script>document.getElementById("f").submit()</script>`, f.url, dev)
	})}
	evilURL := listenOther(t, evil)
	do(t, ctx, "cross-site POST", chromedp.Navigate(evilURL))
	poll(t, ctx, `location.href.startsWith(`+quote(f.url)+`) && document.readyState === "complete"`)
	if got := text(t, ctx, "body"); !strings.Contains(got, "Refused") {
		t.Errorf("cross-site POST answered %q, want a refusal", got)
	}
	if cmds, _ := f.st.Commands(context.Background(), dev, 10); len(cmds) != 1 {
		t.Errorf("after the cross-site POST the kiosk has %d commands, want 1 (no reboot)", len(cmds))
	}

	// Sign out; the viewer sees no command buttons and is refused if she posts anyway.
	do(t, ctx, "sign out", chromedp.Navigate(f.url+"/"), chromedp.WaitVisible(chromedp.ID("count-online")),
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("user")))
	signIn(t, ctx, f.url, "victor", viewerPassword)
	do(t, ctx, "viewer opens kiosk", chromedp.Navigate(f.url+"/kiosks/"+dev), chromedp.WaitVisible(chromedp.ID("no-actions")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#actions, #cmd-end_session").length`)); err != nil || n != 0 {
		t.Errorf("viewer sees %d command buttons (%v)", n, err)
	}
	do(t, ctx, "viewer posts a command",
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.createElement("form"); f.method = "post";
			f.action = "/kiosks/`+dev+`/command"; f.innerHTML = '<input name="kind" value="reboot"><input name="confirm" value="yes">';
			document.body.appendChild(f); f.submit(); })()`),
	)
	poll(t, ctx, `document.querySelector("h1") !== null && document.querySelector("h1").textContent.includes("cannot")`)
	if cmds, _ := f.st.Commands(context.Background(), dev, 10); len(cmds) != 1 {
		t.Errorf("after the viewer's POST the kiosk has %d commands, want 1", len(cmds))
	}
}

func poll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Evaluating while the page navigates fails; that only means "not yet".
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: last result %v, %v", expr, ok, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// listenOther serves h on 127.0.0.2, a different site from 127.0.0.1 to
// the browser.
func listenOther(t *testing.T, hs *http.Server) string {
	t.Helper()
	ln, err := netListen("127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// richFleet is a fleet as a council has it: seven kiosks at three sites
// with a day of reports, sessions, warnings, alerts and commands, a
// release repository with two releases, and a month of Insights counts.
func richFleet(t *testing.T) (*fleet, *releasetest.Repo, map[string]string) {
	t.Helper()
	repo := releasetest.NewRepo(t, release.Options{})
	repo.Add(t, "1.1.0", "arm64", releasetest.Files("1.1.0", 64<<10, 1))
	repo.Add(t, "1.2.0", "arm64", releasetest.Files("1.2.0", 64<<10, 2))
	f := startFleetWith(t, repo.Dir())
	now := time.Now()
	devs := map[string]string{}
	type kiosk struct {
		site, host, state string
		temp              float64
		disk              int
		lastSeen          time.Duration
		restarts          int
		never             bool
	}
	for i, k := range []kiosk{
		{"central", "central-1", "in_session", 52, 70, 0, 0, false},
		{"central", "central-2", "idle", 48, 65, 0, 0, false},
		{"central", "central-3", "idle", 84, 60, 0, 0, false},
		{"north", "north-1", "in_session", 50, 5, 0, 0, false},
		{"north", "north-2", "idle", 47, 55, 40 * time.Minute, 0, false},
		{"riverside", "riverside-1", "gone", 45, 50, 0, 5, false},
		{"riverside", "riverside-2", "", 0, 0, 0, 0, true},
	} {
		id := f.device(t, k.site, k.host)
		devs[k.host] = id
		if k.never {
			continue
		}
		// 24 hours of reports every 30 minutes, with sessions and receipts.
		for j := 48; j >= 0; j-- {
			at := now.Add(-k.lastSeen - time.Duration(j)*30*time.Minute)
			h := health(k.state, k.temp-float64(j%7), k.disk)
			h.Load1 = 0.2 + float64((j+i)%10)/10
			h.KioskRestarts = k.restarts
			if k.site == "central" && k.host != "central-3" {
				h.AgentVersion = "1.1.0"
			}
			r := api.Report{ID: fmt.Sprintf("%s-%d", k.host, j), Seq: uint64(100 - j), Health: h}
			if j%3 == 0 {
				r.Sessions = api.SessionCounts{Ended: 1, TotalMs: int64(600000 + 60000*(j%9)), ResetMedianMs: 150}
				r.Receipts = []api.Receipt{{Reason: []string{"idle_timeout", "toolbar", "handover"}[(j/3)%3], Cleared: []string{"cookies", "cache", "downloads", "clipboard"},
					ResetMs: int64(120 + j%40), SessionMs: int64(600000 + 60000*(j%9)), EndedUnixMs: at.UnixMilli(), Assisted: j%2 == 0,
					Category: []string{"benefits", "housing", "council-tax", "bus-pass"}[(j/3)%4]}}
			}
			if k.host == "north-1" && j == 3 {
				r.Sessions.WipeFailures = 1
				r.Receipts[0].Failed = []string{"downloads"}
			}
			if k.host == "north-1" {
				r.Warnings = []api.Warning{{Code: "disk_low", Severity: "warning", Text: "Only 5% of the disk is free"}}
			}
			f.reportAt(t, id, k.site, at, r)
		}
	}
	f.st.IssueCommand(context.Background(), devs["central-1"], "alice", api.Command{Kind: api.CommandShowMessage, Text: "The library closes in 15 minutes", Seconds: 30})
	res := f.reportAt(t, devs["central-1"], "central", now, api.Report{ID: "final", Health: health("in_session", 52, 70)})
	f.reportAt(t, devs["central-1"], "central", now, api.Report{ID: "final2", Health: health("in_session", 52, 70)},
		api.CommandAck{ID: res.Commands[0].ID, Status: api.AckDone, Detail: "shown for 30 s"})
	f.st.IssueCommand(context.Background(), devs["central-1"], "alice", api.Command{Kind: api.CommandEndSession})
	w, _ := alert.NewWatcher(alert.WatcherConfig{Store: f.st, Rules: f.rules, Log: storetest.Logger(t)})
	if err := w.Check(context.Background()); err != nil {
		t.Fatal(err)
	}

	seedInsights(t, f, insightsMonth(), map[int]int{11: 2, 14: 1})
	return f, repo, devs
}

// TestScreenshots saves a full-page PNG of every console page, with a
// realistic fleet behind it, into $SCREENSHOTS (make screenshots) or a
// temp dir, and checks each page rendered its heading.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, repo, devs := richFleet(t)
	ctx := browser(t)
	shot := func(name, path, wantH1 string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if path != "" {
			do(t, ctx, name, chromedp.Navigate(f.url+path))
		}
		do(t, ctx, name, append(steps, chromedp.WaitVisible(chromedp.CSS("h1")))...)
		if got := text(t, ctx, "h1"); !strings.Contains(got, wantH1) {
			t.Errorf("%s: heading %q, want %q", name, got, wantH1)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		if len(png) < 10000 {
			t.Errorf("%s: screenshot only %d bytes", name, len(png))
		}
		if err := os.WriteFile(filepath.Join(dir, "fleet-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot("01-login", "/login", "Sign in")
	signIn(t, ctx, f.url, "alice", adminPassword)
	shot("02-overview", "/", "Overview")
	shot("03-kiosks", "/kiosks", "Kiosks")
	shot("04-kiosks-attention", "/kiosks?state=attention", "Kiosks")
	shot("05-kiosk", "/kiosks/"+devs["north-1"], "north-1")
	shot("06-kiosk-in-session", "/kiosks/"+devs["central-1"], "central-1")
	shot("07-confirm", "", "End the session", chromedp.Click(chromedp.ID("cmd-end_session")), chromedp.WaitVisible(chromedp.ID("confirm")))
	shot("08-sites", "/sites", "Sites and enrolment")
	shot("09-token", "", "New enrolment token", chromedp.Click(chromedp.ID("make-token")), chromedp.WaitVisible(chromedp.ID("token-secret")))
	shot("10-usage", "/usage", "Usage")
	shot("11-usage-weekly", "/usage?period=week&days=30", "Usage")
	// A rollout of 1.1.0 reached its 50% ring; one of 1.2.0 waits at its canary.
	for _, ro := range []release.Rollout{
		{ID: "1.2.0-20261120-0900", Release: "1.2.0", State: release.RolloutRunning, Rings: []release.Ring{{Name: "canary", Devices: []string{devs["north-2"]}}, {Name: "25%", Percent: 25}, {Name: "all", All: true}}},
		{ID: "1.1.0-20261101-0900", Release: "1.1.0", State: release.RolloutPaused, Stage: 2, Rings: []release.Ring{{Name: "canary", Sites: []string{"central"}}, {Name: "10%", Percent: 10}, {Name: "50%", Percent: 50}, {Name: "all", All: true}}},
	} {
		err := release.OpenRollouts(release.RolloutsPath(repo.Dir())).Update(func(rs []release.Rollout) ([]release.Rollout, error) { return append(rs, ro), nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	shot("15-releases", "/releases", "Releases")
	shot("16-rollout-confirm", "", "Start a rollout of 1.2.0", chromedp.SendKeys(chromedp.ID("percent"), "10, 50"),
		chromedp.Click(chromedp.CSS(`input[value="site:riverside"]`)), chromedp.Click(chromedp.CSS(`input[value="site:north"]`)),
		chromedp.SendKeys(chromedp.ID("canary_kiosks"), "central-1"),
		chromedp.Click(chromedp.ID("start-rollout")), chromedp.WaitVisible(chromedp.ID("confirm")))
	do(t, ctx, "confirm the rollout", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner")))
	if rs := rolloutsOf(t, repo); len(rs) != 3 || rs[0].Release != "1.2.0" || !reflect.DeepEqual(rs[0].Rings[0], release.Ring{Name: "canary", Sites: []string{"north", "riverside"}, Devices: []string{devs["central-1"]}}) {
		t.Errorf("after starting a rollout in Chromium: %+v", rs)
	}
	shot("17-releases-started", "", "Releases")
	shot("18-rollout-canary-error", "/releases", "Releases", chromedp.Click(chromedp.CSS(`input[value="site:central"]`)),
		chromedp.SendKeys(chromedp.ID("canary_kiosks"), "central-1, ghost-9"), chromedp.Click(chromedp.ID("start-rollout")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := text(t, ctx, ".govuk-error-summary"); !strings.Contains(got, `There is no kiosk (name or id) "ghost-9"`) {
		t.Errorf("error summary for an unknown canary kiosk: %q", got)
	}
	shot("12-audit", "/audit", "Audit log")
	shot("13-staff", "/users", "Staff")
	shot("14-not-found", "/nothing-here", "Page not found")
	month := monthKey(insightsMonth())
	shot("19-insights", "/insights?site=central&period="+month, "Insights: Central Library")
	shot("19-insights-all-sites", "/insights?period="+month, "Insights: All sites")
	shot("19-insights-320px", "/insights?site=central&period="+month, "Insights: Central Library", chromedp.EmulateViewport(320, 640))
	shot("20-opening-hours", "/sites/central/hours", "Opening hours", chromedp.EmulateViewport(1280, 900))
	shot("21-report", "/insights/report?site=central&period="+month, "Central Library")
	shot("21-report-all-sites", "/insights/report?period="+month, "All sites")
	t.Logf("screenshots in %s", dir)
}
