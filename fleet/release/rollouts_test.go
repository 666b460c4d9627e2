package release_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/release"
)

// addRollout is one writer's read-change-write: it appends a rollout with
// a fresh id, pausing between reading and writing so that a writer without
// the lock would lose the other's update.
func addRollout(f *release.RolloutFile, id string, pause time.Duration) error {
	return f.Update(func(rs []release.Rollout) ([]release.Rollout, error) {
		time.Sleep(pause)
		ro, err := release.NewRollout(id, "1.0.0", release.Ring{Name: "all", All: true})
		if err != nil {
			return nil, err
		}
		return append([]release.Rollout{ro}, rs...), nil
	})
}

func idsOf(t testing.TB, path string) map[string]bool {
	t.Helper()
	rs, err := release.OpenRollouts(path).List()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rs {
		if ids[r.ID] {
			t.Errorf("rollout %s twice", r.ID)
		}
		ids[r.ID] = true
	}
	return ids
}

// TestRolloutWritersDoNotLoseUpdates: two writers, each with its own
// RolloutFile (own open file, as two processes would have), append 20
// rollouts each; all 40 are kept.
func TestRolloutWritersDoNotLoseUpdates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rollouts.json")
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := release.OpenRollouts(path)
			for i := range 20 {
				if err := addRollout(f, fmt.Sprintf("w%d-%d", w, i), time.Millisecond); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := len(idsOf(t, path)), 40; got != want {
		t.Errorf("%d rollouts kept, want %d (updates lost)", got, want)
	}
}

// TestRolloutWriterProcesses: the same with two real processes (this test
// binary run again as a writer), as the fleet server and `fleet release
// rollout` are.
func TestRolloutWriterProcesses(t *testing.T) {
	if os.Getenv("ROLLOUT_WRITER_PATH") != "" {
		return // the writer runs from TestMain
	}
	path := filepath.Join(t.TempDir(), "rollouts.json")
	var cmds []*exec.Cmd
	for w := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRolloutWriterProcesses$")
		cmd.Env = append(os.Environ(), "ROLLOUT_WRITER_PATH="+path, "ROLLOUT_WRITER_ID=p"+strconv.Itoa(w))
		cmds = append(cmds, cmd)
	}
	outs := make([][]byte, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i], errs[i] = cmd.CombinedOutput() }()
	}
	wg.Wait()
	for i := range cmds {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	ids := idsOf(t, path)
	if len(ids) != 40 {
		t.Errorf("%d rollouts kept, want 40 (updates lost)", len(ids))
	}
	for w := range 2 {
		for i := range 20 {
			if id := fmt.Sprintf("p%d-%d", w, i); !ids[id] {
				t.Errorf("rollout %s lost", id)
			}
		}
	}
}

