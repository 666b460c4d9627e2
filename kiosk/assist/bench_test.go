package assist_test

import (
	"bytes"
	"image"
	"image/png"
	"slices"
	"testing"
	"time"

	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
)

func pct(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
}

// BenchmarkEncodeFormPage: the kiosk's cost per frame of a typical form
// page (the real Chromium capture, 1280×800), masks, change detection and
// encoding included, for a key frame (the whole screen) and a delta (one
// typed character). Three encoders on the same regions: "sent" (what the
// kiosk sends: PNG for flat regions, JPEG for the rest), JPEG for every
// region, and PNG (stdlib, fastest level) for every region. Reported: p50
// and p99 per frame, bytes per frame, and the ratios of "sent" to each.
//
//	go test -run '^$' -bench EncodeFormPage ./kiosk/assist/
func BenchmarkEncodeFormPage(b *testing.B) {
	w, err := assisttest.NewWorkload()
	if err != nil {
		b.Fatal(err)
	}
	form := w.Form()
	masks := assist.Masks{Rects: []image.Rectangle{form.Password, form.Card}}
	key := w.Next()
	assist.Paint(key, masks)
	next := w.Next()
	for _, tc := range []struct {
		name string
		img  *image.RGBA
	}{{"key", key}, {"delta", next}} {
		b.Run(tc.name, func(b *testing.B) {
			type way struct {
				name  string
				enc   func(img *image.RGBA, rects []image.Rectangle, key bool) (int, error)
				times []time.Duration
				bytes int
			}
			var sent, jpg assist.Encoder
			jpg.JPEGOnly = true
			var buf bytes.Buffer
			pngEnc := png.Encoder{CompressionLevel: png.BestSpeed}
			ways := []*way{
				{name: "sent", enc: func(img *image.RGBA, rects []image.Rectangle, k bool) (int, error) {
					out, err := sent.Encode(img, rects, 1, k, assist.DefaultQuality)
					return len(out), err
				}},
				{name: "jpeg", enc: func(img *image.RGBA, rects []image.Rectangle, k bool) (int, error) {
					out, err := jpg.Encode(img, rects, 1, k, assist.DefaultQuality)
					return len(out), err
				}},
				{name: "png", enc: func(img *image.RGBA, rects []image.Rectangle, _ bool) (int, error) {
					buf.Reset()
					for _, r := range rects {
						if err := pngEnc.Encode(&buf, img.SubImage(r)); err != nil {
							return 0, err
						}
					}
					return buf.Len(), nil
				}},
			}
			run := func() {
				for _, wy := range ways {
					t0 := time.Now()
					img := image.NewRGBA(tc.img.Bounds())
					copy(img.Pix, tc.img.Pix)
					assist.Paint(img, masks)
					var d assist.Differ
					if tc.name == "delta" {
						d.Commit(key, nil, true)
					}
					rects, k := d.Changed(img)
					n, err := wy.enc(img, rects, k)
					if err != nil {
						b.Fatal(err)
					}
					wy.times = append(wy.times, time.Since(t0))
					wy.bytes = n
				}
			}
			for b.Loop() {
				run()
			}
			// A p99 needs samples: top up to 100 outside the timed loop.
			for len(ways[0].times) < 100 {
				run()
			}
			for _, wy := range ways {
				b.ReportMetric(pct(wy.times, 0.5), wy.name+"-p50-ms")
				b.ReportMetric(pct(wy.times, 0.99), wy.name+"-p99-ms")
				b.ReportMetric(float64(wy.bytes), wy.name+"-B/frame")
			}
			for _, wy := range ways[1:] {
				b.ReportMetric(pct(ways[0].times, 0.5)/pct(wy.times, 0.5), "sent/"+wy.name+"-p50")
				b.ReportMetric(pct(ways[0].times, 0.99)/pct(wy.times, 0.99), "sent/"+wy.name+"-p99")
				b.ReportMetric(float64(ways[0].bytes)/float64(wy.bytes), "sent/"+wy.name+"-bytes")
			}
		})
	}
}
