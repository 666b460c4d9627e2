package assist

import (
	"errors"
	"fmt"
	"time"

	"accesskiosk/fleet/assist/wire"
)

// Point is where staff pointed, in frame pixels, with an optional short
// note already cleaned (wire.CleanText). The shell draws a ring there for
// PointShow with the note beside it; it never clicks or types.
type Point struct {
	X, Y int
	Text string
}

// PointShow is how long the shell shows a ring.
const PointShow = 4 * time.Second

// Pointer rate limits: a burst of PointBurst, then one every
// 1/PointRate seconds. More are dropped, never queued.
const (
	PointRate  = 3.0
	PointBurst = 5
)

// ErrPointRate is returned by PointGate.Check for a point over the rate.
var ErrPointRate = errors.New("pointer events arrive too fast")

// PointGate checks staff pointer events before the shell draws them:
// inside the frame the viewer was sent, text cleaned and bounded, at most
// PointRate a second (token bucket). Not safe for concurrent use.
type PointGate struct {
	tokens float64
	last   time.Time
}

// Check validates m (a wire.TypePoint) against a frame of w×h pixels at
// now. The error says what was wrong and where; the point is dropped.
func (g *PointGate) Check(m *wire.Msg, w, h int, now time.Time) (Point, error) {
	if m.Type != wire.TypePoint {
		return Point{}, fmt.Errorf("pointer event: message type %q", m.Type)
	}
	if w <= 0 || h <= 0 {
		return Point{}, errors.New("pointer event: no frame has been sent yet")
	}
	if m.X < 0 || m.Y < 0 || m.X >= w || m.Y >= h {
		return Point{}, fmt.Errorf("pointer event: (%d, %d) is outside the %d×%d frame", m.X, m.Y, w, h)
	}
	if !g.last.IsZero() {
		g.tokens = min(PointBurst, g.tokens+now.Sub(g.last).Seconds()*PointRate)
	} else {
		g.tokens = PointBurst
	}
	g.last = now
	if g.tokens < 1 {
		return Point{}, ErrPointRate
	}
	g.tokens--
	return Point{X: m.X, Y: m.Y, Text: wire.CleanText(m.Text)}, nil
}
