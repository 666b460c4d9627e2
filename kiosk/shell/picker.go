package shell

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/capture/camera"
	"accesskiosk/kiosk/capture/scan"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is the file picker (issue 15): when a page asks for a file
// (an <input type=file>), the kiosk shows its own full-screen picker in a
// sheet over the service (sheet.go) instead of GTK's file chooser, and
// hands what the resident chose to that input only.
//
// Who may ask. WebKitGTK's file chooser request does not say which frame
// asked, so the kiosk decides from what the engine does tell it:
//
//   - the service view's committed main-frame URI (WebKit's load-committed,
//     never "the view's current URI") must be allowed by `allow`: never a
//     kiosk:// page, never a page of an allow_frames-only origin (those
//     never commit as the main frame anyway), never the guide pane or the
//     sheet;
//   - since that commit, every frame WebKit loaded in the view was allowed
//     by `allow` (each navigation and frame response is decided by the
//     shell: navigation.go marks the page "foreign" as soon as it lets in a
//     frame of an allow_frames-only origin). Then whichever frame asked is
//     an allowed one (about:blank and srcdoc frames are their parent's);
//   - on a foreign page (a captcha, a payment frame beside the upload), the
//     request must follow a file input click that the watcher
//     (ui.FileWatchScript, in every frame's isolated world, where no page
//     script can post or change what it reads) reported from a frame whose
//     own URL is allowed, within clickWindow, one request per click.
//     Without it the request is refused with a message: part of the page
//     is another site, and it might be the one asking. (A click in an
//     opaque-origin frame, srcdoc or sandboxed, is not from an allowed
//     URL: on a foreign page it is refused, as it may be the other site's
//     own child; on a page with no such frame it is the allowed page's.)
//
// Anything else is cancelled at once (the input gets nothing) and counted.
//
// What the resident gets: the choose page (scan a document, take a photo,
// this session's files; a choice without its device is left out with a
// sentence why), the scan (pages preview as they arrive; turn, scan again,
// delete, add; colour or black and white; the scanner config's page and
// size limits), the photo (live preview, a 3-second countdown, take it
// again), and the session's files. "Use" makes the file(s) the input's
// accept and multiple take (capture.Export: a PDF of the pages, or a JPEG
// or PNG per page; a photo as JPEG, or a PDF), keeps them in the session's
// folder (files.go) and hands them to the input; Cancel hands nothing.
// Slow work (a scan, the camera, making the file) runs off the GTK loop and
// comes back with webkit.Invoke, checked against the picker it was for.

const pickerOwner = "picker"

// clickWindow is how long after a file input click its file chooser
// request may come (the two are sent in order by the web process; this
// only bounds a click whose request never came).
const clickWindow = 2 * time.Second

// pageState is what the picker knows of the service view's page, from
// WebKit's own events (navigation.go) and the watcher.
type pageState struct {
	committed string     // the main frame's URI as WebKit committed it
	foreign   bool       // a frame from outside `allow` was let in since
	click     *fileClick // the last file input click the watcher reported
}

// fileClick is a file input click the watcher reported.
type fileClick struct {
	at       time.Time
	allowed  bool   // the frame's own URL is allowed by `allow`
	accept   string // the input's accept attribute
	multiple bool
}

// picker is an open file picker: the request it answers and its state.
type picker struct {
	t        *tab
	fc       *webkit.FileChooser
	accept   string // the input's accept attribute (or WebKit's MIME types)
	acc      capture.Accept
	multiple bool
	page     string // ui.PickerChoose, ...
	ctx      context.Context
	stop     context.CancelFunc
	gen      int // bumps whenever an image changes
	busy     bool

	// The scan.
	doc      *capture.Document
	docDir   string
	mode     scan.Mode
	job      *scan.Job
	scanN    int    // the number of the page being scanned, from 1
	retake   string // the page being scanned again
	progress int

	// The photo.
	stream *camera.Stream
	frame  []byte
	photo  *capture.Page

	// What the page says next.
	msg        string
	msgArgs    []any
	alert      bool
	status     string
	statusArgs []any
}

