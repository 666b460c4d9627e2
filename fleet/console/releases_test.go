package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
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
func releaseFleet(t *testing.T) (*fleet, *releasetest.Repo, map[string]string) {
	t.Helper()
	repo := releasetest.NewRepo(t, release.Options{})
	repo.Add(t, "1.1.0", "arm64", releasetest.Files("1.1.0", 4096, 1))
	f := startFleetWith(t, repo.Dir())
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
		{"unknown site", admin, "/releases/rollouts", with("canary", "site:nowhere"), http.StatusBadRequest, "Choose a canary site or kiosk"},
		{"unknown kiosk", admin, "/releases/rollouts", with("canary", "device:nope"), http.StatusBadRequest, "Choose a canary site or kiosk"},
		{"no canary", admin, "/releases/rollouts", with("canary", ""), http.StatusBadRequest, "Choose a canary site or kiosk"},
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
