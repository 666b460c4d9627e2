package assist_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	agentassist "accesskiosk/agent/assist"
	"accesskiosk/fleet/assist/hubtest"
	"accesskiosk/fleet/assist/wire"
	kioskassist "accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/link"
)

// TestLimitsEndTheShare: the time limit, a session ending while the
// consent prompt is up, and a session ending while sharing each end it on
// the kiosk and tell the viewer why, through the real relay and hub.
func TestLimitsEndTheShare(t *testing.T) {
	f := hubtest.Start(t, t.TempDir(), "127.0.0.1:0")
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	relay, err := agentassist.New(agentassist.Options{Listen: link.ListenOptions{Path: filepath.Join(t.TempDir(), "assist.sock"), Group: -1},
		FleetURL: f.URL, Pin: f.Pin, Credential: func() string { return hubtest.DeviceCred }, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() { relay.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.SetOffer(func(id string) error { return relay.Offer(ctx, id) })

	k := startKioskWith(t, relay.Socket(), kioskassist.Options{TimeLimit: 2 * time.Second})
	k.waitLink(t)

	offer := func() string {
		t.Helper()
		id, err := f.Hub.Offer(ctx, "alice", hubtest.DeviceID)
		if err != nil {
			t.Fatal(err)
		}
		recv(t, k.offers, "consent prompt", 20*time.Second)
		return id
	}
	viewer := func(id string) func() *wire.Msg {
		v, _, err := f.DialViewer(ctx, id, "alice")
		if err != nil {
			t.Fatal(err)
		}
		v.SetReadLimit(wire.MaxFrameBytes)
		t.Cleanup(func() { v.CloseNow() })
		return func() *wire.Msg { return readMsg(t, ctx, v, wire.TypeEnd) }
	}

	// The time limit (2 s here, 30 minutes in use).
	id := offer()
	end := viewer(id)
	started := time.Now()
	k.s.Answer(true)
	recv(t, k.sharing, "sharing", 5*time.Second)
	if r := recv(t, k.ended, "end at the time limit", 20*time.Second); r != wire.ReasonTimeLimit {
		t.Errorf("kiosk ended with %q, want time_limit", r)
	}
	if d := time.Since(started); d < 2*time.Second {
		t.Errorf("ended after %v, before the 2 s limit", d)
	}
	if m := end(); m == nil || m.Reason != wire.ReasonTimeLimit {
		t.Errorf("viewer told %+v, want time_limit", m)
	}

	// The session ends while the prompt is up: the prompt goes, nothing is sent.
	id = offer()
	end = viewer(id)
	k.s.Stop(wire.ReasonSessionEnd)
	if r := recv(t, k.ended, "end at session end", 5*time.Second); r != wire.ReasonSessionEnd {
		t.Errorf("kiosk ended with %q, want session_end", r)
	}
	if m := end(); m == nil || m.Reason != wire.ReasonSessionEnd {
		t.Errorf("viewer told %+v, want session_end", m)
	}
	if err := k.s.Answer(true); err == nil {
		t.Error("Allow after the session ended was accepted")
	}

	// The session ends while sharing.
	id = offer()
	end = viewer(id)
	k.s.Answer(true)
	recv(t, k.sharing, "sharing", 5*time.Second)
	k.s.Stop(wire.ReasonSessionEnd)
	if r := recv(t, k.ended, "end at session end", 5*time.Second); r != wire.ReasonSessionEnd {
		t.Errorf("kiosk ended with %q, want session_end", r)
	}
	if m := end(); m == nil || m.Reason != wire.ReasonSessionEnd {
		t.Errorf("viewer told %+v, want session_end", m)
	}

	// The fleet shuts down cleanly (Hub.Close, as the server will call it).
	id = offer()
	end = viewer(id)
	k.s.Answer(true)
	recv(t, k.sharing, "sharing", 5*time.Second)
	f.Hub.Close()
	if r := recv(t, k.ended, "end at shutdown", 10*time.Second); r != wire.ReasonShutdown {
		t.Errorf("kiosk ended with %q, want shutdown", r)
	}
	if m := end(); m == nil || m.Reason != wire.ReasonShutdown {
		t.Errorf("viewer told %+v, want shutdown", m)
	}
	if _, err := f.Hub.Offer(ctx, "alice", hubtest.DeviceID); err == nil {
		t.Error("a closed hub took an offer")
	}
}