// rolloutWriter is the child process of TestRolloutWriterProcesses.
func rolloutWriter(path, id string) error {
	f := release.OpenRollouts(path)
	for i := range 20 {
		if err := addRollout(f, fmt.Sprintf("%s-%d", id, i), 2*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	if path := os.Getenv("ROLLOUT_WRITER_PATH"); path != "" {
		if err := rolloutWriter(path, os.Getenv("ROLLOUT_WRITER_ID")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRolloutWriterWaitsBounded: while one writer holds the file, a second
// waits; with a short LockWait it gives up with ErrRolloutsBusy and a
// sentence saying why, changing nothing; with a longer one it goes ahead
// once the first is done, on top of the first's change.
func TestRolloutWriterWaitsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rollouts.json")
	if err := addRollout(release.OpenRollouts(path), "first", 0); err != nil {
		t.Fatal(err)
	}
	holding, done := make(chan struct{}), make(chan struct{})
	holderErr := make(chan error, 1)
	go func() {
		holderErr <- release.OpenRollouts(path).Update(func(rs []release.Rollout) ([]release.Rollout, error) {
			close(holding)
			<-done
			ro, _ := release.NewRollout("held", "1.0.0", release.Ring{Name: "all", All: true})
			return append([]release.Rollout{ro}, rs...), nil
		})
	}()
	<-holding
	before, _ := os.ReadFile(path)

	impatient := release.OpenRollouts(path)
	impatient.LockWait = 150 * time.Millisecond
	start := time.Now()
	err := addRollout(impatient, "impatient", 0)
	waited := time.Since(start)
	if !errors.Is(err, release.ErrRolloutsBusy) {
		t.Fatalf("second writer while the first holds the lock: err = %v, want ErrRolloutsBusy", err)
	}
	for _, want := range []string{path, "150ms", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if waited < 150*time.Millisecond || waited > 5*time.Second {
		t.Errorf("gave up after %s, want about 150ms", waited)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("the refused writer changed the file")
	}

	// A cancelled context stops the wait too: long before the writer's own
	// bound (which, at 150ms, a busy machine could reach first).
	cancelled := release.OpenRollouts(path)
	cancelled.LockWait = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = cancelled.UpdateContext(ctx, func(rs []release.Rollout) ([]release.Rollout, error) { return nil, nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("writer with an ended context: err = %v, want the context's error", err)
	}

	patient := release.OpenRollouts(path)
	patient.LockWait = 20 * time.Second
	patientErr := make(chan error, 1)
	go func() { patientErr <- addRollout(patient, "patient", 0) }()
	select {
	case err := <-patientErr:
		t.Fatalf("second writer did not wait for the first: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(done)
	if err := <-holderErr; err != nil {
		t.Fatal(err)
	}
	if err := <-patientErr; err != nil {
		t.Fatalf("patient writer: %v", err)
	}
	ids := idsOf(t, path)
	for _, id := range []string{"first", "held", "patient"} {
		if !ids[id] {
			t.Errorf("rollout %s missing; have %v", id, ids)
		}
	}
	if ids["impatient"] {
		t.Error("the refused writer's rollout was stored")
	}
	if _, err := os.Stat(release.LockPath(path)); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// TestOldRolloutsFileReadable: a rollouts file as the console and the
// command wrote it before canary rings held several sites and kiosks (one
// site or one kiosk each) is read as it is, decides devices as before, and
// takes the next change.
func TestOldRolloutsFileReadable(t *testing.T) {
	const old = `[
  {
    "id": "1.2.0-20261120-090000",
    "release": "1.2.0",
    "rings": [
      {
        "name": "canary",
        "devices": [
          "k3n9x2w7qa"
        ]
      },
      {
        "name": "25%",
        "percent": 25
      },
      {
        "name": "all",
        "all": true
      }
    ],
    "stage": 0,
    "state": "running"
  },
  {
    "id": "1.1.0-20261101-090000",
    "release": "1.1.0",
    "rings": [
      {
        "name": "canary",
        "sites": [
          "central"
        ]
      },
      {
        "name": "all",
        "all": true
      }
    ],
    "stage": 0,
    "state": "running"
  }
]`
	path := filepath.Join(t.TempDir(), "rollouts.json")
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	f := release.OpenRollouts(path)
	tests := []struct {
		d    release.Device
		want string
	}{
		{release.Device{ID: "k3n9x2w7qa", Site: "north", Running: "1.0.0"}, "1.2.0"},
		{release.Device{ID: "other", Site: "central", Running: "1.0.0"}, "1.1.0"},
		{release.Device{ID: "other", Site: "north", Running: "1.0.0"}, ""},
	}
	for _, tt := range tests {
		if got, err := f.Desired(tt.d); err != nil || got != tt.want {
			t.Errorf("Desired(%+v) = %q, %v; want %q", tt.d, got, err, tt.want)
		}
	}
	err := f.Update(func(rs []release.Rollout) ([]release.Rollout, error) {
		rs[1].Rings[0].Sites = append(rs[1].Rings[0].Sites, "north")
		return rs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := release.OpenRollouts(path).Desired(release.Device{ID: "other", Site: "north"}); got != "1.1.0" {
		t.Errorf("after adding a second canary site: desired %q, want 1.1.0", got)
	}
}