// filesViewOptions gives the service view of tab t the file chooser and
// downloads (downloads.go).
func (s *Shell) filesViewOptions(t *tab, o *webkit.ViewOptions) {
	o.FileChooser = func(fc *webkit.FileChooser) bool { return s.fileChooser(t, fc) }
	o.DecideDownload = func(d webkit.Decision) bool { return s.decideDownload(t, d) }
	o.Download = func(d *webkit.Download) bool { return s.download(t, d) }
}

// setupPicker starts the devices (devices.go) and takes the picker
// pages' messages from the bridge. From Start.
func (s *Shell) setupPicker() {
	s.startDevices()
	s.bridge.on("picker", s.pickerMessage)
}

// pageCommitted is the service view's main frame committing a page: a new
// page, with no frames yet; a picker open for the old one is cancelled.
func (s *Shell) pageCommitted(t *tab, uri string) {
	t.page = pageState{committed: uri}
	if p := s.picker; p != nil && p.t == t {
		s.log.Info("the page under the file picker changed; cancelling the picker")
		s.closePicker(false)
	}
}

// fileClickMsg reports whether a watcher message is a file input click.
func fileClickMsg(body string) bool { return strings.Contains(body, `"file"`) }

// fileClicked notes a file input click the watcher reported from tab t's
// service view.
func (s *Shell) fileClicked(t *tab, f from, body string) {
	var m struct {
		Action   string `json:"action"`
		URL      string `json:"url"`
		Origin   string `json:"origin"`
		Accept   string `json:"accept"`
		Multiple bool   `json:"multiple"`
	}
	if f != fromService || json.Unmarshal([]byte(body), &m) != nil || m.Action != "file" {
		return
	}
	t.page.click = &fileClick{at: s.now(), allowed: s.frameAllowed(m.URL, m.Origin), accept: m.Accept, multiple: m.Multiple}
}

// frameAllowed decides a frame's own URL (or, for about:blank and srcdoc
// documents, its origin) against `allow`. An opaque origin is not allowed.
func (s *Shell) frameAllowed(rawURL, origin string) bool {
	if u, err := url.Parse(rawURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return s.cfg.AllowList.Decide(rawURL).Allow
	}
	if strings.HasPrefix(origin, "http://") || strings.HasPrefix(origin, "https://") {
		return s.cfg.AllowList.Decide(origin + "/").Allow
	}
	return false
}

