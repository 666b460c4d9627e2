package assist_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
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

// TestStillScreen: a screen that does not change is not captured in a
// tight loop: the sharer asks for about MaxFPS captures a second, and
// sends nothing after the first frame.
func TestStillScreen(t *testing.T) {
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
	k := startKioskStill(t, relay.Socket(), kioskassist.Options{MaxFPS: 8}, true)
	k.waitLink(t)
	id, err := f.Hub.Offer(ctx, "alice", hubtest.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	recv(t, k.offers, "consent prompt", 20*time.Second)
	v, _, err := f.DialViewer(ctx, id, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.CloseNow()
	v.SetReadLimit(wire.MaxFrameBytes)
	go func() { // the viewer draws and acks every frame
		for {
			typ, b, err := v.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				if seq, _, err := wire.PeekHeader(b); err == nil {
					ack, _ := (&wire.Msg{Type: wire.TypeAck, Seq: seq}).Encode()
					v.Write(ctx, websocket.MessageText, ack)
				}
			}
		}
	}()
	k.s.Answer(true)
	recv(t, k.sharing, "sharing", 5*time.Second)
	f.WaitMetric(t, "fleet_assist_frames_relayed_total", 1)
	before := k.submits.Load()
	time.Sleep(2 * time.Second) // a measuring window, not a wait for an event
	captures := k.submits.Load() - before
	t.Logf("a still screen for 2 s: %d captures asked for, %d frames sent", captures, k.s.Stats().Frames)
	if captures > 2*8+4 {
		t.Errorf("%d captures in 2 s of a still screen at 8 frames/s", captures)
	}
	if captures < 4 {
		t.Errorf("only %d captures in 2 s: a change would be missed", captures)
	}
	if n := k.s.Stats().Frames; n > 2 {
		t.Errorf("%d frames sent for a still screen", n)
	}
}
