package shared_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/release/target"
	"accesskiosk/fleet/shared"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// twoReplicas opens two stores on one real PostgreSQL started by the test.
func twoReplicas(t *testing.T) (a, b *store.Store) {
	t.Helper()
	dsn := storetest.Postgres(t)
	open := func() *store.Store {
		s, err := store.Open(context.Background(), store.Config{Dialect: store.Postgres, DSN: dsn}, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open()
}

// TestRepositoryInPostgres keeps the release repository in the database:
// `fleet release add` (through one replica's store) adds releases of
// several chunks, the other replica serves them to a real TUF client with
// every hash checked and HTTP Range across chunk boundaries, re-signs the
// timestamp a day later, and loses nothing the command added meanwhile.
func TestRepositoryInPostgres(t *testing.T) {
	a, b := twoReplicas(t)
	now := time.Now()
	clock := func() time.Time { return now }
	cmd := releasetest.NewRepoIn(t, shared.ReleaseStorage(a, ""), release.Options{Now: clock})
	root, err := cmd.RootJSON()
	if err != nil {
		t.Fatal(err)
	}
	v1 := cmd.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", 2_500_000, 1))
	if _, err := release.InitStorage(shared.ReleaseStorage(b, ""), cmd.Offline, release.Options{}); err == nil {
		t.Error("a second init of the repository in the database succeeded")
	}
	served, err := release.OpenStorage(shared.ReleaseStorage(b, ""), release.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := releasetest.Serve(t, served.Handler())
	v2 := cmd.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", 2_500_000, 1))
	if v1.Length < 2<<20 || v2.Delta == "" {
		t.Fatalf("bundle of %d bytes (want several 1 MiB chunks), delta %q", v1.Length, v2.Delta)
	}
	now = now.Add(20 * time.Hour)
	if err := served.Refresh(); err != nil {
		t.Fatal(err)
	}
	v3 := cmd.Add(t, "1.2.0", "amd64", releasetest.Files("1.2.0", 1000, 2))

	up := tufClient(t, srv.URL, root)
	for _, name := range []string{v1.Target, v2.Target, v2.Delta, v3.Target} {
		tf, err := up.GetTargetInfo(name)
		if err != nil {
			t.Fatalf("target %s: %v", name, err)
		}
		url := srv.URL + "/targets/" + target.TargetPath(name, hex.EncodeToString(tf.Hashes["sha256"]))
		body := get(t, url, "")
		if err := tf.VerifyLengthHashes(body); err != nil {
			t.Errorf("%s: served bytes fail the signed hashes: %v", name, err)
		}
		for _, from := range []int{len(body) / 2, 1<<20 - 7, 2<<20 - 1} {
			if from >= len(body) {
				continue
			}
			to := min(len(body)-1, from+(1<<20)+100)
			part := get(t, url, fmt.Sprintf("bytes=%d-%d", from, to))
			if !bytes.Equal(part, body[from:to+1]) {
				t.Errorf("%s: range %d-%d returned %d bytes that differ from the file's", name, from, to, len(part))
			}
		}
	}
	if got := len(served.Releases()); got != 3 {
		t.Errorf("the serving replica lists %d releases, want 3", got)
	}
	// The online keys live in the database too: rotating the timestamp key
	// through one replica, the other serves metadata signed by the new one.
	if err := cmd.Rotate(cmd.Offline, "timestamp"); err != nil {
		t.Fatal(err)
	}
	tufClient(t, srv.URL, root)
}

// TestRolloutsInPostgres: a rollout started through one replica is what
// the other answers devices at once, and a writer holding the rollouts'
// lock on one replica makes a writer on the other give up, changing
// nothing.
func TestRolloutsInPostgres(t *testing.T) {
	a, b := twoReplicas(t)
	ra := shared.Rollouts(a, "").(*release.RolloutDoc)
	rb := shared.Rollouts(b, "").(*release.RolloutDoc)
	rb.MaxAge = time.Hour // only the invalidation (or the first read) refreshes it
	dev := release.Device{ID: "dev1", Site: "central", Running: "1.0.0"}
	if v, err := rb.Desired(dev); v != "" || err != nil {
		t.Fatalf("no rollouts: desired %q, %v", v, err)
	}
	listener := b.NewListener()
	listener.Subscribe(store.ChanDocs, func(name string) {
		if name == store.DocRollouts {
			rb.Invalidate()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go listener.Run(ctx)
	waitFor(t, "the listener", listener.Listening)

	ro, err := release.NewRollout("spring", "1.1.0", release.Ring{Name: "canary", Sites: []string{"central"}}, release.Ring{Name: "all", All: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ra.UpdateContext(ctx, func(rs []release.Rollout) ([]release.Rollout, error) { return append(rs, ro), nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other replica to serve the rollout", func() bool {
		v, _ := rb.Desired(dev)
		return v == "1.1.0"
	})

	// A writer holds the lock on replica a; the one on b gives up.
	held, release1 := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- ra.UpdateContext(ctx, func(rs []release.Rollout) ([]release.Rollout, error) {
			close(held)
			<-release1
			rs[0].State = release.RolloutPaused
			return rs, nil
		})
	}()
	<-held
	rb.LockWait = 300 * time.Millisecond
	err = rb.UpdateContext(ctx, func(rs []release.Rollout) ([]release.Rollout, error) {
		rs[0].State = release.RolloutAborted
		return rs, nil
	})
	if !errors.Is(err, release.ErrRolloutsBusy) {
		t.Errorf("second writer while the first holds the lock: %v, want ErrRolloutsBusy", err)
	}
	close(release1)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	rs, err := rb.List()
	if err != nil || len(rs) != 1 || rs[0].State != release.RolloutPaused {
		t.Errorf("rollouts after both writers = %+v, %v; want the first writer's change only (paused)", rs, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tufClient refreshes TUF metadata from url trusting root, with a fresh cache.
func tufClient(t testing.TB, url string, root []byte) *updater.Updater {
	t.Helper()
	cfg, err := config.New(url+"/metadata", root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RemoteTargetsURL = url + "/targets"
	cfg.LocalMetadataDir = t.TempDir()
	cfg.LocalTargetsDir = t.TempDir()
	up, err := updater.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Refresh(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return up
}

func get(t testing.TB, url, rng string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := http.StatusOK
	if rng != "" {
		want = http.StatusPartialContent
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s (range %q): %s, want %d", url, rng, resp.Status, want)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
