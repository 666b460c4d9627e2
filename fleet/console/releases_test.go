package console_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
)

// client is a signed-in console user speaking plain HTTP (no redirects
// followed, so each answer's status is seen).
type client struct {
	t   testing.TB
	hc  *http.Client
	url string
}

func signInHTTP(t testing.TB, base, user, pw string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := &client{t: t, hc: hc, url: base}
	if code, body := c.post("/login", url.Values{"user": {user}, "password": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d %s", user, code, body)
	}
	return c
}

func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// releaseFleet is a fleet with a real release repository holding 1.1.0
// for arm64, a kiosk at site central and one at north.
func releaseFleet(t *testing.T, opts ...func(*console.Config)) (*fleet, *releasetest.Repo, map[string]string) {
	t.Helper()
	repo := releasetest.NewRepo(t, release.Options{})
	repo.Add(t, "1.1.0", "arm64", releasetest.Files("1.1.0", 4096, 1))
	f := startFleetWith(t, repo.Dir(), opts...)
	devs := map[string]string{}
	for _, k := range []struct{ site, host string }{{"central", "central-1"}, {"north", "north-1"}} {
		devs[k.host] = f.device(t, k.site, k.host)
		f.reportAt(t, devs[k.host], k.site, time.Now(), api.Report{Health: health("idle", 50, 60)})
	}
	return f, repo, devs
}

func rolloutsOf(t testing.TB, repo *releasetest.Repo) []release.Rollout {
	t.Helper()
	rs, err := release.OpenRollouts(release.RolloutsPath(repo.Dir())).List()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func fileOf(t testing.TB, repo *releasetest.Repo) string {
	b, err := os.ReadFile(release.RolloutsPath(repo.Dir()))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func auditActions(t testing.TB, f *fleet, prefix string) []string {
	t.Helper()
	es, err := f.st.AuditLog(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Action, prefix) {
			out = append(out, e.Actor+" "+e.Action+" "+e.Detail)
		}
	}
	return out
}

func TestReleasesNoRepository(t *testing.T) {
	f := startFleetWith(t, t.TempDir()+"/release")
	c := signInHTTP(t, f.url, "alice", adminPassword)
	code, body := c.get("/releases")
	if code != http.StatusOK || !strings.Contains(body, "no release repository") || !strings.Contains(body, "fleet release init --data") {
		t.Errorf("releases without a repository: %d %s", code, body)
	}
	code, body = c.post("/releases/rollouts", url.Values{"release": {"1.0.0"}, "canary": {"site:central"}, "confirm": {"yes"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "no release repository") {
		t.Errorf("start without a repository: %d", code)
	}
	code, body = c.post("/releases/rollouts/x/abort", url.Values{"confirm": {"yes"}})
	if code != http.StatusNotFound || !strings.Contains(body, "no release repository") {
		t.Errorf("abort without a repository: %d", code)
	}
}

func TestRolloutLifecycle(t *testing.T) {
	f, repo, devs := releaseFleet(t)
	c := signInHTTP(t, f.url, "alice", adminPassword)

	code, body := c.get("/releases")
	if code != http.StatusOK || !strings.Contains(body, "1.1.0") || !strings.Contains(body, "arm64") || !strings.Contains(body, "No rollouts yet") {
		t.Fatalf("releases page: %d %s", code, body)
	}
	if !strings.Contains(body, `href="/releases"`) {
		t.Error("no Releases link in the navigation")
	}

	start := url.Values{"release": {"1.1.0"}, "canary": {"site:central"}, "percent": {"10, 50"}}
	code, body = c.post("/releases/rollouts", start)
	if code != http.StatusOK || !strings.Contains(body, "Start a rollout of 1.1.0?") || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("start asks for confirmation: %d %s", code, body)
	}
	if rs := rolloutsOf(t, repo); len(rs) != 0 {
		t.Fatalf("rollout stored before confirmation: %+v", rs)
	}
	start.Set("confirm", "yes")
	if code, loc := c.post("/releases/rollouts", start); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/releases?done=") {
		t.Fatalf("start: %d %s", code, loc)
	}
	rs := rolloutsOf(t, repo)
	if len(rs) != 1 {
		t.Fatalf("rollouts = %+v", rs)
	}
	ro := rs[0]
	wantRings := []release.Ring{{Name: "canary", Sites: []string{"central"}}, {Name: "10%", Percent: 10}, {Name: "50%", Percent: 50}, {Name: "all", All: true}}
	if ro.Release != "1.1.0" || ro.State != release.RolloutRunning || ro.Stage != 0 || !reflect.DeepEqual(ro.Rings, wantRings) {
		t.Errorf("rollout = %+v, want 1.1.0 running at stage 0 with %+v", ro, wantRings)
	}
	// Each kiosk's desired version, as the fleet puts it in report answers.
	rf := release.OpenRollouts(release.RolloutsPath(repo.Dir()))
	if got, _ := rf.Desired(release.Device{ID: devs["central-1"], Site: "central", Running: "1.0.0"}); got != "1.1.0" {
		t.Errorf("canary kiosk desired %q, want 1.1.0", got)
	}

	// The canary updates: progress shows it.
	f.reportAt(t, devs["central-1"], "central", time.Now(), api.Report{Health: func() api.Health { h := health("idle", 50, 60); h.AgentVersion = "1.1.0"; return h }()})
	_, body = c.get("/releases")
	if !strings.Contains(body, "rollout-"+ro.ID) || !strings.Contains(body, "1 of 1") || !strings.Contains(body, "running") {
		t.Errorf("releases page after the canary updated lacks its progress: %s", body)
	}

	steps := []struct {
		action, wantState string
		wantStage         int
	}{
		{"advance", release.RolloutRunning, 1},
		{"pause", release.RolloutPaused, 1},
		{"resume", release.RolloutRunning, 1},
		{"advance", release.RolloutRunning, 2},
		{"advance", release.RolloutDone, 3},
		{"abort", release.RolloutAborted, 3},
	}
	for _, s := range steps {
		path := "/releases/rollouts/" + ro.ID + "/" + s.action
		code, body := c.post(path, nil)
		if code != http.StatusOK || !strings.Contains(body, `id="confirm"`) {
			t.Fatalf("%s asks for confirmation: %d %s", s.action, code, body)
		}
		if got := rolloutsOf(t, repo)[0]; got.State == s.wantState && got.Stage == s.wantStage {
			t.Fatalf("%s applied before confirmation", s.action)
		}
		if code, loc := c.post(path, url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", s.action, code, loc)
		}
		if got := rolloutsOf(t, repo)[0]; got.State != s.wantState || got.Stage != s.wantStage {
			t.Errorf("after %s: %s at stage %d, want %s at %d", s.action, got.State, got.Stage, s.wantState, s.wantStage)
		}
	}
	got := auditActions(t, f, "rollout.")
	if len(got) != 7 {
		t.Fatalf("audit = %q, want 7 rollout entries", got)
	}
	for i, want := range []string{"rollout.abort", "rollout.advance", "rollout.advance", "rollout.resume", "rollout.pause", "rollout.advance", "rollout.start"} {
		if !strings.HasPrefix(got[i], "alice "+want+" ") {
			t.Errorf("audit[%d] = %q, want alice %s", i, got[i], want)
		}
	}
}

func TestRolloutRefusals(t *testing.T) {
	f, repo, devs := releaseFleet(t)
	admin := signInHTTP(t, f.url, "alice", adminPassword)
	viewer := signInHTTP(t, f.url, "victor", viewerPassword)
	ok := url.Values{"release": {"1.1.0"}, "canary": {"device:" + devs["north-1"]}, "percent": {"25"}, "confirm": {"yes"}}
	if code, loc := admin.post("/releases/rollouts", ok); code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", code, loc)
	}
	id := rolloutsOf(t, repo)[0].ID
	auditBefore := len(auditActions(t, f, "rollout."))

	with := func(k, v string) url.Values {
		form := url.Values{}
		for kk, vv := range ok {
			form[kk] = vv
		}
		form.Set(k, v)
		return form
	}
	tests := []struct {
		name     string
		c        *client
		path     string
		form     url.Values
		wantCode int
		wantText string
	}{
		{"viewer starts", viewer, "/releases/rollouts", ok, http.StatusForbidden, "Your role is viewer"},
		{"viewer advances", viewer, "/releases/rollouts/" + id + "/advance", url.Values{"confirm": {"yes"}}, http.StatusForbidden, "Your role is viewer"},
		{"viewer aborts", viewer, "/releases/rollouts/" + id + "/abort", url.Values{"confirm": {"yes"}}, http.StatusForbidden, "Your role is viewer"},
		{"unknown release", admin, "/releases/rollouts", with("release", "9.9.9"), http.StatusBadRequest, "Choose a release that is in the repository"},
		{"no release", admin, "/releases/rollouts", with("release", ""), http.StatusBadRequest, "Choose a release that is in the repository"},
		{"percentage over 99", admin, "/releases/rollouts", with("percent", "150"), http.StatusBadRequest, "Enter percentages between 1 and 99"},
		{"percentage zero", admin, "/releases/rollouts", with("percent", "0"), http.StatusBadRequest, "Enter percentages between 1 and 99"},
		{"percentage not a number", admin, "/releases/rollouts", with("percent", "ten"), http.StatusBadRequest, "Enter percentages between 1 and 99"},
		{"percentages not increasing", admin, "/releases/rollouts", with("percent", "50, 10"), http.StatusBadRequest, "smallest first"},
		{"unknown site", admin, "/releases/rollouts", with("canary", "site:nowhere"), http.StatusBadRequest, `There is no site with the id &#34;nowhere&#34;. Nothing was changed.`},
		{"unknown kiosk", admin, "/releases/rollouts", with("canary", "device:nope"), http.StatusBadRequest, `There is no kiosk (name or id) &#34;nope&#34;. Nothing was changed.`},
		{"no canary", admin, "/releases/rollouts", with("canary", ""), http.StatusBadRequest, "Choose at least one canary site or kiosk"},
		{"unknown rollout", admin, "/releases/rollouts/nope/advance", url.Values{"confirm": {"yes"}}, http.StatusNotFound, "no rollout with that id"},
		{"unknown action", admin, "/releases/rollouts/" + id + "/delete", url.Values{"confirm": {"yes"}}, http.StatusNotFound, "advanced, paused, resumed or aborted"},
		{"resume a running rollout", admin, "/releases/rollouts/" + id + "/resume", url.Values{"confirm": {"yes"}}, http.StatusConflict, "is running: that does not allow resume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fileOf(t, repo)
			code, body := tt.c.post(tt.path, tt.form)
			if code != tt.wantCode || !strings.Contains(body, tt.wantText) {
				t.Errorf("got %d, want %d with %q; body %s", code, tt.wantCode, tt.wantText, body)
			}
			if after := fileOf(t, repo); after != before {
				t.Errorf("rollouts changed:\n%s\nwas\n%s", after, before)
			}
			if n := len(auditActions(t, f, "rollout.")); n != auditBefore {
				t.Errorf("audit has %d rollout entries, want %d", n, auditBefore)
			}
		})
	}
	// The viewer sees the page, without the forms.
	code, body := viewer.get("/releases")
	if code != http.StatusOK || !strings.Contains(body, "rollout-"+id) || strings.Contains(body, "start-rollout") || strings.Contains(body, "advance-"+id) {
		t.Errorf("viewer's releases page: %d, start form or action buttons shown: %s", code, body)
	}
}

