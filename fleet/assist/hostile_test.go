package assist_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"image"
	"image/color"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"accesskiosk/fleet/assist/hubtest"
	"accesskiosk/fleet/assist/wire"
	kioskassist "accesskiosk/kiosk/assist"
)

// rawShare is a share driven by a hand-written device (no agent, no kiosk)
// and a Go viewer, so a test can be either side and misbehave.
type rawShare struct {
	id     string
	dev    *websocket.Conn
	viewer *websocket.Conn
	ctx    context.Context
}

func writeJSON(t *testing.T, ctx context.Context, ws *websocket.Conn, m *wire.Msg) {
	t.Helper()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", m.Type, err)
	}
}

// readMsg reads control messages until one of type typ (frames skipped);
// it returns nil when the connection closes first.
func readMsg(t *testing.T, ctx context.Context, ws *websocket.Conn, typ string) *wire.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		mt, b, err := ws.Read(ctx)
		if err != nil {
			return nil
		}
		if mt != websocket.MessageText {
			continue
		}
		var m wire.Msg
		if json.Unmarshal(b, &m) == nil && m.Type == typ {
			return &m
		}
	}
}

// frame makes a real frame (one JPEG region of a w×h image) with seq.
func frame(t testing.TB, seq uint32, key bool, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var e kioskassist.Encoder
	b, err := e.Encode(img, []image.Rectangle{img.Bounds()}, seq, key, 50)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

// newRawShare registers a help code from a raw device, claims it as
// alice, consents, and attaches a Go viewer.
func newRawShare(t *testing.T, f *hubtest.Fleet) *rawShare {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	dev, status, err := f.DialDevice(ctx, "")
	if err != nil {
		t.Fatalf("device dial: %d %v", status, err)
	}
	dev.SetReadLimit(1 << 20)
	t.Cleanup(func() { dev.CloseNow() })
	code := "314159"
	salt := make([]byte, 16)
	rand.Read(salt)
	before := f.Metric(t, "fleet_assist_codes_registered_total")
	writeJSON(t, ctx, dev, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaCode, CodeHash: wire.CodeHash(salt, code), CodeSalt: salt,
		CodeExpiresMs: time.Now().Add(wire.CodeTTL).UnixMilli()})
	f.WaitMetric(t, "fleet_assist_codes_registered_total", before+1)
	id, _, err := f.Hub.ClaimCode(ctx, "alice", code)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if readMsg(t, ctx, dev, wire.TypeOffer) == nil {
		t.Fatal("no offer at the device")
	}
	writeJSON(t, ctx, dev, &wire.Msg{Type: wire.TypeConsent, Granted: true})
	v, status, err := f.DialViewer(ctx, id, "alice")
	if err != nil {
		t.Fatalf("viewer dial: %d %v", status, err)
	}
	v.SetReadLimit(4 << 20)
	t.Cleanup(func() { v.CloseNow() })
	for {
		m := readMsg(t, ctx, v, wire.TypeState)
		if m == nil {
			t.Fatal("viewer closed before sharing")
		}
		if m.State == wire.StateSharing {
			break
		}
	}
	return &rawShare{id: id, dev: dev, viewer: v, ctx: ctx}
}

