package release_test

import (
	"errors"
	"fmt"
	"testing"

	"accesskiosk/fleet/release"
)

func fleetOf(n int) []release.Device {
	var ds []release.Device
	for i := range n {
		ds = append(ds, release.Device{ID: fmt.Sprintf("dev-%04d", i), Site: fmt.Sprintf("site-%d", i%10), Running: "1.0.0"})
	}
	return ds
}

func TestRolloutRings(t *testing.T) {
	ro, err := release.NewRollout("r1", "1.1.0",
		release.Ring{Name: "canary", Devices: []string{"dev-0007"}, Sites: []string{"site-3"}},
		release.Ring{Name: "ten percent", Percent: 10},
		release.Ring{Name: "all", All: true})
	if err != nil {
		t.Fatal(err)
	}
	devices := fleetOf(1000)
	count := func() int {
		n := 0
		for _, d := range devices {
			if v, ok := ro.Desired(d); ok && v == "1.1.0" {
				n++
			}
		}
		return n
	}
	// Canary: one device and site-3 (100 devices, one of them dev-0007? no: 7%10 = 7).
	if got, want := count(), 101; got != want {
		t.Errorf("canary stage: %d devices targeted, want %d", got, want)
	}
	if err := ro.Advance(); err != nil {
		t.Fatal(err)
	}
	got := count()
	// 101 canaries + about 10% of the other 899.
	if got < 101+60 || got > 101+120 {
		t.Errorf("percentage stage: %d devices targeted, want about 191", got)
	}
	// Pause: nobody new; devices already on the release keep it.
	devices[0].Running = "1.1.0" // dev-0000 (site-0) — may or may not be in a ring
	if err := ro.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := ro.Advance(); !errors.Is(err, release.ErrRolloutState) {
		t.Errorf("advance while paused: err = %v", err)
	}
	paused := count()
	want := 0
	if r := ro.Ring(devices[0]); r >= 0 && r <= ro.Stage {
		want = 1
	}
	if paused != want {
		t.Errorf("paused: %d devices targeted, want %d (only those already updated)", paused, want)
	}
	if err := ro.Resume(); err != nil {
		t.Fatal(err)
	}
	if got2 := count(); got2 != got {
		t.Errorf("resumed: %d targeted, want %d as before the pause", got2, got)
	}
	if err := ro.Advance(); err != nil {
		t.Fatal(err)
	}
	if ro.State != release.RolloutDone {
		t.Errorf("state after the last ring = %s, want done", ro.State)
	}
	if got := count(); got != 1000 {
		t.Errorf("all stage: %d targeted, want 1000", got)
	}
	prog := ro.Progress(devices)
	total := 0
	for _, p := range prog {
		total += p.Devices
	}
	if total != 1000 || prog[0].Devices != 101 {
		t.Errorf("progress = %+v, want 1000 devices with 101 canaries", prog)
	}
	if err := ro.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 1 {
		t.Errorf("aborted: %d devices keep or start the release, want 1 (the one already on it)", got)
	}
}

func TestPercentRingIsStableAndGrows(t *testing.T) {
	devices := fleetOf(500)
	in := func(pct int) map[string]bool {
		ro, _ := release.NewRollout("stable", "2.0.0", release.Ring{Name: "p", Percent: pct})
		m := map[string]bool{}
		for _, d := range devices {
			if _, ok := ro.Desired(d); ok {
				m[d.ID] = true
			}
		}
		return m
	}
	five, twenty := in(5), in(20)
	for id := range five {
		if !twenty[id] {
			t.Errorf("%s is in the 5%% ring but not the 20%% ring", id)
		}
	}
	if len(in(100)) != 500 || len(in(5)) != len(five) {
		t.Error("percentage ring not stable or 100% not everyone")
	}
}

func TestDesiredNewestRolloutWins(t *testing.T) {
	old, _ := release.NewRollout("a", "1.0.0", release.Ring{Name: "all", All: true})
	newer, _ := release.NewRollout("b", "1.1.0", release.Ring{Name: "site", Sites: []string{"north"}})
	cases := []struct {
		d    release.Device
		want string
	}{
		{release.Device{ID: "x", Site: "north"}, "1.1.0"},
		{release.Device{ID: "y", Site: "south"}, "1.0.0"},
	}
	for _, c := range cases {
		if got := release.Desired([]release.Rollout{newer, old}, c.d); got != c.want {
			t.Errorf("Desired(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := release.Desired(nil, release.Device{ID: "z"}); got != "" {
		t.Errorf("no rollouts: %q, want \"\"", got)
	}
}

func TestRolloutValidate(t *testing.T) {
	cases := []struct {
		name string
		r    release.Rollout
	}{
		{"no id", release.Rollout{Release: "1", Rings: []release.Ring{{All: true}}, State: "running"}},
		{"bad version", release.Rollout{ID: "x", Release: "../1", Rings: []release.Ring{{All: true}}, State: "running"}},
		{"empty ring", release.Rollout{ID: "x", Release: "1", Rings: []release.Ring{{Name: "none"}}, State: "running"}},
		{"percent", release.Rollout{ID: "x", Release: "1", Rings: []release.Ring{{Percent: 101}}, State: "running"}},
		{"stage", release.Rollout{ID: "x", Release: "1", Rings: []release.Ring{{All: true}}, Stage: 1, State: "running"}},
		{"state", release.Rollout{ID: "x", Release: "1", Rings: []release.Ring{{All: true}}, State: "sleeping"}},
	}
	for _, c := range cases {
		if err := c.r.Validate(); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
