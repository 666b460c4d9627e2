package release_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/release/target"
)

// client refreshes TUF metadata from url trusting root, with a fresh cache.
func client(t testing.TB, url string, root []byte) *updater.Updater {
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

func TestAddServeVerifyWithRealTUFClient(t *testing.T) {
	repo := releasetest.NewRepo(t, release.Options{})
	root, err := repo.RootJSON()
	if err != nil {
		t.Fatal(err)
	}
	v1 := repo.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", 200_000, 1))
	v2 := repo.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", 200_000, 1))
	arm := repo.Add(t, "1.1.0", "arm64", releasetest.Files("1.1.0", 1000, 2))
	if v1.Serial != 1 || v2.Serial != 2 || arm.Serial != 3 {
		t.Errorf("serials = %d, %d, %d; want 1, 2, 3", v1.Serial, v2.Serial, arm.Serial)
	}
	if v1.Delta != "" {
		t.Errorf("first release has a delta %q", v1.Delta)
	}
	if v2.Delta != target.DeltaTarget("amd64", "1.0.0", "1.1.0") {
		t.Fatalf("second release delta = %q", v2.Delta)
	}
	if v2.DeltaLength*10 > v2.Length {
		t.Errorf("delta %d bytes for a bundle of %d: want < 10%%", v2.DeltaLength, v2.Length)
	}
	if arm.Delta != "" {
		t.Errorf("first arm64 release has a delta from another arch: %q", arm.Delta)
	}
	if _, err := repo.Repo.Add(repo.Offline, releasetest.Bundle(t, "1.1.0", "amd64", releasetest.Files("x", 10, 3))); !errors.Is(err, release.ErrReleaseExists) {
		t.Errorf("adding 1.1.0 twice: err = %v, want ErrReleaseExists", err)
	}
	if got := len(repo.Releases()); got != 3 {
		t.Errorf("releases = %d, want 3", got)
	}

	srv := releasetest.Serve(t, repo.Handler())
	up := client(t, srv.URL, root)
	for _, name := range []string{v1.Target, v2.Target, v2.Delta, arm.Target} {
		tf, err := up.GetTargetInfo(name)
		if err != nil {
			t.Fatalf("target %s: %v", name, err)
		}
		c, err := target.ParseCustom(tf)
		if err != nil {
			t.Fatal(err)
		}
		url := srv.URL + "/targets/" + target.TargetPath(name, hex.EncodeToString(tf.Hashes["sha256"]))
		body := get(t, url, "")
		if err := tf.VerifyLengthHashes(body); err != nil {
			t.Errorf("%s: served bytes fail the signed hashes: %v", name, err)
		}
		// Range: the second half only.
		half := get(t, url, fmt.Sprintf("bytes=%d-", len(body)/2))
		if !bytes.Equal(half, body[len(body)/2:]) {
			t.Errorf("%s: range request returned %d bytes, want the %d-byte tail", name, len(half), len(body)-len(body)/2)
		}
		if c.Kind == target.KindDelta {
			// The delta rebuilds 1.1.0's tar from 1.0.0's.
			oldTar := tarOf(t, repo, up, v1.Target)
			rc, err := target.DecodeDelta(bytes.NewReader(body), oldTar)
			if err != nil {
				t.Fatal(err)
			}
			newTar, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("apply delta: %v", err)
			}
			if err := bundle.Verify(bytes.NewReader(newTar)); err != nil {
				t.Errorf("delta result is not a valid bundle: %v", err)
			}
			if int64(len(newTar)) != c.TarLength {
				t.Errorf("delta result %d bytes, custom says %d", len(newTar), c.TarLength)
			}
		}
	}
}

