package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file turns the council's brand colour into the header's CSS.

// brandCSS sets the header colours from the council's brand colour, with
// white or black text, whichever contrasts more.
func brandCSS(hex string) []byte {
	if hex == "" {
		hex = DefaultBrandColour
	}
	r, g, b := parseHex(hex)
	l := luminance(r, g, b)
	text := "#ffffff"
	if contrast(l, 1) < contrast(l, 0) {
		text = "#0b0c0c"
	}
	return fmt.Appendf(nil, ":root{--ak-brand:%s;--ak-brand-text:%s}\n", strings.ToLower(hex), text)
}

func parseHex(s string) (r, g, b float64) {
	n, _ := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	return float64(n>>16&0xff) / 255, float64(n>>8&0xff) / 255, float64(n&0xff) / 255
}

// luminance is WCAG 2's relative luminance.
func luminance(r, g, b float64) float64 {
	lin := func(c float64) float64 {
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func contrast(l1, l2 float64) float64 {
	return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)
}