// fileChooser is WebKit's file chooser request from tab t's service view:
// open the picker, or refuse (false: WebKit cancels it). See the file's doc.
func (s *Shell) fileChooser(t *tab, fc *webkit.FileChooser) bool {
	refuse := func(why string) bool {
		s.dev.refused++
		s.log.WithField("why", why).Info("file chooser refused")
		return false
	}
	click := t.page.click
	t.page.click = nil // one request per click
	fresh := click != nil && s.now().Sub(click.at) <= clickWindow
	switch {
	case s.closed || t != s.cur || s.reset != nil || t.crashed || s.ui == nil:
		return refuse("not_the_session")
	case s.picker != nil || t.sheet != nil:
		return refuse("busy")
	case strings.HasPrefix(t.page.committed, "kiosk:") || !s.cfg.AllowList.Decide(t.page.committed).Allow:
		return refuse("page_not_allowed")
	case t.page.foreign && fresh && !click.allowed:
		s.tellRefused(t)
		return refuse("frame_not_allowed")
	case t.page.foreign && !fresh:
		// Part of the page is another site, which may be the one asking.
		s.tellRefused(t)
		return refuse("foreign_frame")
	}
	// On a page with no frame from outside `allow`, whichever frame asked
	// is an allowed one or the allowed page's own (a srcdoc or sandboxed
	// frame, whose origin is opaque).

	accept := strings.Join(fc.MIMETypes, ",")
	if fresh && click.accept != "" {
		accept = click.accept // the attribute itself: extensions too (WebKit passes MIME types only)
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &picker{t: t, fc: fc, accept: accept, acc: capture.ParseAccept(accept), multiple: fc.Multiple,
		page: ui.PickerChoose, ctx: ctx, stop: stop, mode: scan.Mode(s.cfg.Scanner.Mode)}
	if p.mode == "" || p.mode == "colour" {
		p.mode = scan.Colour
	} else if p.mode == "grey" || p.mode == "greyscale" || p.mode == "grayscale" {
		p.mode = scan.Grey
	}
	s.picker = p
	// WebKit is inside its signal: show the sheet from the loop.
	webkit.Invoke(func() {
		if s.picker != p {
			return
		}
		if !s.openSheet(t, pickerOwner, "kiosk://picker", func() { s.pickerGone(p) }) {
			s.closePicker(false)
			return
		}
		s.log.Info("file picker opened")
	})
	return true
}

// tellRefused says why nothing opened when a tap on a file input was
// refused (an input in a frame of another site).
func (s *Shell) tellRefused(t *tab) {
	webkit.Invoke(func() {
		if t == s.cur && !s.closed {
			s.win.ShowPanel(s.tr("picker.refused.title"), s.tr("picker.refused.body"),
				[]webkit.PanelButton{{ID: panelCancel, Label: s.tr("files.ok")}})
		}
	})
}

// pickerGone: the sheet closed under the picker (toolbar, session end,
// its web process): answer nothing.
func (s *Shell) pickerGone(p *picker) {
	if s.picker == p {
		s.closePicker(true)
	}
}

// closePicker ends the open picker: the request gets nothing unless it
// was answered, the scan and the camera stop, pages not handed to a form
// are removed. sheetGone says the sheet is already closed.
func (s *Shell) closePicker(sheetGone bool) {
	p := s.picker
	if p == nil {
		return
	}
	s.picker = nil
	p.stop()
	if p.job != nil {
		p.job.Cancel()
	}
	if p.stream != nil {
		st := p.stream
		go st.Stop()
	}
	if p.doc != nil {
		p.doc.Close()
		p.t.files.Discard(p.docDir)
	}
	p.fc.Cancel() // nothing when it was answered
	if !sheetGone {
		s.closeSheet(p.t, pickerOwner)
	}
}

// show puts the picker's state on its page.
func (s *Shell) showPicker(p *picker) {
	if s.picker != p {
		return
	}
	target := "kiosk://picker"
	if p.page != ui.PickerChoose {
		target += "/" + p.page
	}
	s.loadSheet(p.t, pickerOwner, target)
}

// say sets the page's message (an error when alert) and clears the status.
func (p *picker) say(alert bool, key string, args ...any) {
	p.msg, p.msgArgs, p.alert = key, args, alert
	p.status, p.statusArgs = "", nil
}

// note sets the page's quiet status and clears the message.
func (p *picker) note(key string, args ...any) {
	p.status, p.statusArgs = key, args
	p.msg, p.msgArgs = "", nil
}

// pickerMessage is a picker page's message from the bridge.
func (s *Shell) pickerMessage(m bridgeMsg) {
	p := s.picker
	if p == nil || m.from != fromSheet || m.tab != p.t || m.tab.sheet == nil || m.tab.sheet.owner != pickerOwner {
		s.bridge.refused++
		return
	}
	var req struct {
		Do    string   `json:"do"`
		To    string   `json:"to"`
		Page  string   `json:"page"`
		Mode  string   `json:"mode"`
		Files []string `json:"files"`
	}
	if json.Unmarshal(m.raw, &req) != nil || len(req.Files) > 100 {
		s.bridge.refused++
		return
	}
	if p.busy && req.Do != "cancel" {
		return // making the file: only Cancel
	}
	switch req.Do {
	case "go":
		s.pickerGo(p, req.To)
	case "scan":
		s.startScan(p, "")
	case "stop":
		if p.job != nil {
			p.job.Cancel()
		}
	case "mode":
		if p.job == nil && (req.Mode == string(scan.Colour) || req.Mode == string(scan.Grey)) {
			p.mode = scan.Mode(req.Mode)
			p.say(false, "")
			s.showPicker(p)
		}
	case "rotate":
		if p.doc != nil && p.job == nil && p.doc.Rotate(req.Page, 1) == nil {
			p.gen++
			p.note("picker.status.turned", pageNumber(p.doc, req.Page))
			s.showPicker(p)
		}
	case "delete":
		if p.doc != nil && p.job == nil && p.doc.Delete(req.Page) == nil {
			p.gen++
			p.note("picker.status.deleted")
			s.showPicker(p)
		}
	case "retake":
		if p.doc != nil && pageNumber(p.doc, req.Page) > 0 {
			s.startScan(p, req.Page)
		}
	case "shoot":
		s.shoot(p)
	case "retake-photo":
		p.photo = nil
		s.startCamera(p)
	case "use":
		s.useCapture(p)
	case "use-files":
		s.useFiles(p, req.Files)
	case "cancel":
		s.log.Info("file picker cancelled")
		s.closePicker(false)
	default:
		s.bridge.refused++
	}
}

// pickerGo shows another page of the picker.
func (s *Shell) pickerGo(p *picker, to string) {
	switch to {
	case ui.PickerScan:
		if s.dev.scanner == nil {
			return
		}
	case ui.PickerPhoto:
		if s.dev.camera == nil {
			return
		}
	case ui.PickerChoose, ui.PickerFiles:
	default:
		return
	}
	if p.page == ui.PickerScan && to != ui.PickerScan && p.job != nil {
		p.job.Cancel()
	}
	if p.page == ui.PickerPhoto && to != ui.PickerPhoto {
		s.stopCamera(p)
	}
	p.page = to
	p.say(false, "")
	if to == ui.PickerPhoto && p.photo == nil {
		s.startCamera(p)
		return
	}
	s.showPicker(p)
}

// ---- handing files to the form -------------------------------------------------

// useCapture makes the scan or the photo into the file(s) the input
// takes, keeps them with the session's files and hands them to it.
func (s *Shell) useCapture(p *picker) {
	kind, doc, dir := KindScan, p.doc, p.docDir
	if p.page == ui.PickerPhoto {
		if p.photo == nil {
			return
		}
		kind = KindPhoto
		d, err := p.t.files.NewDir()
		if err == nil {
			doc, err = capture.NewDocument(d, s.cfg.Camera.Limits())
		}
		if err == nil {
			err = doc.Add(p.photo)
		}
		if err != nil {
			s.log.WithError(noPath(err)).Error("cannot keep the photo in the session's folder")
			p.say(true, "picker.err.failed")
			s.showPicker(p)
			return
		}
		dir = d
	} else if p.doc == nil || p.doc.Len() == 0 || p.job != nil {
		return
	}
	p.busy = true
	s.showPicker(p)
	s.makeFiles(p, kind, doc, func(got []SessionFile, err error) {
		p.busy = false
		if err != nil {
			if kind == KindPhoto {
				doc.Close()
				p.t.files.Discard(dir)
			}
			s.exportFailed(p, err)
			return
		}
		if kind == KindScan {
			p.doc, p.docDir = nil, "" // the document stays with its file, for another form
		}
		s.choose(p, got)
	})
}

// makeFiles makes doc into the files the input takes (off the loop) and
// adopts them as the session's; then is told on the loop, while p is the
// open picker. On an error nothing made is left.
func (s *Shell) makeFiles(p *picker, kind FileKind, doc *capture.Document, then func([]SessionFile, error)) {
	files, accept, multiple, ctx := p.t.files, p.accept, p.multiple, p.ctx
	go func() {
		dir, err := files.NewDir()
		var out []capture.File
		if err == nil {
			out, err = capture.Export(ctx, doc, capture.ExportOptions{Accept: accept, Multiple: multiple, Dir: dir})
		}
		var got []SessionFile
		for _, f := range out {
			if err != nil {
				break
			}
			var sf SessionFile
			if sf, err = files.Adopt(kind, f.Path, f.MIME, f.Pages, doc); err == nil {
				got = append(got, sf)
			}
		}
		if err != nil && dir != "" {
			for _, f := range got {
				files.Remove(f.ID)
			}
			files.Discard(dir)
			got = nil
		}
		webkit.Invoke(func() {
			if s.picker == p {
				then(got, err)
			}
		})
	}()
}

// exportFailed says why the file could not be made.
func (s *Shell) exportFailed(p *picker, err error) {
	switch {
	case errors.Is(err, capture.ErrNotAccepted):
		p.say(true, "picker.err.notaccepted")
	case errors.Is(err, capture.ErrOnePageOnly):
		p.say(true, "picker.err.onepage")
	case errors.Is(err, errFilesFull):
		p.say(true, "picker.err.full")
	case errors.Is(err, capture.ErrTooLarge):
		p.say(true, limitKey(err), limitArgs(err)...)
	default:
		s.log.WithError(noPath(err)).Warn("cannot make the file for the form")
		p.say(true, "picker.err.failed")
	}
	s.showPicker(p)
}

// choose hands files to the input that asked and closes the picker.
func (s *Shell) choose(p *picker, files []SessionFile) {
	var paths []string
	for _, f := range files {
		path, err := p.t.files.Path(f.ID)
		if err != nil {
			p.say(true, "picker.err.failed")
			s.showPicker(p)
			return
		}
		paths = append(paths, path)
	}
	p.fc.Choose(paths)
	p.t.files.count(FileCounts{Uploads: int64(len(paths))})
	s.log.WithField("files", len(paths)).Info("file picker: files handed to the page")
	s.closePicker(false)
}

// fileUsable reports whether the input takes f as it is (ok), or made again
// from its pages (convert).
func (p *picker) fileUsable(f SessionFile, hasDoc bool) (ok, convert bool) {
	ext := strings.ToLower(filepath.Ext(f.Name))
	format := capture.Format{MIME: f.MIME, Exts: []string{ext}}
	if ext == "" {
		format.Exts = []string{"."}
	}
	if _, ok := p.acc.Match(format); ok {
		return true, false
	}
	if !hasDoc {
		return false, false
	}
	usable := capture.Formats()
	if !p.multiple {
		if f.Pages > 1 {
			usable = []capture.Format{capture.PDF}
		}
	}
	_, _, can := p.acc.Choose(usable...)
	return false, can
}

// useFiles hands the session's files ids to the input: as they are when it
// takes them, else made again from their pages in a format it takes.
func (s *Shell) useFiles(p *picker, ids []string) {
	if len(ids) == 0 || (!p.multiple && len(ids) > 1) {
		return
	}
	var ready []SessionFile
	var convert []*capture.Document
	var kinds []FileKind
	for _, id := range ids {
		f, ok := p.t.files.Get(id)
		if !ok {
			return
		}
		doc := p.t.files.doc(id)
		as, conv := p.fileUsable(f, doc != nil)
		switch {
		case as:
			ready = append(ready, f)
		case conv:
			convert = append(convert, doc)
			kinds = append(kinds, f.Kind)
		default:
			return // the page offered only what the input takes
		}
	}
	if len(convert) == 0 {
		s.choose(p, ready)
		return
	}
	// Made again one at a time; then all of them go to the input.
	p.busy = true
	s.showPicker(p)
	var next func(i int)
	next = func(i int) {
		if i == len(convert) {
			s.choose(p, ready)
			return
		}
		s.makeFiles(p, kinds[i], convert[i], func(got []SessionFile, err error) {
			if err != nil {
				p.busy = false
				s.exportFailed(p, err)
				return
			}
			ready = append(ready, got...)
			next(i + 1)
		})
	}
	next(0)
}

// ---- the pages -----------------------------------------------------------------

// servePicker answers tab t's kiosk://picker requests from the open
// picker's state: its pages (ui.Pages.Picker) and their images. False for
// any other request; 404 when no picker is open for t.
func (s *Shell) servePicker(t *tab, w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	if path != "/picker" && !strings.HasPrefix(path, "/picker/") {
		return false
	}
	p := s.picker
	if p == nil || p.t != t || t.sheet == nil || t.sheet.owner != pickerOwner {
		http.NotFound(w, r)
		return true
	}
	jpegOut := func(b []byte) {
		if len(b) == 0 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
	switch rest := strings.TrimPrefix(path, "/picker"); {
	case strings.HasPrefix(rest, "/page/") && strings.HasSuffix(rest, ".jpg"):
		if p.doc == nil {
			http.NotFound(w, r)
			return true
		}
		b, _ := p.doc.Preview(strings.TrimSuffix(strings.TrimPrefix(rest, "/page/"), ".jpg"))
		jpegOut(b)
	case rest == "/camera.jpg":
		jpegOut(p.frame)
	case rest == "/photo.jpg":
		if p.photo == nil {
			http.NotFound(w, r)
			return true
		}
		jpegOut(p.photo.Preview)
	case strings.HasPrefix(rest, "/file/") && strings.HasSuffix(rest, ".jpg"):
		id := strings.TrimSuffix(strings.TrimPrefix(rest, "/file/"), ".jpg")
		var b []byte
		if doc := t.files.doc(id); doc != nil {
			if pages := doc.Pages(); len(pages) > 0 {
				b, _ = doc.Preview(pages[0].ID)
			}
		}
		jpegOut(b)
	case rest == "" || rest == "/" || rest == "/"+ui.PickerScan || rest == "/"+ui.PickerPhoto || rest == "/"+ui.PickerFiles:
		// Whichever page is asked for (the history's), the picker shows
		// where it is now.
		s.ui.Picker(w, r, s.pickerView(p))
	default:
		http.NotFound(w, r)
	}
	return true
}

// pickerView is the picker's state as its page shows it.
func (s *Shell) pickerView(p *picker) ui.PickerView {
	v := ui.PickerView{Page: p.page, Multiple: p.multiple, Gen: p.gen,
		Message: p.msg, MessageArgs: p.msgArgs, Alert: p.alert, Status: p.status, StatusArgs: p.statusArgs,
		Exporting: p.busy}
	v.Takes = takes(p.accept, p.acc)
	v.Scanner, v.ScannerWhy = s.offered(s.dev.scanner != nil, s.scanHealth(), ui.PickerNoScanner, ui.PickerScannerDown)
	v.Camera, v.CameraWhy = s.offered(s.dev.camera != nil, s.camHealth(), ui.PickerNoCamera, ui.PickerCameraDown)
	for _, f := range p.t.files.List() {
		doc := p.t.files.doc(f.ID)
		ok, conv := p.fileUsable(f, doc != nil)
		pf := ui.PickerFile{ID: f.ID, Name: f.Name, Kind: string(f.Kind), Size: capture.ByteSize(f.Size).String(),
			Preview: doc != nil, Usable: ok || conv}
		if !pf.Usable {
			pf.Why = "picker.why.notaccepted"
		}
		v.Files = append(v.Files, pf)
	}
	lim := s.cfg.Scanner.Limits()
	if lim.MaxPages == 0 {
		lim.MaxPages = capture.DefaultMaxPages
	}
	if lim.MaxFileSize == 0 {
		lim.MaxFileSize = capture.DefaultMaxFileSize
	}
	v.MaxPages, v.MaxSize = lim.MaxPages, lim.MaxFileSize.String()
	v.Grey = p.mode == scan.Grey
	if p.doc != nil {
		for i, pi := range p.doc.Pages() {
			v.Pages = append(v.Pages, ui.PickerPage{ID: pi.ID, N: i + 1})
		}
	}
	if p.job != nil {
		v.Scanning, v.ScanPage, v.Progress = true, p.scanN, p.progress
		if p.retake != "" {
			v.Retaking = p.scanN
		}
	}
	v.Preview, v.Photo = p.stream != nil && p.frame != nil, p.photo != nil
	v.FPS = s.cfg.Camera.PreviewFPS
	if v.FPS == 0 {
		v.FPS = camera.DefaultPreviewFPS
	}
	return v
}

// offered says whether a device's choice is offered, and why not.
func (s *Shell) offered(configured bool, h capture.Health, none, down string) (bool, string) {
	switch {
	case !configured:
		return false, none
	case h.State == capture.Absent || h.State == capture.Failing:
		return false, down
	}
	return true, ""
}

// takes is what the input takes, for the page's sentence.
func takes(raw string, acc capture.Accept) []string {
	if acc.Any() {
		return nil
	}
	var out []string
	if _, ok := acc.Match(capture.PDF); ok {
		out = append(out, "pdf")
	}
	_, jpg := acc.Match(capture.JPEG)
	_, png := acc.Match(capture.PNG)
	if jpg || png {
		out = append(out, "image")
	}
	for tok := range strings.SplitSeq(raw, ",") {
		tok = strings.ToLower(strings.TrimSpace(tok))
		if strings.HasPrefix(tok, ".") && !known(tok) {
			out = append(out, tok)
		}
	}
	return out
}

func known(ext string) bool {
	for _, f := range capture.Formats() {
		for _, e := range f.Exts {
			if e == ext {
				return true
			}
		}
	}
	return false
}
