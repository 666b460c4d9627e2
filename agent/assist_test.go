package agent

import (
	"context"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/agent/fakefleet"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/applog"
	"accesskiosk/kiosk/assist/link"
	"accesskiosk/kiosk/bus/bustest"
)

// TestAgentAssistRelay: with assist: enabled the agent starts the relay
// once enrolled, the kiosk (this process's user) can dial its socket, and
// an assist_offer from the fleet reaches the relay (the fake fleet has no
// assist WebSocket, so the offer fails with the fleet's answer, which is
// acknowledged; a malformed one is refused). The whole chain with the real
// fleet is fleet/assist's TestRemoteHelpEndToEnd and the kiosk's own.
func TestAgentAssistRelay(t *testing.T) {
	addr := bustest.Start(t)
	fs := fakefleet.Start(t, false)
	cfg := testConfig(t, fs.URL, addr)
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(fs.Token+"\n"), 0o600)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(t.TempDir(), "assist.sock")
	cfg.Assist.Enabled, cfg.Assist.Socket, cfg.Assist.KioskUser = true, socket, me.Username
	if err := cfg.validate(nil); err != nil {
		t.Fatal(err)
	}
	log, _ := applog.New(io.Discard, "debug")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()
	waitFor(t, "the relay", func() bool { return a.Relay() != nil })
	c, err := link.Dial(ctx, socket)
	if err != nil {
		t.Fatalf("the kiosk cannot dial the agent's socket: %v", err)
	}
	defer c.Close()
	waitFor(t, "the kiosk connected", func() bool { return a.Relay().KioskConnected() })

	fs.Queue(api.Command{ID: "o1", Kind: api.CommandAssistOffer, Text: strings.Repeat("5a", 16), Seconds: 30})
	fs.Queue(api.Command{ID: "o2", Kind: api.CommandAssistOffer, Text: "not-a-share", Seconds: 30})
	waitFor(t, "two acks", func() bool { return len(fs.Acks()) >= 2 })
	got := map[string]api.CommandAck{}
	for _, k := range fs.Acks() {
		got[k.ID] = k
	}
	if k := got["o1"]; k.Status != api.AckFailed || !strings.Contains(k.Detail, "fleet") {
		t.Errorf("offer ack %+v, want failed at the fleet", k)
	}
	if k := got["o2"]; k.Status != api.AckRefused {
		t.Errorf("malformed offer ack %+v, want refused", k)
	}
}