func tarOf(t testing.TB, repo *releasetest.Repo, up *updater.Updater, name string) []byte {
	t.Helper()
	tf, err := up.GetTargetInfo(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(repo.Dir(), "targets", target.TargetPath(name, hex.EncodeToString(tf.Hashes["sha256"]))))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := bundle.NewDecoder(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
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

func TestAddRefusesBadBundle(t *testing.T) {
	repo := releasetest.NewRepo(t, release.Options{})
	bad := filepath.Join(t.TempDir(), "bad.tar.zst")
	os.WriteFile(bad, []byte("not a bundle"), 0o644)
	if _, err := repo.Repo.Add(repo.Offline, bad); err == nil {
		t.Error("a file that is not a bundle was added")
	}
	if got := len(repo.Releases()); got != 0 {
		t.Errorf("releases after a refused add = %d, want 0", got)
	}
	// A targets key that root does not trust is refused.
	other := filepath.Join(t.TempDir(), "other")
	if err := release.GenerateOfflineKeys(other); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Repo.Add(other, releasetest.Bundle(t, "1.0.0", "amd64", releasetest.Files("1", 10, 1))); err == nil {
		t.Error("a bundle signed with an untrusted targets key was added")
	}
	if err := release.GenerateOfflineKeys(repo.Offline); !errors.Is(err, release.ErrKeyExists) {
		t.Errorf("generating keys over existing ones: err = %v, want ErrKeyExists", err)
	}
}

func TestRotateKeysClientFollowsRootChain(t *testing.T) {
	repo := releasetest.NewRepo(t, release.Options{})
	oldRoot, _ := repo.RootJSON()
	repo.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", 100, 1))
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := repo.Rotate(repo.Offline, role); err != nil {
			t.Fatalf("rotate %s: %v", role, err)
		}
	}
	if err := repo.Rotate(repo.Offline, "nonsense"); err == nil {
		t.Error("rotating an unknown role succeeded")
	}
	repo.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", 100, 1))
	srv := releasetest.Serve(t, repo.Handler())
	up := client(t, srv.URL, oldRoot)
	if got := up.GetTrustedMetadataSet().Root.Signed.Version; got != 5 {
		t.Errorf("client root version = %d, want 5 after four rotations", got)
	}
	if _, err := up.GetTargetInfo(target.BundleTarget("amd64", "1.1.0")); err != nil {
		t.Errorf("release added after rotation: %v", err)
	}
	// The repository reopens with its rotated online keys.
	if _, err := release.Open(repo.Dir(), release.Options{}); err != nil {
		t.Errorf("reopen after rotation: %v", err)
	}
}

func TestRefreshResignsTimestampBeforeExpiry(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	repo := releasetest.NewRepo(t, release.Options{Now: clock})
	root, _ := repo.RootJSON()
	read := func() *metadata.Metadata[metadata.TimestampType] {
		ts, err := new(metadata.Metadata[metadata.TimestampType]).FromFile(filepath.Join(repo.Dir(), "metadata", "timestamp.json"))
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	v := read().Signed.Version
	if err := repo.Refresh(); err != nil {
		t.Fatal(err)
	}
	if got := read().Signed.Version; got != v {
		t.Errorf("fresh timestamp re-signed: version %d → %d", v, got)
	}
	now = now.Add(20 * time.Hour) // past half of the one-day lifetime
	srv := releasetest.Serve(t, repo.Handler())
	get(t, srv.URL+"/metadata/timestamp.json", "") // the handler refreshes
	if got := read().Signed.Version; got != v+1 {
		t.Errorf("timestamp version after 20h = %d, want %d", got, v+1)
	}
	now = now.Add(5 * 24 * time.Hour) // snapshot near expiry too
	if err := repo.Refresh(); err != nil {
		t.Fatal(err)
	}
	_ = client(t, srv.URL, root) // still verifies (client uses the real clock: metadata valid)
}

func TestHandlerRefusesOddPaths(t *testing.T) {
	repo := releasetest.NewRepo(t, release.Options{})
	srv := releasetest.Serve(t, repo.Handler())
	for _, p := range []string{"/metadata/../keys/snapshot.key", "/metadata/keys", "/targets/../keys/timestamp.key", "/targets/", "/keys/snapshot.key", "/metadata/1.root.json.bak"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
	resp, err := http.Post(srv.URL+"/metadata/root.json", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", resp.Status)
	}
}

// The serving fleet and `fleet release add` are two processes on one
// repository: the server's timestamp re-signing must build on the release
// the other one added, never roll it back.
func TestServerAndCommandShareTheRepository(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	cmdRepo := releasetest.NewRepo(t, release.Options{Now: clock})
	root, _ := cmdRepo.RootJSON()
	cmdRepo.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", 100, 1))
	server, err := release.Open(cmdRepo.Dir(), release.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := releasetest.Serve(t, server.Handler())
	client(t, srv.URL, root)
	// The command adds a release while the server runs.
	cmdRepo.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", 100, 1))
	// A day later the server re-signs the timestamp.
	now = now.Add(20 * time.Hour)
	if err := server.Refresh(); err != nil {
		t.Fatal(err)
	}
	up := client(t, srv.URL, root)
	if _, err := up.GetTargetInfo(target.BundleTarget("amd64", "1.1.0")); err != nil {
		t.Errorf("release added by the other process lost after the server re-signed: %v", err)
	}
	if got := len(server.Releases()); got != 2 {
		t.Errorf("server lists %d releases, want 2", got)
	}
}
