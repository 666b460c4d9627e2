package ipp

import (
	"testing"

	"github.com/OpenPrinting/goipp"
)

// FuzzPrinterAnswer feeds arbitrary bytes, as a printer's answer, through
// the decoder and everything that reads an answer: nothing may panic, and
// what comes out stays within its bounds.
func FuzzPrinterAnswer(f *testing.F) {
	f.Add(ippAnswer(goipp.StatusOk,
		goipp.MakeAttribute("printer-state", goipp.TagEnum, goipp.Integer(5)),
		goipp.MakeAttr("printer-state-reasons", goipp.TagKeyword, goipp.String("media-empty-error"), goipp.String("paused")),
		goipp.MakeAttribute("copies-supported", goipp.TagRange, goipp.Range{Lower: 1, Upper: 99}),
		goipp.MakeAttribute("printer-is-accepting-jobs", goipp.TagBoolean, goipp.Boolean(true)),
		goipp.MakeAttr("operations-supported", goipp.TagEnum, goipp.Integer(goipp.OpCreateJob), goipp.Integer(goipp.OpReleaseJob)),
	))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 1, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m goipp.Message
		if err := m.DecodeBytesEx(data, goipp.DecoderOptions{EnableWorkarounds: true}); err != nil {
			return
		}
		if a, ok := parseAttributes(&m); ok {
			if a.MaxCopies < 1 || len(a.StateMessage) > 204 || len(a.MakeAndModel) > 204 {
				t.Fatalf("out of bounds: %+v", a)
			}
			for _, w := range HealthWarnings(a) {
				if w.Code == "" || w.Text == "" {
					t.Fatalf("empty warning %+v", w)
				}
			}
			a.CanHold()
			a.CanColor()
		}
		m.Job = m.Printer
		jobStatus(&m, "fuzz", goipp.OpGetJobAttributes)
		statusMessage(&m)
	})
}
