package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// The file picker's pages (issue 15): what the kiosk shows instead of a
// file chooser when an allowed page's <input type=file> asks for a file.
// The shell owns the picker's state (the scan being made, the camera, this
// session's files) and renders each page from it with Pages.Picker; the
// pages only post what the resident tapped, through the bridge:
//
//	kiosk://picker          choose: scan a document, take a photo, or this session's files
//	kiosk://picker/scan     the scan: pages as they arrive (rotate, scan again, delete), add a page, colour or grey
//	kiosk://picker/photo    the camera: live preview, countdown, the photo, take again
//	kiosk://picker/files    this session's files, the ones the form takes selectable
//
// Messages, each {action: "picker", do: ...}:
//
//	{do: "go", to: "choose"|"scan"|"photo"|"files"}   show that page
//	{do: "scan"}                 scan a page (another, or the first)
//	{do: "stop"}                 stop the scan under way
//	{do: "mode", mode: "color"|"gray"}
//	{do: "rotate"|"retake"|"delete", page: ID}
//	{do: "shoot"}                the countdown ended: take the photo
//	{do: "retake-photo"}         take the photo again
//	{do: "use"}                  hand the scan or the photo to the form
//	{do: "use-files", files: [ID, ...]}
//	{do: "cancel"}               back to the form with nothing chosen
//
// Images come from the shell too: kiosk://picker/page/ID.jpg (a scanned
// page's preview, rotated), kiosk://picker/camera.jpg (the newest preview
// frame; the page asks again at the camera's rate), kiosk://picker/photo.jpg
// (the photo taken), kiosk://picker/file/ID.jpg (a session file's preview).
// Nothing here is shown without a shell, except in tests and screenshots.

// Picker pages.
const (
	PickerChoose = "choose"
	PickerScan   = "scan"
	PickerPhoto  = "photo"
	PickerFiles  = "files"
)

// PickerView is what a picker page shows. Text fields that name a message
// are message keys (the page translates them); everything else is data.
type PickerView struct {
	Page string // PickerChoose, PickerScan, PickerPhoto, PickerFiles
	// Takes is what the asking input takes, for the sentence at the top:
	// "pdf", "image", or file name extensions (".docx"); empty for any file.
	Takes []string
	// Multiple: the input takes several files.
	Multiple bool

	// Scanner and Camera say whether that choice is offered; when not,
	// ScannerWhy and CameraWhy are the message keys saying why
	// (PickerNoScanner, PickerScannerDown, ...).
	Scanner, Camera       bool
	ScannerWhy, CameraWhy string

	// Files are this session's files, for the files page (and their
	// count on the first page).
	Files []PickerFile

	// The scan: its pages in order, whether a page is being scanned (its
	// number from 1, and how far, 0..100), greyscale, and the limits.
	Pages     []PickerPage
	Scanning  bool
	ScanPage  int
	Progress  int
	Grey      bool
	MaxPages  int
	MaxSize   string // "10 MB"
	Retaking  int    // the page number being scanned again, 0 for none
	Exporting bool   // the file is being made for the form

	// The photo: the live preview is on (Preview), or a photo was taken
	// (Photo); FPS is the preview's frames per second.
	Preview bool
	Photo   bool
	FPS     int

	// Message is a message key to show (with MessageArgs), as an error
	// when Alert; Status is a quieter key said when it changes (a page
	// arrived).
	Message     string
	MessageArgs []any
	Alert       bool
	Status      string
	StatusArgs  []any

	// Gen changes whenever an image changes, so the page asks for it again.
	Gen int
}

// PickerPage is one scanned page.
type PickerPage struct {
	ID string
	N  int // from 1
}

// PickerFile is one of this session's files.
type PickerFile struct {
	ID, Name string
	Kind     string // scan, photo, download
	Size     string // "1.2 MB"
	Preview  bool   // kiosk://picker/file/ID.jpg shows it
	// Usable: the input takes it (as it is, or made again in a format it
	// takes); when not, Why is the message key saying why.
	Usable bool
	Why    string
}

// Message keys the shell puts in a PickerView.
const (
	PickerNoScanner   = "picker.noscanner"   // no scanner configured
	PickerScannerDown = "picker.scannerdown" // configured, but absent or failing
	PickerNoCamera    = "picker.nocamera"
	PickerCameraDown  = "picker.cameradown"
)

// pickerData is what picker.html sees.
type pickerData struct {
	PickerView
	Msg, StatusText string
	TakesText       string
	Ready           int // files the input takes
}

// Picker renders the picker page pv describes, in the request's language
// and contrast (WithPrefs, or the query outside the shell).
func (p *Pages) Picker(w http.ResponseWriter, r *http.Request, pv PickerView) {
	r = prepare(w, r)
	title := map[string]string{PickerScan: "picker.scan.title", PickerPhoto: "picker.photo.title",
		PickerFiles: "picker.files.title"}[pv.Page]
	if title == "" {
		pv.Page, title = PickerChoose, "picker.title"
	}
	v := p.newView(r, "picker", title)
	v.Sheet = true
	d := pickerData{PickerView: pv}
	if pv.Message != "" {
		d.Msg = v.T(pv.Message, pv.MessageArgs...)
	}
	if pv.Status != "" {
		d.StatusText = v.T(pv.Status, pv.StatusArgs...)
	}
	d.TakesText = takesText(v, pv.Takes)
	for _, f := range pv.Files {
		if f.Usable {
			d.Ready++
		}
	}
	v.Data = d
	p.render(w, http.StatusOK, v)
}

// takesText is the sentence saying what the form takes.
func takesText(v *view, takes []string) string {
	var parts []string
	for _, t := range takes {
		switch t {
		case "pdf":
			parts = append(parts, v.T("picker.takes.pdf"))
		case "image":
			parts = append(parts, v.T("picker.takes.image"))
		default:
			if strings.HasPrefix(t, ".") && len(t) <= 12 {
				parts = append(parts, strings.ToUpper(t[1:]))
			}
		}
	}
	if len(parts) == 0 {
		return v.T("picker.takes.any")
	}
	return v.T("picker.takes", strings.Join(parts, v.T("picker.takes.or")))
}

// pickerRoutes parses the picker's template and serves its script and styles.
func (p *Pages) pickerRoutes(m *http.ServeMux) error {
	t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/picker.html")
	if err != nil {
		return fmt.Errorf("parse template picker: %w", err)
	}
	p.pages["picker"] = t
	for _, a := range []struct{ name, ct string }{{"picker.js", "text/javascript; charset=utf-8"}, {"picker.css", "text/css; charset=utf-8"}} {
		m.HandleFunc("GET /assets/"+a.name, p.asset(func() ([]byte, string) {
			b, _ := webFS.ReadFile("web/" + a.name)
			return b, a.ct
		}))
	}
	return nil
}
