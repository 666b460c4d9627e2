package update

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store/storetest"
)

// The updater against the real fleet server serving the repository under
// /release/.
func TestUpdateFromFleetServer(t *testing.T) {
	f := &fixture{repo: releasetest.NewRepo(t, release.Options{}), dir: filepath.Join(t.TempDir(), "device")}
	f.root, _ = f.repo.RootJSON()
	f.v1 = f.repo.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", 50_000, 1))
	f.v2 = f.repo.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", 50_000, 1))
	srv, err := server.New(server.Config{Store: storetest.SQLite(t), Log: storetest.Logger(t), Release: f.repo.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	f.srv = &releasetest.Server{URL: hs.URL + release.URLPath}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		u := f.updater(t, nil)
		res, err := u.Apply(context.Background(), v)
		if err != nil || res.Outcome != OutcomeInstalled {
			t.Fatalf("apply %s through the fleet server: %+v, %v", v, res, err)
		}
		if v == "1.1.0" && !res.Delta {
			t.Errorf("1.1.0 did not come as a delta: %+v", res)
		}
	}
	if got := running(t, f.dir); got != "1.1.0" {
		t.Errorf("running %s", got)
	}
}