// canaryFleet is releaseFleet plus a third site and a kiosk in IT's office
// (at central), and two kiosks sharing a host name.
func canaryFleet(t *testing.T) (*fleet, *releasetest.Repo, map[string]string) {
	t.Helper()
	f, repo, devs := releaseFleet(t)
	for _, k := range []struct{ site, host string }{{"riverside", "riverside-1"}, {"central", "it-office"}, {"north", "twin"}, {"riverside", "twin"}} {
		devs[k.site+"/"+k.host] = f.device(t, k.site, k.host)
	}
	devs["it-office"] = devs["central/it-office"]
	return f, repo, devs
}

// hiddenFields reads the confirmation page's hidden fields back into a form,
// as the browser would post them.
func hiddenFields(t testing.TB, body string) url.Values {
	t.Helper()
	form := url.Values{}
	re := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("confirm") != "yes" {
		t.Fatalf("no confirmation form in %s", body)
	}
	return form
}

// TestRolloutSeveralCanaries: the canary ring names several sites and
// kiosks (site checkboxes, kiosk names or ids typed, and the single
// "canary" field of earlier consoles); the confirmation page carries them
// and the stored ring holds them all, each device id once.
func TestRolloutSeveralCanaries(t *testing.T) {
	f, repo, devs := canaryFleet(t)
	c := signInHTTP(t, f.url, "alice", adminPassword)
	code, body := c.get("/releases")
	if code != http.StatusOK || !strings.Contains(body, `value="site:riverside"`) || !strings.Contains(body, `id="canary_kiosks"`) {
		t.Fatalf("releases page lacks the canary checkboxes or kiosk field: %d %s", code, body)
	}
	tests := []struct {
		name        string
		form        url.Values
		wantSites   []string
		wantDevices []string
		wantExplain string
	}{
		{"two branch libraries and IT's kiosk", url.Values{"canary": {"site:central", "site:north"}, "canary_kiosks": {"it-office"}},
			[]string{"central", "north"}, []string{devs["it-office"]}, "site Central Library, site North Community Hub, kiosk it-office"},
		{"kiosks only, by name and id, repeated", url.Values{"canary_kiosks": {"central-1, " + devs["north-1"] + " CENTRAL-1,central-1"}},
			nil, []string{devs["central-1"], devs["north-1"]}, "kiosk central-1, kiosk north-1"},
		{"one site, as earlier consoles sent it", url.Values{"canary": {"site:riverside"}},
			[]string{"riverside"}, nil, "site Riverside Library"},
		{"one kiosk, as earlier consoles sent it", url.Values{"canary": {"device:" + devs["north-1"]}},
			nil, []string{devs["north-1"]}, "kiosk north-1"},
		{"a twin by id", url.Values{"canary": {"site:central", "site:central"}, "canary_kiosks": {devs["north/twin"]}},
			[]string{"central"}, []string{devs["north/twin"]}, "site Central Library, kiosk twin"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"release": {"1.1.0"}, "percent": {"25"}}
			for k, v := range tt.form {
				form[k] = v
			}
			code, body := c.post("/releases/rollouts", form)
			if code != http.StatusOK || !strings.Contains(body, html.EscapeString(tt.wantExplain)) {
				t.Fatalf("confirmation: %d, want the canary %q in %s", code, tt.wantExplain, body)
			}
			if n := len(rolloutsOf(t, repo)); n != i {
				t.Fatalf("%d rollouts before confirming, want %d", n, i)
			}
			f.skew.Add(int64(time.Minute)) // a new rollout id each time
			if code, loc := c.post("/releases/rollouts", hiddenFields(t, body)); code != http.StatusSeeOther {
				t.Fatalf("confirm: %d %s", code, loc)
			}
			rs := rolloutsOf(t, repo)
			if len(rs) != i+1 {
				t.Fatalf("%d rollouts, want %d", len(rs), i+1)
			}
			got := rs[0].Rings[0]
			want := release.Ring{Name: "canary", Sites: tt.wantSites, Devices: tt.wantDevices}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("canary ring = %+v, want %+v", got, want)
			}
			audit := auditActions(t, f, "rollout.start")
			if len(audit) == 0 || !strings.Contains(audit[0], "canary ") {
				t.Errorf("audit = %q", audit)
			}
			for _, s := range tt.wantSites {
				if !strings.Contains(audit[0], s) {
					t.Errorf("audit %q does not name site %s", audit[0], s)
				}
			}
		})
	}
	// The newest rollout decides: every kiosk named or at a named site of
	// the first case gets 1.1.0 from a rollout with only that canary ring open.
	rf := release.OpenRollouts(release.RolloutsPath(repo.Dir()))
	rs, _ := rf.List()
	first := rs[len(rs)-1]
	for _, tt := range []struct {
		id, site string
		want     bool
	}{
		{devs["central-1"], "central", true}, {devs["north-1"], "north", true}, {devs["it-office"], "central", true},
		{devs["riverside-1"], "riverside", false}, {devs["riverside/twin"], "riverside", false},
	} {
		_, got := first.Desired(release.Device{ID: tt.id, Site: tt.site, Running: "1.0.0"})
		if got != tt.want {
			t.Errorf("kiosk %s at %s in the canary: got %v, want %v", tt.id, tt.site, got, tt.want)
		}
	}
}

