package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store/storetest"
)

func TestReleaseServedAndDesiredInReportAnswer(t *testing.T) {
	repo := releasetest.NewRepo(t, release.Options{})
	repo.Add(t, "1.1.0", "arm64", releasetest.Files("1.1.0", 1000, 1))
	rollouts := release.OpenRollouts(release.RolloutsPath(repo.Dir()))
	st := storetest.SQLite(t)
	srv, err := server.New(server.Config{Store: st, Log: storetest.Logger(t), Release: repo.Handler(),
		DesiredRelease: func(id, site, running string) string {
			v, _ := rollouts.Desired(release.Device{ID: id, Site: site, Running: running})
			return v
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	f := &fixture{t: t, st: st, srv: srv, url: hs.URL}
	ctx := context.Background()
	st.CreateSite(ctx, "central", "Central Library")
	st.CreateUser(ctx, "alice", "admin", "x")
	dev := f.enrol(f.token(1, time.Hour))

	desired := func(seq uint64) string {
		t.Helper()
		code, body, _ := f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{report("r"+string(rune('a'+seq)), seq)}})
		if code != 200 {
			t.Fatalf("report: %d %s", code, body)
		}
		var resp api.ReportResponse
		json.Unmarshal(body, &resp)
		return resp.Desired.Release
	}
	if got := desired(1); got != "" {
		t.Errorf("desired before any rollout = %q", got)
	}
	err = rollouts.Update(func(rs []release.Rollout) ([]release.Rollout, error) {
		ro, err := release.NewRollout("r1", "1.1.0", release.Ring{Name: "canary", Sites: []string{dev.Site}})
		return append(rs, ro), err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := desired(2); got != "1.1.0" {
		t.Errorf("desired in the canary site = %q, want 1.1.0", got)
	}
	for _, p := range []string{"/release/metadata/1.root.json", "/release/metadata/timestamp.json"} {
		if code, body, _ := f.do("GET", p, "", nil); code != 200 || len(body) == 0 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if code, _, _ := f.do("POST", "/release/metadata/root.json", "", "{}"); code == 200 {
		t.Error("POST to the release repository accepted")
	}
}
