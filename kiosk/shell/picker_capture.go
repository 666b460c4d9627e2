package shell

import (
	"context"
	"errors"
	"strconv"
	"time"

	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/capture/scan"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is the picker's capture side (picker.go has the rest): a scan
// from the configured scanner and a photo from the camera, their progress
// and errors as the picker says them.

// pageNumber is the page with id's number in doc, from 1 (0: none).
func pageNumber(doc *capture.Document, id string) int {
	for i, pi := range doc.Pages() {
		if pi.ID == id {
			return i + 1
		}
	}
	return 0
}

// ---- the scan --------------------------------------------------------------

// startScan scans one page: the next, or retake's again.
func (s *Shell) startScan(p *picker, retake string) {
	if s.dev.scanner == nil || p.job != nil {
		return
	}
	if p.doc == nil {
		dir, err := p.t.files.NewDir()
		if err == nil {
			p.doc, err = capture.NewDocument(dir, s.cfg.Scanner.Limits())
		}
		if err != nil {
			s.log.WithError(err).Error("cannot start a document in the session's folder")
			p.say(true, "picker.err.failed")
			s.showPicker(p)
			return
		}
		p.docDir = dir
	}
	n := p.doc.Len() + 1
	if retake != "" {
		n = pageNumber(p.doc, retake)
	} else if lim := p.doc.Limits().MaxPages; p.doc.Len() >= lim {
		p.say(true, "picker.err.pages", lim)
		s.showPicker(p)
		return
	}
	job, err := s.dev.scanner.Scan(p.ctx, scan.ScanOptions{Mode: p.mode})
	if err != nil {
		p.say(true, scanErrorKey(err), scanErrorArgs(err)...)
		s.showPicker(p)
		return
	}
	p.job, p.scanN, p.retake, p.progress = job, n, retake, 0
	s.dev.scanning.Store(true)
	p.page = ui.PickerScan
	p.say(false, "")
	s.showPicker(p)
	go func() {
		for ev := range job.Events() {
			ev := ev
			webkit.Invoke(func() { s.scanEvent(p, job, ev) })
		}
		err := job.Err() // the child is gone
		s.dev.scanning.Store(false)
		webkit.Invoke(func() { s.scanEnded(p, job, err) })
	}()
}

// scanEvent is progress or a page of p's scan job.
func (s *Shell) scanEvent(p *picker, job *scan.Job, ev scan.Event) {
	if s.picker != p || p.job != job {
		return
	}
	if ev.Page == nil {
		pct := int(ev.Progress * 100)
		if pct != p.progress && s.sheetOwnedBy(p.t, pickerOwner) {
			p.progress = pct
			p.t.sheet.view.Eval("window.akPicker && akPicker.progress("+strconv.Itoa(pct)+")", nil)
		}
		return
	}
	p.t.files.count(FileCounts{Scans: 1})
	var err error
	if p.retake != "" {
		err = p.doc.Replace(p.retake, ev.Page)
	} else {
		err = p.doc.Add(ev.Page)
	}
	if err != nil {
		p.say(true, limitKey(err), limitArgs(err)...)
		return
	}
	p.gen++
	p.note("picker.status.scanned", p.scanN)
}

// scanEnded is p's scan job over.
func (s *Shell) scanEnded(p *picker, job *scan.Job, err error) {
	if s.picker != p || p.job != job {
		return
	}
	p.job, p.retake = nil, ""
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		if p.msg == "" {
			p.say(false, "picker.err.stopped")
		}
	default:
		p.say(true, scanErrorKey(err), scanErrorArgs(err)...)
	}
	if p.page == ui.PickerScan {
		s.showPicker(p)
	}
}

// scanErrorKey is the message for a failed scan.
func scanErrorKey(err error) string {
	var le *capture.LimitError
	switch {
	case errors.As(err, &le):
		return limitKey(err)
	case errors.Is(err, scan.ErrNoDocument):
		return "picker.err.nopaper"
	case errors.Is(err, scan.ErrBusy):
		return "picker.err.busy"
	case errors.Is(err, scan.ErrAbsent):
		return "picker.err.absent"
	}
	return "picker.err.scanner"
}

func scanErrorArgs(err error) []any { return limitArgs(err) }

// limitKey and limitArgs are the message for a limit that was hit.
func limitKey(err error) string {
	var le *capture.LimitError
	if !errors.As(err, &le) {
		return "picker.err.failed"
	}
	switch le.Limit {
	case capture.LimitPages:
		return "picker.err.pages"
	case capture.LimitFileSize:
		return "picker.err.size"
	}
	return "picker.err.pixels"
}

func limitArgs(err error) []any {
	var le *capture.LimitError
	if !errors.As(err, &le) {
		return nil
	}
	switch le.Limit {
	case capture.LimitPages:
		return []any{int(le.Max)}
	case capture.LimitFileSize:
		return []any{capture.ByteSize(le.Max).String()}
	}
	return nil
}

// ---- the photo ---------------------------------------------------------------

// startCamera starts the live preview.
func (s *Shell) startCamera(p *picker) {
	if s.dev.camera == nil {
		return
	}
	s.stopCamera(p)
	p.page = ui.PickerPhoto
	st, err := s.dev.camera.Start(p.ctx)
	if err != nil {
		p.say(true, "picker.err.camera")
		s.showPicker(p)
		return
	}
	p.stream, p.frame = st, nil
	s.showPicker(p)
	go func() {
		shown := false
		for f := range st.Frames() {
			b := f.JPEG
			first := !shown
			shown = true
			webkit.Invoke(func() {
				if s.picker != p || p.stream != st {
					return
				}
				p.frame = b
				if first && p.page == ui.PickerPhoto {
					s.showPicker(p) // the preview is on
				}
			})
		}
		err := st.Err()
		webkit.Invoke(func() {
			if s.picker != p || p.stream != st || p.photo != nil {
				return
			}
			p.stream, p.frame = nil, nil
			if err != nil {
				p.say(true, "picker.err.camera")
			}
			if p.page == ui.PickerPhoto {
				s.showPicker(p)
			}
		})
	}()
}

func (s *Shell) stopCamera(p *picker) {
	if p.stream == nil {
		return
	}
	st := p.stream
	p.stream, p.frame = nil, nil
	go st.Stop()
}

// shoot takes the photo (the page's countdown has run).
func (s *Shell) shoot(p *picker) {
	st := p.stream
	if st == nil || p.photo != nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		ph, err := st.Capture(ctx)
		webkit.Invoke(func() {
			if s.picker != p || p.stream != st {
				return
			}
			if err != nil {
				p.say(true, "picker.err.camera")
				s.showPicker(p)
				return
			}
			p.t.files.count(FileCounts{Photos: 1})
			p.photo = ph
			p.gen++
			p.note("picker.status.photo")
			s.stopCamera(p)
			s.showPicker(p)
		})
	}()
}