// TestRolloutCanaryRefusals: unknown, ambiguous, malformed, missing or too
// many canaries are refused with a sentence naming them, and nothing is
// stored or audited.
func TestRolloutCanaryRefusals(t *testing.T) {
	f, repo, _ := canaryFleet(t)
	c := signInHTTP(t, f.url, "alice", adminPassword)
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("kiosk-%d", i)
	}
	tests := []struct {
		name     string
		form     url.Values
		wantText []string
		field    string
	}{
		{"unknown site beside good ones", url.Values{"canary": {"site:central", "site:atlantis"}, "canary_kiosks": {"it-office"}},
			[]string{"There is no site with the id &#34;atlantis&#34;", "Nothing was changed."}, "canary"},
		{"two unknown kiosks", url.Values{"canary": {"site:central"}, "canary_kiosks": {"it-office, ghost-1, ghost-2"}},
			[]string{"There are no kiosks (names or ids) &#34;ghost-1&#34;, &#34;ghost-2&#34;"}, "canary_kiosks"},
		{"unknown site and kiosk", url.Values{"canary": {"site:atlantis"}, "canary_kiosks": {"ghost-1"}},
			[]string{"no site with the id &#34;atlantis&#34;", "no kiosk (name or id) &#34;ghost-1&#34;"}, "canary"},
		{"ambiguous host name", url.Values{"canary_kiosks": {"twin"}},
			[]string{"More than one kiosk is called &#34;twin&#34;: give its id"}, "canary_kiosks"},
		{"malformed value", url.Values{"canary": {"central"}},
			[]string{"not a site or a kiosk: &#34;central&#34;"}, "canary"},
		{"nothing chosen", url.Values{"canary": {""}, "canary_kiosks": {" , "}},
			[]string{"Choose at least one canary site or kiosk"}, "canary"},
		{"too many", url.Values{"canary_kiosks": {strings.Join(many, ",")}},
			[]string{"Choose at most 50 canary sites and kiosks (51 given)"}, "canary_kiosks"},
		{"revoked kiosk", url.Values{"canary_kiosks": {"revoked-1"}},
			[]string{"no kiosk (name or id) &#34;revoked-1&#34;"}, "canary_kiosks"},
	}
	revoked := f.device(t, "north", "revoked-1")
	if err := f.st.RevokeDevice(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, confirm := range []string{"", "yes"} {
				form := url.Values{"release": {"1.1.0"}, "percent": {"10, 50"}, "confirm": {confirm}}
				for k, v := range tt.form {
					form[k] = v
				}
				before, auditBefore := fileOf(t, repo), len(auditActions(t, f, "rollout."))
				code, body := c.post("/releases/rollouts", form)
				if code != http.StatusBadRequest {
					t.Errorf("confirm=%q: status %d, want 400", confirm, code)
				}
				for _, w := range tt.wantText {
					if !strings.Contains(body, w) {
						t.Errorf("confirm=%q: page lacks %q: %s", confirm, w, body)
					}
				}
				if !strings.Contains(body, `href="#`+tt.field+`"`) {
					t.Errorf("error summary does not point at #%s", tt.field)
				}
				// The form comes back filled in as it was sent.
				if k := tt.form.Get("canary_kiosks"); strings.TrimSpace(k) != "" && !strings.Contains(body, `value="`+html.EscapeString(strings.TrimSpace(k))+`"`) {
					t.Errorf("kiosks field not refilled with %q", k)
				}
				if fileOf(t, repo) != before || len(auditActions(t, f, "rollout.")) != auditBefore {
					t.Errorf("confirm=%q: a refused form changed the rollouts or the audit log", confirm)
				}
			}
		})
	}
}

