package assist

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
)

//go:embed web/masks.js
var masksJS string

// MaskScript is the user script the shell injects into every frame (all
// origins, at document start) while remote help is configured: it reports
// where password fields and the selectors are (see web/masks.js). The
// selectors were checked by Config.Validate; they travel as a JSON array.
func MaskScript(selectors []string) string {
	if selectors == nil {
		selectors = []string{}
	}
	b, _ := json.Marshal(selectors)
	return strings.ReplaceAll(masksJS, "__ASSIST_SELECTORS__", string(b))
}

// FrameReport is one frame's report from MaskScript, in that frame's CSS
// pixels. The shell gets it from the script message handler together with
// WebKit's own frame identity, which names it in the Tracker.
type FrameReport struct {
	Action string `json:"action"`
	// Frame is the reporting document's id, made by the script in its
	// isolated world (no page can read or forge it); Gone says that
	// document went away.
	Frame  string   `json:"frame"`
	Gone   bool     `json:"gone"`
	Main   bool     `json:"main"`
	W      float64  `json:"w"`
	H      float64  `json:"h"`
	Rects  [][4]int `json:"rects"`
	Frames [][4]int `json:"frames"`
	Focus  bool     `json:"focus"`
	Ready  bool     `json:"ready"`
	Error  bool     `json:"error"`
}

// Bounds on a report, whatever a page does.
const (
	maxReportBytes = 64 << 10
	maxReportRects = 256
)

// ParseFrameReport decodes a report (the message's JSON). A report that
// does not parse or is out of bounds is an error: the shell then treats
// that frame as Error (masked whole) until a good report comes.
func ParseFrameReport(b []byte) (FrameReport, error) {
	var r FrameReport
	if len(b) > maxReportBytes {
		return r, fmt.Errorf("mask report of %d bytes, at most %d", len(b), maxReportBytes)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("mask report: %w", err)
	}
	if r.Action != "assist_masks" {
		return r, errors.New("mask report: not an assist_masks message")
	}
	if len(r.Frame) > 64 {
		return r, errors.New("mask report: frame id longer than 64 characters")
	}
	if len(r.Rects) > maxReportRects || len(r.Frames) > maxReportRects {
		return r, errors.New("mask report: too many rectangles")
	}
	if math.IsNaN(r.W) || math.IsNaN(r.H) || r.W < 0 || r.H < 0 || r.W > 1e5 || r.H > 1e5 {
		return r, errors.New("mask report: bad viewport size")
	}
	return r, nil
}

// compose turns frame reports into what must be black, in frame pixels:
// the main frame's rectangles (same-origin iframes' fields are among
// them, placed by the script), scaled by scale and moved by origin (where
// the view's top-left is in the capture). A cross-origin iframe's box is
// black unless a report from a frame of exactly its size says it has
// nothing to hide (loaded, no error, no fields, no iframes of its own):
// which frame is which is never guessed in the resident's disfavour. With
// no main-frame report, or one with an error, the whole capture is black.
func compose(reports []FrameReport, origin image.Point, scale float64) (rects []image.Rectangle, focus, blind bool) {
	var main *FrameReport
	for i := range reports {
		if reports[i].Main {
			main = &reports[i]
		}
		focus = focus || reports[i].Focus
	}
	if main == nil || main.Error {
		return nil, focus, true
	}
	px := func(a [4]int) image.Rectangle {
		x0 := origin.X + int(math.Floor(float64(a[0])*scale))
		y0 := origin.Y + int(math.Floor(float64(a[1])*scale))
		x1 := origin.X + int(math.Ceil(float64(a[0]+a[2])*scale))
		y1 := origin.Y + int(math.Ceil(float64(a[1]+a[3])*scale))
		return image.Rect(x0, y0, x1, y1)
	}
	for _, r := range main.Rects {
		rects = append(rects, px(r))
	}
	for _, b := range main.Frames {
		clean, dirty := false, false
		for _, c := range reports {
			if c.Main || math.Abs(c.W-float64(b[2])) > 1 || math.Abs(c.H-float64(b[3])) > 1 {
				continue
			}
			if c.Ready && !c.Error && len(c.Rects) == 0 && len(c.Frames) == 0 {
				clean = true
			} else {
				dirty = true
			}
		}
		if dirty || !clean {
			rects = append(rects, px(b))
		}
	}
	return rects, focus, false
}
