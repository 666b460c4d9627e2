package insights

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"
)

// The charts are drawn for a box 340 units wide, so that on a 320 px
// screen (WCAG 1.4.10) their text is still about 13 px; CSS lets them grow
// to a readable maximum on wider screens. Colours are GOV.UK Frontend's
// palette, set as presentation attributes so an exported SVG looks the
// same; every chart draws its own white background, so in forced-colours
// (high contrast) mode, where Chromium leaves SVG colours alone, it stays
// a legible picture, and every value is also written as text.
const (
	svgW      = 340
	fontStack = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'Liberation Sans', Arial, sans-serif"
	ink       = "#0b0c0c"
	blue      = "#1d70b8"
	darkBlue  = "#0f385c"
	hatchLine = "#858686"
)

// heatRamp are the heat map's five shades (blue tints to shades), with
// the text colour that meets 4.5:1 on each.
var heatRamp = [5][2]string{{"#d2e2f1", ink}, {"#8eb8dc", ink}, {"#5694ca", ink}, {"#1d70b8", "#ffffff"}, {"#0f385c", "#ffffff"}}

// outcomeFill are the outcomes' fills: each a different pattern as well
// as a colour, so that they differ without colour.
var outcomeFill = [nOutcomes]string{"solid", "stripes", "dots", "open"}

type svgBuf struct {
	strings.Builder
	id string
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func (b *svgBuf) f(format string, a ...any) { fmt.Fprintf(b, format, a...) }

// open starts an SVG of height h with its accessible name and description
// and the patterns every chart may use.
func (b *svgBuf) open(kind string, h int, title, desc string) {
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" class="ak-chart__svg ak-chart__svg--%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" focusable="false" font-family="%s">`,
		kind, svgW, h, svgW, h, b.id, b.id, esc(fontStack))
	b.f(`<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, b.id, esc(title), b.id, esc(desc))
	b.f(`<defs>`)
	b.f(`<pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="%s" stroke-width="1.5"/></pattern>`, b.id, hatchLine)
	b.f(`<pattern id="%s-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="%s"/></pattern>`, b.id, darkBlue)
	b.f(`<pattern id="%s-dots" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="#ffffff"/><circle cx="2.5" cy="2.5" r="1.6" fill="%s"/></pattern>`, b.id, ink)
	b.f(`</defs><rect width="%d" height="%d" fill="#ffffff"/>`, svgW, h)
}

func (b *svgBuf) text(x, y float64, size int, anchor, fill, weight, s string) {
	b.textClass("", x, y, size, anchor, fill, weight, s)
}

// textClass writes a text element; class "ak-n" marks a count (tests
// check that every such label is one the rule allows).
func (b *svgBuf) textClass(class string, x, y float64, size int, anchor, fill, weight, s string) {
	if weight != "" {
		weight = ` font-weight="` + weight + `"`
	}
	if class != "" {
		class = ` class="` + class + `"`
	}
	b.f(`<text%s x="%s" y="%s" font-size="%d" text-anchor="%s" fill="%s"%s>%s</text>`, class, num(x), num(y), size, anchor, fill, weight, esc(s))
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d", int(v))
	}
	return fmt.Sprintf("%.1f", v)
}

// textWidth estimates how wide s is at size (system sans fonts average a
// little over half an em per character).
func textWidth(s string, size int) float64 {
	return float64(utf8.RuneCountInString(s)) * float64(size) * 0.56
}