// holdRollouts takes the rollouts file's writers' lock as another process
// (`fleet release rollout`) would, and adds rollout id once let is called.
func holdRollouts(t *testing.T, repo *releasetest.Repo, id string) (let func(), done <-chan error) {
	t.Helper()
	holding, letc := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- release.OpenRollouts(release.RolloutsPath(repo.Dir())).Update(func(rs []release.Rollout) ([]release.Rollout, error) {
			close(holding)
			<-letc
			ro, err := release.NewRollout(id, "1.1.0", release.Ring{Name: "all", All: true})
			return append([]release.Rollout{ro}, rs...), err
		})
	}()
	<-holding
	return func() { close(letc) }, errc
}

// TestRolloutEditWhileCLIWrites: a console edit made while `fleet release
// rollout` holds the rollouts file waits for it and keeps both changes;
// one that would wait too long is refused with 503 and a sentence, and
// changes nothing.
func TestRolloutEditWhileCLIWrites(t *testing.T) {
	f, repo, devs := releaseFleet(t, func(c *console.Config) { c.RolloutLockWait = 300 * time.Millisecond })
	c := signInHTTP(t, f.url, "alice", adminPassword)
	start := url.Values{"release": {"1.1.0"}, "canary": {"device:" + devs["north-1"]}, "confirm": {"yes"}}

	let, done := holdRollouts(t, repo, "cli-1")
	before := fileOf(t, repo)
	code, body := c.post("/releases/rollouts", start)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "nothing was changed") {
		t.Errorf("edit while the file is held too long: %d, want 503 saying nothing was changed: %s", code, body)
	}
	if fileOf(t, repo) != before || len(auditActions(t, f, "rollout.")) != 0 {
		t.Error("a refused edit changed the rollouts or the audit log")
	}
	let()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	let, done = holdRollouts(t, repo, "cli-2")
	time.AfterFunc(100*time.Millisecond, let)
	if code, loc := c.post("/releases/rollouts", start); code != http.StatusSeeOther {
		t.Fatalf("edit while the file is held briefly: %d %s, want it to wait and go ahead", code, loc)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ro := range rolloutsOf(t, repo) {
		ids = append(ids, ro.ID)
	}
	if len(ids) != 3 || !strings.HasPrefix(ids[0], "1.1.0-") || ids[1] != "cli-2" || ids[2] != "cli-1" {
		t.Errorf("rollouts %q: want the console's on top of the second cli one, and the first (no update lost)", ids)
	}
}
