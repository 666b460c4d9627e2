package assist_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist"
)

func TestSessionStates(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name   string
		run    func(s *assist.Session) bool
		at     time.Duration // when Tick is called
		state  assist.State
		reason string
	}{
		{"allowed then stopped", func(s *assist.Session) bool {
			return s.Ask(t0) == nil && s.Allow(t0.Add(time.Second)) == nil && s.End(t0.Add(time.Minute), wire.ReasonStop)
		}, time.Minute, assist.StateEnded, wire.ReasonStop},
		{"refused", func(s *assist.Session) bool { return s.Ask(t0) == nil && s.End(t0, wire.ReasonRefused) }, 0, assist.StateEnded, wire.ReasonRefused},
		{"nobody answers", func(s *assist.Session) bool { return s.Ask(t0) == nil }, assist.ConsentTimeout, assist.StateEnded, wire.ReasonNoAnswer},
		{"still asking", func(s *assist.Session) bool { return s.Ask(t0) == nil }, assist.ConsentTimeout - time.Second, assist.StateAsking, ""},
		{"time limit", func(s *assist.Session) bool { return s.Ask(t0) == nil && s.Allow(t0) == nil }, wire.TimeLimit, assist.StateEnded, wire.ReasonTimeLimit},
		{"sharing under the limit", func(s *assist.Session) bool { return s.Ask(t0) == nil && s.Allow(t0) == nil }, wire.TimeLimit - time.Second, assist.StateSharing, ""},
		{"allow without asking", func(s *assist.Session) bool { return s.Allow(t0) != nil }, 0, assist.StateOffered, ""},
		{"ended twice keeps the first reason", func(s *assist.Session) bool {
			return s.End(t0, wire.ReasonSessionEnd) && !s.End(t0, wire.ReasonStop)
		}, 0, assist.StateEnded, wire.ReasonSessionEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := assist.NewSession(wire.ViaCode, t0, 0)
			if !tt.run(s) {
				t.Fatal("a step did not do what it should")
			}
			s.Tick(t0.Add(tt.at))
			if s.State() != tt.state || s.Reason() != tt.reason {
				t.Errorf("got %s %q, want %s %q", s.State(), s.Reason(), tt.state, tt.reason)
			}
		})
	}
	// A limit above 30 minutes is cut to 30.
	s := assist.NewSession(wire.ViaOffer, t0, time.Hour)
	s.Ask(t0)
	s.Allow(t0)
	if d := s.Deadline().Sub(t0); d != wire.TimeLimit {
		t.Errorf("deadline with a 1 h limit: %v, want %v", d, wire.TimeLimit)
	}
}

func TestHelpCode(t *testing.T) {
	now := time.Now()
	seen := map[string]bool{}
	for range 50 {
		code, hc, err := assist.NewHelpCode(now)
		if err != nil {
			t.Fatal(err)
		}
		if !wire.ValidCode(code) {
			t.Fatalf("code %q is not 6 digits", code)
		}
		seen[code] = true
		h := hc.Hello()
		if err := h.Validate(); err != nil {
			t.Fatalf("hello: %v", err)
		}
		if strings.Contains(string(h.CodeHash)+string(h.CodeSalt), code) {
			t.Fatal("the hello carries the code")
		}
		if !hc.Matches(code) || hc.Matches("000000") && code != "000000" {
			t.Fatal("Matches is wrong")
		}
		if hc.Expires().Sub(now) != wire.CodeTTL {
			t.Fatalf("expires after %v", hc.Expires().Sub(now))
		}
	}
	if len(seen) < 45 {
		t.Errorf("50 codes, only %d different", len(seen))
	}
	_, hc, _ := assist.NewHelpCode(now)
	if err := hc.Use(now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := hc.Use(now.Add(time.Minute)); !errors.Is(err, assist.ErrCodeUsed) {
		t.Errorf("second use: %v, want ErrCodeUsed", err)
	}
	_, hc, _ = assist.NewHelpCode(now)
	if err := hc.Use(now.Add(wire.CodeTTL)); !errors.Is(err, assist.ErrCodeExpired) {
		t.Errorf("use at 10 minutes: %v, want ErrCodeExpired", err)
	}
}

func TestPointGate(t *testing.T) {
	now := time.Now()
	var g assist.PointGate
	if _, err := g.Check(&wire.Msg{Type: wire.TypePoint, X: 10, Y: 10}, 0, 0, now); err == nil {
		t.Error("a point before any frame was accepted")
	}
	for _, tt := range []struct {
		x, y int
		ok   bool
	}{{0, 0, true}, {1279, 799, true}, {1280, 10, false}, {10, 800, false}, {-1, 5, false}} {
		g := assist.PointGate{}
		_, err := g.Check(&wire.Msg{Type: wire.TypePoint, X: tt.x, Y: tt.y}, 1280, 800, now)
		if (err == nil) != tt.ok {
			t.Errorf("(%d,%d): %v", tt.x, tt.y, err)
		}
	}
	p, err := g.Check(&wire.Msg{Type: wire.TypePoint, X: 5, Y: 6, Text: "Tap\u202e  Next\x07 \u200b"}, 1280, 800, now)
	if err != nil || p.Text != "Tap Next" {
		t.Errorf("cleaned text %q (%v), want %q", p.Text, err, "Tap Next")
	}
	// A flood: the burst passes, the rest is refused until time passes.
	ok := 1
	for range 100 {
		if _, err := g.Check(&wire.Msg{Type: wire.TypePoint, X: 1, Y: 1}, 1280, 800, now); err == nil {
			ok++
		}
	}
	if ok != assist.PointBurst {
		t.Errorf("%d points passed in one instant, want the burst %d", ok, assist.PointBurst)
	}
	if _, err := g.Check(&wire.Msg{Type: wire.TypePoint, X: 1, Y: 1}, 1280, 800, now.Add(time.Second)); err != nil {
		t.Errorf("a point a second later: %v", err)
	}
}

func TestCleanText(t *testing.T) {
	long := strings.Repeat("é", 100)
	for _, tt := range []struct{ in, want string }{
		{"Tap Next", "Tap Next"},
		{"  spaced \t\n out  ", "spaced out"},
		{"\u202eevil\u202c", "evil"},
		{"bad\xffutf8", "badutf8"},
		{long, strings.Repeat("é", wire.MaxPointText)},
		{"<script>", "<script>"}, // drawn as text by the shell, never markup
	} {
		if got := wire.CleanText(tt.in); got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