// wrap breaks s into lines at most width wide at size, at spaces, and at
// most two lines (the second cut with an ellipsis).
func wrap(s string, size int, width float64) []string {
	words := strings.Fields(s)
	var lines []string
	cur := ""
	for _, w := range words {
		next := w
		if cur != "" {
			next = cur + " " + w
		}
		if textWidth(next, size) <= width || cur == "" {
			cur = next
			continue
		}
		lines = append(lines, cur)
		cur = w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > 2 {
		lines = append(lines[:1], strings.Join(lines[1:], " "))
	}
	for i, l := range lines {
		for textWidth(l, size) > width && utf8.RuneCountInString(l) > 2 {
			r := []rune(l)
			l = string(r[:len(r)-2]) + "…"
		}
		lines[i] = l
	}
	return lines
}

// heatSVG draws the demand heat map: a row per clock hour, a column per
// day, each cell shaded by its shown count and labelled with it; hidden
// cells hatched and labelled "<5"; hours the site is closed outlined with
// a dashed line.
func heatSVG(id string, f *Figures, hours []int, title, desc string) template.HTML {
	const left, top, cw, ch, gap = 46.0, 28.0, 41.0, 22.0, 2.0
	maxV := 0
	for d := range f.Heat {
		for _, h := range hours {
			if v, ok := f.Heat[d][h].Value(); ok && v > maxV {
				maxV = v
			}
		}
	}
	gridH := float64(len(hours)) * (ch + gap)
	legendTop := top + gridH + 14
	height := int(legendTop + 96)
	b := &svgBuf{id: id}
	b.open("heat", height, title, desc)
	for d := 0; d < 7; d++ {
		b.text(left+float64(d)*cw+cw/2-gap/2, top-9, 13, "middle", ink, "bold", DayNames[d][:3])
	}
	for i, h := range hours {
		y := top + float64(i)*(ch+gap)
		b.text(left-6, y+ch/2+4.5, 12, "end", ink, "", fmt.Sprintf("%02d:00", h))
		for d := 0; d < 7; d++ {
			x := left + float64(d)*cw
			c := f.Heat[d][h]
			fill, tc := "url(#"+id+"-hatch)", ink
			if v, ok := c.Value(); ok {
				lv := heatLevel(v, maxV)
				fill, tc = heatRamp[lv][0], heatRamp[lv][1]
			}
			stroke := ""
			if !f.Open[d][h] {
				stroke = ` stroke="` + ink + `" stroke-width="1.5" stroke-dasharray="3 2"`
			}
			b.f(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"%s/>`, num(x+0.75), num(y+0.75), num(cw-gap-1.5), num(ch-1.5), fill, stroke)
			label := c.Short()
			if c.State() != Shown {
				// a white plate keeps the label readable over the hatching
				b.f(`<rect x="%s" y="%s" width="%s" height="13" fill="#ffffff"/>`, num(x+(cw-gap)/2-11), num(y+ch/2-7), "22")
			}
			b.textClass("ak-n", x+(cw-gap)/2, y+ch/2+4, 11, "middle", tc, "", label)
		}
	}
	// legend: the shades with the counts each stands for, then the hatching and the dashed outline
	y := legendTop
	b.text(0, y+4, 12, "start", ink, "bold", "Sessions")
	for lv, r := range heatRange(maxV, f.K) {
		x := 62 + float64(lv)*55
		b.f(`<rect x="%s" y="%s" width="50" height="14" fill="%s"/>`, num(x), num(y-8), heatRamp[lv][0])
		b.text(x+25, y+20, 11, "middle", ink, "", r)
	}
	y += 42
	b.f(`<rect x="0" y="%s" width="30" height="16" fill="url(#%s-hatch)"/>`, num(y-11), id)
	b.text(36, y+1, 12, "start", ink, "", fmt.Sprintf("fewer than %d", f.K))
	b.f(`<rect x="156" y="%s" width="30" height="16" fill="#ffffff" stroke="%s" stroke-width="1.5" stroke-dasharray="3 2"/>`, num(y-11), ink)
	closed := "closed"
	if f.Site == "" {
		closed = "closed at every site"
	}
	b.text(192, y+1, 12, "start", ink, "", closed)
	b.text(0, y+26, 11, "start", ink, "", "Each session is counted in the hour it started.")
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// heatLevel is which of the five shades a shown count gets.
func heatLevel(v, maxV int) int {
	if maxV <= 0 {
		return 0
	}
	return min(4, max(0, (5*v-1)/maxV))
}

// heatRange labels the five shades with the counts each stands for.
func heatRange(maxV, k int) [5]string {
	var out [5]string
	if maxV <= 0 {
		for i := range out {
			out[i] = "–"
		}
		return out
	}
	lo := k
	for lv := 0; lv < 5; lv++ {
		// the largest multiple of k that still gets level lv
		hi := lo - k
		for v := lo; v <= maxV; v += k {
			if heatLevel(v, maxV) == lv {
				hi = v
			} else if heatLevel(v, maxV) > lv {
				break
			}
		}
		switch {
		case hi < lo:
			out[lv] = "–"
		case hi == lo:
			out[lv] = thousands(lo)
		default:
			out[lv] = thousands(lo) + "–" + thousands(hi)
		}
		if hi >= lo {
			lo = hi + k
		}
	}
	return out
}

// bar is one bar of a bar chart.
type bar struct {
	label string
	value float64 // length on the group's scale; 0 draws none
	text  string  // the value as written beside the bar
	count bool    // text is a count (not a share or rate)
	fill  string  // "solid" (default), "stripes", "dots", "open", or "hatch" for an upper bound / fewer than K
}

// barGroup is a run of bars under an optional heading, sharing a scale
// (0 to max, or 0 to scale when scale > 0).
type barGroup struct {
	heading string
	bars    []bar
	scale   float64
}

// barsSVG draws horizontal bars: each bar's label on its own line above
// it (so long names fit a narrow screen) and its value written after it.
func barsSVG(id, kind string, groups []barGroup, title, desc string) template.HTML {
	const labelSize, valueSize, barH = 14, 13, 16.0
	type placed struct {
		lines []string
		y     float64
	}
	// lay out first, to know the height
	y := 4.0
	var lay [][]placed
	var heads []float64
	for _, g := range groups {
		if g.heading != "" {
			y += 20
		}
		heads = append(heads, y)
		var ps []placed
		for _, br := range g.bars {
			lines := wrap(br.label, labelSize, svgW-4)
			ps = append(ps, placed{lines, y})
			y += float64(len(lines))*18 + barH + 14
		}
		lay = append(lay, ps)
		y += 8
	}
	b := &svgBuf{id: id}
	b.open(kind, int(y), title, desc)
	for gi, g := range groups {
		if g.heading != "" {
			b.text(0, heads[gi]-4, 15, "start", ink, "bold", g.heading)
		}
		maxV, reserve := g.scale, 0.0
		for _, br := range g.bars {
			if g.scale <= 0 {
				maxV = math.Max(maxV, br.value)
			}
			reserve = math.Max(reserve, textWidth(br.text, valueSize))
		}
		span := svgW - 12 - reserve
		for i, br := range g.bars {
			p := lay[gi][i]
			for j, l := range p.lines {
				b.text(0, p.y+14+float64(j)*18, labelSize, "start", ink, "", l)
			}
			by := p.y + float64(len(p.lines))*18 + 2
			w := 0.0
			if maxV > 0 && br.value > 0 {
				w = math.Max(3, span*br.value/maxV)
			}
			if w > 0 {
				fill, stroke := blue, ""
				switch br.fill {
				case "hatch":
					fill, stroke = "url(#"+id+"-hatch)", ` stroke="`+ink+`" stroke-width="1"`
				case "stripes", "dots":
					fill, stroke = "url(#"+id+"-"+br.fill+")", ` stroke="`+ink+`" stroke-width="1"`
				case "open":
					fill, stroke = "#ffffff", ` stroke="`+ink+`" stroke-width="1.5"`
				}
				b.f(`<rect x="0.5" y="%s" width="%s" height="%s" fill="%s"%s/>`, num(by), num(w), num(barH), fill, stroke)
			}
			class := ""
			if br.count {
				class = "ak-n"
			}
			b.textClass(class, w+6, by+barH-3, valueSize, "start", ink, "bold", br.text)
		}
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}
