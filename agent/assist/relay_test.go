package assist_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/assist"
	"accesskiosk/fleet/assist/hubtest"
	"accesskiosk/fleet/assist/wire"
	kioskassist "accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/link"
)

// setup runs the real hub (loopback TLS, pinned) and the relay, and
// returns a hand-written kiosk on the relay's socket whose share is
// sharing with a Go viewer attached.
type setup struct {
	f      *hubtest.Fleet
	r      *assist.Relay
	kiosk  *link.Conn
	raw    net.Conn // under kiosk, for bytes the link's writer would refuse
	viewer *websocket.Conn
	ctx    context.Context
}

func start(t *testing.T) (*hubtest.Fleet, *assist.Relay, context.Context) {
	t.Helper()
	f := hubtest.Start(t, t.TempDir(), "127.0.0.1:0")
	log := logrus.New()
	log.SetOutput(testWriter{t})
	r, err := assist.New(assist.Options{Listen: link.ListenOptions{Path: filepath.Join(t.TempDir(), "assist.sock"), Group: -1},
		FleetURL: f.URL, Pin: f.Pin, Credential: func() string { return hubtest.DeviceCred }, Log: log, PingEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	return f, r, ctx
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func sharing(t *testing.T, f *hubtest.Fleet, r *assist.Relay, ctx context.Context) *setup {
	t.Helper()
	raw, err := net.Dial("unix", r.Socket())
	if err != nil {
		t.Fatal(err)
	}
	raw.Write([]byte(link.Preamble))
	k := link.NewConn(raw)
	t.Cleanup(func() { k.Close() })
	code, hc, _ := kioskassist.NewHelpCode(time.Now())
	before := f.Metric(t, "fleet_assist_codes_registered_total")
	if err := k.WriteMsg(hc.Hello()); err != nil {
		t.Fatal(err)
	}
	f.WaitMetric(t, "fleet_assist_codes_registered_total", before+1)
	id, _, err := f.Hub.ClaimCode(ctx, "alice", code)
	if err != nil {
		t.Fatal(err)
	}
	if m := readLink(t, k, wire.TypeOffer); m == nil {
		t.Fatal("no offer reached the kiosk")
	}
	k.WriteMsg(&wire.Msg{Type: wire.TypeConsent, Granted: true})
	v, status, err := f.DialViewer(ctx, id, "alice")
	if err != nil {
		t.Fatalf("viewer: %d %v", status, err)
	}
	v.SetReadLimit(4 << 20)
	t.Cleanup(func() { v.CloseNow() })
	for {
		m := readWS(t, ctx, v, wire.TypeState)
		if m == nil {
			t.Fatal("viewer closed")
		}
		if m.State == wire.StateSharing {
			break
		}
	}
	return &setup{f: f, r: r, kiosk: k, raw: raw, viewer: v, ctx: ctx}
}

// readLink reads the kiosk's link until a message of typ (nil on close).
func readLink(t *testing.T, k *link.Conn, typ string) *wire.Msg {
	t.Helper()
	got := make(chan *wire.Msg, 1)
	go func() {
		for {
			p, err := k.Read()
			if err != nil {
				got <- nil
				return
			}
			if p.Msg != nil && p.Msg.Type == typ {
				got <- p.Msg
				return
			}
		}
	}()
	select {
	case m := <-got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s on the kiosk link within 20 s", typ)
		return nil
	}
}

func readWS(t *testing.T, ctx context.Context, ws *websocket.Conn, typ string) *wire.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		mt, b, err := ws.Read(ctx)
		if err != nil {
			return nil
		}
		var m wire.Msg
		if mt == websocket.MessageText && json.Unmarshal(b, &m) == nil && m.Type == typ {
			return &m
		}
	}
}

func frame(t testing.TB, seq uint32, key bool) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var e kioskassist.Encoder
	b, err := e.Encode(img, []image.Rectangle{img.Bounds()}, seq, key, 50)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

// TestRelay: frames pass kiosk → fleet → viewer unchanged; the viewer's
// ack and a point come back to the kiosk; the kiosk's end reaches the
// viewer.
func TestRelay(t *testing.T) {
	f, r, ctx := start(t)
	s := sharing(t, f, r, ctx)
	b := frame(t, 1, true)
	if err := s.kiosk.WriteFrame(b); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		mt, got, err := s.viewer.Read(rctx)
		if err != nil {
			t.Fatal(err)
		}
		if mt == websocket.MessageBinary {
			if !bytes.Equal(got, b) {
				t.Fatal("the viewer got other bytes")
			}
			break
		}
	}
	ack, _ := (&wire.Msg{Type: wire.TypeAck, Seq: 1}).Encode()
	pt, _ := (&wire.Msg{Type: wire.TypePoint, X: 10, Y: 20, Text: "Here"}).Encode()
	s.viewer.Write(ctx, websocket.MessageText, ack)
	s.viewer.Write(ctx, websocket.MessageText, pt)
	if m := readLink(t, s.kiosk, wire.TypeAck); m == nil || m.Seq != 1 {
		t.Errorf("ack at the kiosk: %+v", m)
	}
	if m := readLink(t, s.kiosk, wire.TypePoint); m == nil || m.X != 10 || m.Y != 20 || m.Text != "Here" {
		t.Errorf("point at the kiosk: %+v", m)
	}
	// A late offer (a command delivered after this share began) does not cut it.
	if err := r.Offer(ctx, strings.Repeat("ab", 16)); !errors.Is(err, assist.ErrBusy) {
		t.Errorf("Offer during a share: %v, want ErrBusy", err)
	}
	s.kiosk.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonStop})
	if m := readWS(t, ctx, s.viewer, wire.TypeEnd); m == nil || m.Reason != wire.ReasonStop {
		t.Errorf("viewer told %+v, want stop", m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Ends[wire.ReasonStop] != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.Stats(); st.FramesRelayed != 1 || st.FramesDropped != 0 || st.Ends[wire.ReasonStop] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestHostileKiosk: whatever the kiosk side sends, the relay holds at most
// a window of frames, cuts a kiosk that ignores the window or the framing,
// and the fleet and viewer are told.
func TestHostileKiosk(t *testing.T) {
	f, r, ctx := start(t)

	t.Run("frames far beyond the window", func(t *testing.T) {
		s := sharing(t, f, r, ctx)
		for seq := uint32(1); seq <= 200; seq++ {
			if s.kiosk.WriteFrame(frame(t, seq, true)) != nil {
				break
			}
		}
		if m := readLink(t, s.kiosk, wire.TypeEnd); m == nil || m.Reason != wire.ReasonProtocol {
			t.Errorf("kiosk told %+v, want protocol_error", m)
		}
		if m := readWS(t, ctx, s.viewer, wire.TypeEnd); m == nil || m.Reason != wire.ReasonProtocol {
			t.Errorf("viewer told %+v, want protocol_error", m)
		}
		st := r.Stats()
		t.Logf("200 frames without acks: %d relayed, %d dropped", st.FramesRelayed, st.FramesDropped)
		if st.FramesRelayed > 16*wire.Window+1 {
			t.Errorf("%d frames relayed for a kiosk that ignored the window", st.FramesRelayed)
		}
	})

	t.Run("oversized frame on the link", func(t *testing.T) {
		s := sharing(t, f, r, ctx)
		hdr := binary.BigEndian.AppendUint32(nil, wire.MaxFrameBytes+2)
		s.raw.Write(append(hdr, link.KindFrame))
		if m := readWS(t, ctx, s.viewer, wire.TypeEnd); m == nil || m.Reason != wire.ReasonProtocol {
			t.Errorf("viewer told %+v, want protocol_error", m)
		}
	})

	t.Run("garbage frame", func(t *testing.T) {
		s := sharing(t, f, r, ctx)
		s.kiosk.WriteFrame([]byte("AKF1 not a frame"))
		if m := readWS(t, ctx, s.viewer, wire.TypeEnd); m == nil || m.Reason != wire.ReasonProtocol {
			t.Errorf("viewer told %+v, want protocol_error", m)
		}
	})

	t.Run("control flood", func(t *testing.T) {
		s := sharing(t, f, r, ctx)
		before := r.Stats().ControlDropped
		for range 5000 {
			if s.kiosk.WriteMsg(&wire.Msg{Type: wire.TypeConsent, Granted: true}) != nil {
				break
			}
		}
		// The share still works after the flood.
		s.kiosk.WriteFrame(frame(t, 1, true))
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		for {
			mt, _, err := s.viewer.Read(rctx)
			if err != nil {
				t.Fatalf("no frame after the flood: %v", err)
			}
			if mt == websocket.MessageBinary {
				break
			}
		}
		if d := r.Stats().ControlDropped - before; d == 0 {
			t.Error("5000 control messages at once: none dropped")
		} else {
			t.Logf("5000 control messages at once: %d dropped", d)
		}
		// Stop still works right after a flood.
		s.kiosk.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonStop})
		if m := readWS(t, ctx, s.viewer, wire.TypeEnd); m == nil || m.Reason != wire.ReasonStop {
			t.Errorf("after the flood the kiosk's Stop reached the viewer as %+v", m)
		}
	})

	t.Run("kiosk goes away", func(t *testing.T) {
		s := sharing(t, f, r, ctx)
		s.kiosk.Close()
		if m := readWS(t, ctx, s.viewer, wire.TypeEnd); m == nil || m.Reason != wire.ReasonKioskGone {
			t.Errorf("viewer told %+v, want kiosk_gone", m)
		}
	})
}

// TestFleetUnreachable: a help request while the fleet is down is ended
// at once (fleet_gone), not left hanging.
func TestFleetUnreachable(t *testing.T) {
	f, r, ctx := start(t)
	f.Crash()
	k, err := link.Dial(ctx, r.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	_, hc, _ := kioskassist.NewHelpCode(time.Now())
	k.WriteMsg(hc.Hello())
	if m := readLink(t, k, wire.TypeEnd); m == nil || m.Reason != wire.ReasonFleetGone {
		t.Errorf("kiosk told %+v, want fleet_gone", m)
	}
}
