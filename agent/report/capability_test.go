package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/report"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/fleetclient"
)

// TestCountedFollowsTheFleet: receipts carry Counted to a fleet of
// capability 5; a fleet from before 5 refuses the field, and the agent
// sends the same reports without it at once, and every later one, none
// lost or set aside; when that fleet is upgraded, Counted comes back.
func TestCountedFollowsTheFleet(t *testing.T) {
	r := newRig(t)
	c, _ := fleetclient.New(fleetclient.Options{BaseURL: r.fleet.URL, Retries: 0, BackoffMin: time.Millisecond})
	c.SetCredential("dev1.secret")
	log := logrus.New()
	log.SetOutput(r.logs)
	r.rep = report.New(report.Options{
		Queue: r.q, Clock: r.clk, Interval: 30 * time.Second, Health: r.reg,
		Snapshot: func(context.Context) api.Report {
			h := r.clk.Now().Truncate(time.Hour).UnixMilli()
			return api.Report{Receipts: []api.Receipt{{Reason: "toolbar", Cleared: []string{"web_view"}, EndedUnixMs: r.clk.Now().UnixMilli(),
				Counted: &api.Counted{StartedHourUnixMs: h, Guides: []string{"using-this-kiosk"}}}}}
		},
		Fleet: func() report.Fleet { return c },
		Log:   log,
	})
	counted := func(from int) (with, without int) {
		for _, rep := range r.fleet.Reports()[from:] {
			for _, rc := range rep.Receipts {
				if rc.Counted != nil {
					with++
				} else {
					without++
				}
			}
		}
		return with, without
	}

	r.fleet.SetCapability(4)
	r.run(t, func() bool { return len(r.fleet.Reports()) >= 3 })
	if with, without := counted(0); with != 0 || without < 3 {
		t.Errorf("older fleet got %d receipts with counted, %d without", with, without)
	}
	if r.q.Stats().Dropped != 0 || r.q.Len() > 1 {
		t.Errorf("reports dropped or stuck: %+v", r.q.Stats())
	}

	n := len(r.fleet.Reports())
	r.fleet.SetCapability(0) // upgraded: answers api.CapabilityVersion
	r.run(t, func() bool {
		with, _ := counted(n)
		return with >= 2
	})
	if r.q.Stats().Dropped != 0 {
		t.Errorf("reports dropped: %+v", r.q.Stats())
	}
	if logs := r.logs.String(); strings.Contains(logs, "fleet refuses this report") || !strings.Contains(logs, "sending without them") {
		t.Errorf("want the older fleet noticed and no report set aside:\n%s", logs)
	}
}

// TestUsageCountsFollowTheFleet: capability 7's counts (downloads,
// uploads, print jobs, remote help's length) go to a fleet of 7; a fleet
// of 5 or 6 refuses them, and the agent sends the same reports at once
// with Counted but without them, none lost or set aside; a fleet of 4
// (never answered before) gets them without Counted after two refusals;
// once upgraded, the counts come back.
func TestUsageCountsFollowTheFleet(t *testing.T) {
	for _, tc := range []struct {
		name        string
		capability  int
		wantCounted bool
	}{{"capability 6", 6, true}, {"capability 5", 5, true}, {"capability 4", 4, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			c, _ := fleetclient.New(fleetclient.Options{BaseURL: r.fleet.URL, Retries: 0, BackoffMin: time.Millisecond})
			c.SetCredential("dev1.secret")
			log := logrus.New()
			log.SetOutput(r.logs)
			r.rep = report.New(report.Options{
				Queue: r.q, Clock: r.clk, Interval: 30 * time.Second, Health: r.reg,
				Snapshot: func(context.Context) api.Report {
					h := r.clk.Now().Truncate(time.Hour).UnixMilli()
					return api.Report{Receipts: []api.Receipt{{Reason: "toolbar", Cleared: []string{"web_view"}, EndedUnixMs: r.clk.Now().UnixMilli(),
						Counted: &api.Counted{StartedHourUnixMs: h, Minutes: 10, Prints: 3, PrintJobs: 1, Downloads: 2, Uploads: 1, AssistMs: 60_000}}}}
				},
				Fleet: func() report.Fleet { return c },
				Log:   log,
			})
			kinds := func(from int) (usage, counted, bare int) {
				for _, rep := range r.fleet.Reports()[from:] {
					for _, rc := range rep.Receipts {
						switch {
						case rc.Counted == nil:
							bare++
						case rc.Counted.Usage():
							usage++
						default:
							counted++
							if rc.Counted.Prints != 3 {
								t.Errorf("counted lost its capability 5 counts: %+v", rc.Counted)
							}
						}
					}
				}
				return
			}
			r.fleet.SetCapability(tc.capability)
			r.run(t, func() bool { return len(r.fleet.Reports()) >= 3 })
			usage, counted, bare := kinds(0)
			if usage != 0 || tc.wantCounted && (counted < 3 || bare != 0) || !tc.wantCounted && (bare < 3 || counted != 0) {
				t.Errorf("fleet of capability %d got %d receipts with capability 7's counts, %d with counted only, %d bare",
					tc.capability, usage, counted, bare)
			}
			if r.q.Stats().Dropped != 0 || r.q.Len() > 1 {
				t.Errorf("reports dropped or stuck: %+v", r.q.Stats())
			}
			n := len(r.fleet.Reports())
			r.fleet.SetCapability(0) // upgraded: answers api.CapabilityVersion
			r.run(t, func() bool {
				usage, _, _ := kinds(n)
				return usage >= 2
			})
			if r.q.Stats().Dropped != 0 {
				t.Errorf("reports dropped: %+v", r.q.Stats())
			}
			if logs := r.logs.String(); strings.Contains(logs, "fleet refuses this report") || !strings.Contains(logs, "sending without them") {
				t.Errorf("want the older fleet noticed and no report set aside:\n%s", logs)
			}
		})
	}
}