// relayOne sends a key frame from the device and reads it at the viewer.
func (s *rawShare) relayOne(t *testing.T, seq uint32) {
	t.Helper()
	b := frame(t, seq, true, 64, 64)
	if err := s.dev.Write(s.ctx, websocket.MessageBinary, b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	for {
		mt, got, err := s.viewer.Read(ctx)
		if err != nil {
			t.Fatalf("viewer read: %v", err)
		}
		if mt == websocket.MessageBinary {
			if !bytes.Equal(got, b) {
				t.Fatal("the viewer got other bytes than the device sent")
			}
			return
		}
	}
}

// TestHostileViewer: a viewer that sends garbage, binary, oversized
// messages or floods is bounded: garbage ends the share (protocol_error,
// the device is told), floods are cut to the rate limits and never reach
// the kiosk beyond them.
func TestHostileViewer(t *testing.T) {
	f := hubtest.Start(t, t.TempDir(), "127.0.0.1:0")
	for name, send := range map[string]func(ctx context.Context, v *websocket.Conn) error{
		"garbage text": func(ctx context.Context, v *websocket.Conn) error {
			return v.Write(ctx, websocket.MessageText, []byte("{{{{"))
		},
		"binary": func(ctx context.Context, v *websocket.Conn) error {
			return v.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
		},
		"huge message": func(ctx context.Context, v *websocket.Conn) error {
			return v.Write(ctx, websocket.MessageText, []byte(`{"type":"point","x":1,"y":1,"text":"`+strings.Repeat("a", 1<<20)+`"}`))
		},
		"unknown type": func(ctx context.Context, v *websocket.Conn) error {
			return v.Write(ctx, websocket.MessageText, []byte(`{"type":"offer"}`))
		},
		"forged end code": func(ctx context.Context, v *websocket.Conn) error {
			return v.Write(ctx, websocket.MessageText, []byte(`{"type":"end","reason":"x"}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newRawShare(t, f)
			s.relayOne(t, 1)
			send(s.ctx, s.viewer)
			m := readMsg(t, s.ctx, s.dev, wire.TypeEnd)
			if m == nil || m.Reason != wire.ReasonProtocol {
				t.Errorf("device told %+v, want end protocol_error", m)
			}
			if n := f.Hub.Active(); n != 0 {
				t.Errorf("%d shares still live", n)
			}
		})
	}

	t.Run("point and ack floods", func(t *testing.T) {
		s := newRawShare(t, f)
		s.relayOne(t, 1)
		start := time.Now()
		for i := range 2000 {
			writeJSON(t, s.ctx, s.viewer, &wire.Msg{Type: wire.TypePoint, X: i % 64, Y: 1, Text: "flood"})
			writeJSON(t, s.ctx, s.viewer, &wire.Msg{Type: wire.TypeAck, Seq: 1})
			writeJSON(t, s.ctx, s.viewer, &wire.Msg{Type: wire.TypeAck, Seq: 99999})
			writeJSON(t, s.ctx, s.viewer, &wire.Msg{Type: wire.TypeKeyframe})
		}
		// The share still works: a frame goes through after the flood.
		s.relayOne(t, 2)
		writeJSON(t, s.ctx, s.viewer, &wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonStaffClosed})
		points, acks, keys := 0, 0, 0
		ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
		defer cancel()
		for {
			mt, b, err := s.dev.Read(ctx)
			if err != nil {
				break
			}
			var m wire.Msg
			if mt != websocket.MessageText || json.Unmarshal(b, &m) != nil {
				continue
			}
			switch m.Type {
			case wire.TypePoint:
				points++
			case wire.TypeAck:
				acks++
			case wire.TypeKeyframe:
				keys++
			}
			if m.Type == wire.TypeEnd {
				break
			}
		}
		// The hub reads the flood after it was written: its token bucket
		// refills for as long as that takes, until the end is read.
		elapsed := time.Since(start)
		maxPoints := 10 + int(5*elapsed.Seconds()) + 1
		t.Logf("flood of 2000 points, 4000 acks and 2000 key-frame requests in %v: the device got %d points, %d acks, %d key-frame requests", elapsed.Round(time.Millisecond), points, acks, keys)
		if points > maxPoints {
			t.Errorf("%d points reached the device, want ≤ %d", points, maxPoints)
		}
		if acks != 1 {
			t.Errorf("%d acks reached the device, want 1 (one frame was sent before the flood)", acks)
		}
		if maxKeys := 2 + int(elapsed.Seconds()) + 1; keys > maxKeys {
			t.Errorf("%d key-frame requests reached the device, want ≤ %d", keys, maxKeys)
		}
	})

	t.Run("viewer that never reads", func(t *testing.T) {
		s := newRawShare(t, f)
		dropped := f.Metric(t, "fleet_assist_frames_dropped_total")
		relayed := f.Metric(t, "fleet_assist_frames_relayed_total")
		// The device keeps within the protocol's limit (never more than
		// 16 windows ahead of the acks); the viewer reads nothing.
		big := frame(t, 1, true, 1024, 1024)
		for seq := uint32(1); seq <= 16*wire.Window; seq++ {
			b := bytes.Clone(big)
			b[10], b[11], b[12], b[13] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
			if err := s.dev.Write(s.ctx, websocket.MessageBinary, b); err != nil {
				break // the hub may end the share once the viewer's writes time out
			}
		}
		f.WaitMetric(t, "fleet_assist_frames_dropped_total", dropped+1)
		got := f.Metric(t, "fleet_assist_frames_relayed_total") - relayed
		t.Logf("frames of %d KiB to a viewer that reads nothing: %v relayed (into the socket buffers), the rest dropped", len(big)>>10, got)
		if got >= 16*wire.Window {
			t.Errorf("every frame was relayed to a viewer that reads nothing")
		}
	})

	t.Run("other staff and no permission", func(t *testing.T) {
		s := newRawShare(t, f)
		for user, want := range map[string]int{"bob": http.StatusForbidden, "victor": http.StatusForbidden, "": http.StatusUnauthorized, "alice": http.StatusConflict} {
			ws, got, _ := f.DialViewer(s.ctx, s.id, user)
			if ws != nil {
				ws.CloseNow()
			}
			if got != want {
				t.Errorf("viewer as %q: %d, want %d", user, got, want)
			}
		}
		// A page on another origin cannot open the viewer with alice's cookie.
		h := http.Header{"Cookie": {"test_staff=alice"}, "Origin": {"https://evil.example"}}
		ws, resp, err := websocket.Dial(s.ctx, "wss://"+f.Addr+wire.ViewerPath(s.id), &websocket.DialOptions{HTTPClient: f.Client(), HTTPHeader: h, Subprotocols: []string{wire.Subprotocol}})
		if err == nil {
			ws.CloseNow()
			t.Error("a cross-origin viewer was accepted")
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin viewer: %v", err)
		}
	})
}

// TestHostileDevice: an agent (or anything with a device credential) that
// sends garbage, oversized frames, or ignores the window is cut off and
// the viewer told; frames before consent are dropped.
func TestHostileDevice(t *testing.T) {
	f := hubtest.Start(t, t.TempDir(), "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("wrong credential", func(t *testing.T) {
		if _, status, _ := f.DialDevice(ctx, "dev-central-1.wrong"); status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", status)
		}
	})
	t.Run("garbage hello", func(t *testing.T) {
		dev, _, err := f.DialDevice(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		defer dev.CloseNow()
		dev.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","via":"teleport"}`))
		if m := readMsg(t, ctx, dev, wire.TypeEnd); m == nil || m.Reason != wire.ReasonProtocol {
			t.Errorf("got %+v, want end protocol_error", m)
		}
	})
	t.Run("offer of another device", func(t *testing.T) {
		dev, _, err := f.DialDevice(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		defer dev.CloseNow()
		writeJSON(t, ctx, dev, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: strings.Repeat("ab", 16)})
		if m := readMsg(t, ctx, dev, wire.TypeEnd); m == nil || m.Reason != wire.ReasonExpired {
			t.Errorf("got %+v, want end expired", m)
		}
	})

	for name, send := range map[string]func(s *rawShare) error{
		"oversized frame": func(s *rawShare) error {
			b := frame(t, 2, true, 64, 64)
			return s.dev.Write(s.ctx, websocket.MessageBinary, append(b, make([]byte, wire.MaxFrameBytes)...))
		},
		"garbage frame": func(s *rawShare) error {
			return s.dev.Write(s.ctx, websocket.MessageBinary, []byte("AKF1 this is not a frame at all"))
		},
		"frames ignoring the window": func(s *rawShare) error {
			for seq := uint32(2); seq < 200; seq++ {
				if err := s.dev.Write(s.ctx, websocket.MessageBinary, frame(t, seq, true, 64, 64)); err != nil {
					return err
				}
			}
			return nil
		},
		"garbage control": func(s *rawShare) error { return s.dev.Write(s.ctx, websocket.MessageText, []byte("\x00\x01")) },
	} {
		t.Run(name, func(t *testing.T) {
			s := newRawShare(t, f)
			s.relayOne(t, 1)
			send(s)
			m := readMsg(t, s.ctx, s.viewer, wire.TypeEnd)
			if m == nil || m.Reason != wire.ReasonProtocol {
				t.Errorf("viewer told %+v, want end protocol_error", m)
			}
			if n := f.Hub.Active(); n != 0 {
				t.Errorf("%d shares still live", n)
			}
		})
	}

	t.Run("frames before consent", func(t *testing.T) {
		dev, _, err := f.DialDevice(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		defer dev.CloseNow()
		salt := make([]byte, 16)
		rand.Read(salt)
		before := f.Metric(t, "fleet_assist_codes_registered_total")
		writeJSON(t, ctx, dev, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaCode, CodeHash: wire.CodeHash(salt, "271828"), CodeSalt: salt,
			CodeExpiresMs: time.Now().Add(time.Hour).UnixMilli()})
		f.WaitMetric(t, "fleet_assist_codes_registered_total", before+1)
		id, _, err := f.Hub.ClaimCode(ctx, "alice", "271828")
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := f.DialViewer(ctx, id, "alice")
		if err != nil {
			t.Fatal(err)
		}
		defer v.CloseNow()
		relayed := f.Metric(t, "fleet_assist_frames_relayed_total")
		for seq := uint32(1); seq <= 3; seq++ {
			dev.Write(ctx, websocket.MessageBinary, frame(t, seq, true, 64, 64))
		}
		writeJSON(t, ctx, dev, &wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonRefused})
		if m := readMsg(t, ctx, v, wire.TypeEnd); m == nil || m.Reason != wire.ReasonRefused {
			t.Errorf("viewer told %+v, want refused", m)
		}
		if got := f.Metric(t, "fleet_assist_frames_relayed_total"); got != relayed {
			t.Errorf("%v frames relayed before consent", got-relayed)
		}
	})

	t.Run("cross-site commands", func(t *testing.T) {
		for _, path := range []string{"/assist/code", "/assist/offer"} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+path, strings.NewReader("code=123456&device="+hubtest.DeviceID))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "test_staff=alice")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Origin", "https://evil.example")
			resp, err := f.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site POST %s: %d, want 403", path, resp.StatusCode)
			}
		}
	})

	t.Run("wrong codes are rate limited", func(t *testing.T) {
		limited := false
		for i := range 20 {
			_, _, err := f.Hub.ClaimCode(ctx, "bob", "00000"+string(rune('0'+i%10)))
			if err != nil && strings.Contains(err.Error(), "too many") {
				limited = true
				break
			}
		}
		if !limited {
			t.Error("20 wrong codes in a row were all tried")
		}
		if _, _, err := f.Hub.ClaimCode(ctx, "victor", "123456"); err == nil || !strings.Contains(err.Error(), "may not") {
			t.Errorf("victor (no assist permission) claimed a code: %v", err)
		}
	})
}
