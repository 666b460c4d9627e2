package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// TextSizes is how many text size steps there are (0 is standard).
const TextSizes = 4

// TextScale returns the zoom factor for text size step n (clamped), for the
// shell to apply to the web view as well: 1.0, 1.25, 1.5, 2.0.
func TextScale(n int) float64 {
	return textScales[clampText(n)]
}

var textScales = [TextSizes]float64{1.0, 1.25, 1.5, 2.0}

func clampText(n int) int { return max(0, min(n, TextSizes-1)) }

// Prefs are one session's display choices. The zero value is a new
// session: the config's first language, standard colours, standard text.
type Prefs struct {
	Lang         string // language code; "" or unknown = the config's first language
	HighContrast bool   // yellow and white on black
	TextSize     int    // 0 (standard) to TextSizes-1; out of range is clamped
}

type prefsKey struct{}

// WithPrefs returns ctx carrying the session's prefs. The shell wraps each
// kiosk:// request with it; the pages then ignore prefs in the query.
func WithPrefs(ctx context.Context, p Prefs) context.Context {
	return context.WithValue(ctx, prefsKey{}, p)
}

// prefsFrom returns the request's prefs and whether they came from its
// context (true) or from its query (false): lang=cy, contrast=high, text=2.
// The query form is for tests and for serving the pages over plain HTTP;
// links then carry the prefs on.
func prefsFrom(r *http.Request) (Prefs, bool) {
	if p, ok := r.Context().Value(prefsKey{}).(Prefs); ok {
		return p, true
	}
	q := r.URL.Query()
	p := Prefs{Lang: q.Get("lang"), HighContrast: q.Get("contrast") == "high"}
	if n, err := strconv.Atoi(q.Get("text")); err == nil {
		p.TextSize = clampText(n)
	}
	return p, false
}

// query encodes p the way prefsFrom reads it, leaving out defaults.
func (p Prefs) query() url.Values {
	v := url.Values{}
	if p.Lang != "" {
		v.Set("lang", p.Lang)
	}
	if p.HighContrast {
		v.Set("contrast", "high")
	}
	if p.TextSize != 0 {
		v.Set("text", strconv.Itoa(p.TextSize))
	}
	return v
}
