package wire_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"accesskiosk/fleet/assist/wire"
)

var jpegish = []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3}

func TestFrameRoundTrip(t *testing.T) {
	f := &wire.Frame{Key: true, Width: 1280, Height: 800, Seq: 7, Regions: []wire.Region{
		{X: 0, Y: 0, W: 32, H: 32, Image: jpegish}, {X: 1248, Y: 768, W: 32, H: 32, Image: jpegish}}}
	b, err := wire.AppendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != f.Size() {
		t.Errorf("encoded %d bytes, Size says %d", len(b), f.Size())
	}
	g, err := wire.ParseFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Key || g.Width != 1280 || g.Height != 800 || g.Seq != 7 || len(g.Regions) != 2 || g.Regions[1].X != 1248 || !bytes.Equal(g.Regions[1].Image, jpegish) {
		t.Errorf("round trip: %+v", g)
	}
	seq, key, err := wire.PeekHeader(b)
	if seq != 7 || !key || err != nil {
		t.Errorf("PeekHeader = %d %v %v", seq, key, err)
	}
}

func TestParseFrameRefuses(t *testing.T) {
	good, _ := wire.AppendFrame(nil, &wire.Frame{Width: 100, Height: 100, Seq: 1, Regions: []wire.Region{{X: 0, Y: 0, W: 10, H: 10, Image: jpegish}}})
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, b := range map[string][]byte{
		"empty":            nil,
		"short":            good[:10],
		"magic":            mut(func(b []byte) []byte { b[0] = 'X'; return b }),
		"flags":            mut(func(b []byte) []byte { b[4] = 0x80; return b }),
		"zero width":       mut(func(b []byte) []byte { b[6], b[7] = 0, 0; return b }),
		"huge width":       mut(func(b []byte) []byte { b[6], b[7] = 0xFF, 0xFF; return b }),
		"too many regions": mut(func(b []byte) []byte { b[14], b[15] = 0xFF, 0xFF; return b }),
		"region outside":   mut(func(b []byte) []byte { b[16], b[17] = 0, 95; return b }),
		"length past end":  mut(func(b []byte) []byte { b[27] = 200; return b }),
		"not an image":     mut(func(b []byte) []byte { b[28] = 0; return b }),
		"trailing":         append(append([]byte(nil), good...), 0),
		"over the limit":   append(append([]byte(nil), good...), make([]byte, wire.MaxFrameBytes)...),
	} {
		if _, err := wire.ParseFrame(b); !errors.Is(err, wire.ErrFrame) {
			t.Errorf("%s: err = %v, want ErrFrame", name, err)
		}
	}
}

func TestDecodeControl(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{`{"type":"ack","seq":3}`, true},
		{`{"type":"ack"}`, false},
		{`{"type":"point","x":5,"y":6,"text":"Tap Next"}`, true},
		{`{"type":"point","x":-1,"y":6}`, false},
		{`{"type":"point","x":1,"y":1,"text":"` + strings.Repeat("x", 61) + `"}`, false},
		{`{"type":"end","reason":"stop"}`, true},
		{`{"type":"end","reason":"because"}`, false},
		{`{"type":"hello","via":"offer","offer_id":"0123456789abcdef0123456789abcdef"}`, true},
		{`{"type":"hello","via":"offer","offer_id":"../../etc"}`, false},
		{`{"type":"hello","via":"code"}`, false},
		{`{"type":"ack","seq":1,"extra":1}`, false},
		{`{"type":"ack","seq":1} {}`, false},
		{`{"type":"reboot"}`, false},
		{`garbage`, false},
		{`{"type":"state","state":"sharing"}`, true},
	} {
		_, err := wire.Decode([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("Decode(%s) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
	if _, err := wire.Decode(make([]byte, wire.MaxControlBytes+1)); err == nil {
		t.Error("an oversized control message was accepted")
	}
}

// FuzzParseFrame: any bytes parse or fail cleanly, and what parses
// re-encodes to the same bytes.
func FuzzParseFrame(f *testing.F) {
	good, _ := wire.AppendFrame(nil, &wire.Frame{Key: true, Width: 64, Height: 64, Seq: 1, Regions: []wire.Region{{X: 0, Y: 0, W: 32, H: 32, Image: jpegish}}})
	f.Add(good)
	f.Add([]byte("AKF1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := wire.ParseFrame(b)
		if err != nil {
			return
		}
		out, err := wire.AppendFrame(nil, fr)
		if err != nil {
			t.Fatalf("parsed but does not encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzDecode: any control message decodes or fails cleanly; what decodes
// validates and encodes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"point","x":5,"y":6,"text":"Tap Next"}`))
	f.Add([]byte(`{"type":"hello","via":"code","code_hash":"AAAA","code_salt":"AAAA","code_expires_unix_ms":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.Decode(b)
		if err != nil {
			return
		}
		if _, err := m.Encode(); err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
	})
}
