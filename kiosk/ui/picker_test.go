package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// pickerFixtures are the picker's pages in the states a resident meets,
// by the path the tests serve them at.
func pickerFixtures() map[string]PickerView {
	files := []PickerFile{
		{ID: "a1", Name: "scan.pdf", Kind: "scan", Size: "1.2 MB", Preview: true, Usable: true},
		{ID: "b2", Name: "photo.jpg", Kind: "photo", Size: "420 kB", Preview: true, Usable: true},
		{ID: "c3", Name: "Council tax bill 2025.docx", Kind: "download", Size: "35 kB", Why: "picker.why.notaccepted"},
	}
	pages := []PickerPage{{ID: "p1", N: 1}, {ID: "p2", N: 2}}
	return map[string]PickerView{
		"/picker":          {Page: PickerChoose, Takes: []string{"pdf", "image"}, Scanner: true, Camera: true, Files: files},
		"/picker/none":     {Page: PickerChoose, Takes: []string{".docx"}, ScannerWhy: PickerNoScanner, CameraWhy: PickerCameraDown},
		"/picker/scan":     {Page: PickerScan, MaxPages: 20, MaxSize: "10 MB"},
		"/picker/scanning": {Page: PickerScan, Pages: pages[:1], Scanning: true, ScanPage: 2, Progress: 40, MaxPages: 20, MaxSize: "10 MB"},
		"/picker/scanned": {Page: PickerScan, Pages: pages, Grey: true, MaxPages: 20, MaxSize: "10 MB",
			Status: "picker.status.scanned", StatusArgs: []any{2}},
		"/picker/toolarge": {Page: PickerScan, Pages: pages, MaxPages: 20, MaxSize: "10 MB", Message: "picker.err.size",
			MessageArgs: []any{"10 MB"}, Alert: true},
		"/picker/photo":      {Page: PickerPhoto, Preview: true, FPS: 5},
		"/picker/photo/shot": {Page: PickerPhoto, Photo: true, Status: "picker.status.photo"},
		"/picker/files":      {Page: PickerFiles, Takes: []string{"pdf", "image"}, Multiple: true, Files: files},
		"/picker/files/one":  {Page: PickerFiles, Takes: []string{"image"}, Files: files},
		"/picker/files/none": {Page: PickerFiles},
	}
}

// pickerHandler serves the fixtures (and the images they show), the way
// the shell serves the picker from its state.
func pickerHandler(p *Pages) http.Handler {
	var img bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 160, 220))
	for y := 0; y < 220; y++ {
		for x := 0; x < 160; x++ {
			m.Set(x, y, color.RGBA{250, 250, 245, 255})
			if y > 20 && y < 200 && y%12 < 3 && x > 16 && x < 144 {
				m.Set(x, y, color.RGBA{40, 40, 40, 255})
			}
		}
	}
	jpeg.Encode(&img, m, nil)
	fx := pickerFixtures()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".jpg") {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(img.Bytes())
			return
		}
		pv, ok := fx[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		p.Picker(w, r, pv)
	})
}

// TestPickerPages: every picker page renders in every language with no
// missing text, offers what its state allows and says why a choice is
// not there.
func TestPickerPages(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	h := pickerHandler(p)
	for path := range pickerFixtures() {
		for _, lang := range Languages() {
			w := get(t, h, path+"?lang="+lang+"&contrast=high")
			body := w.Body.String()
			if w.Code != 200 {
				t.Fatalf("%s %s: status %d", path, lang, w.Code)
			}
			if strings.Contains(body, "⟦") {
				t.Errorf("%s %s: a message has no text: %s", path, lang, body[strings.Index(body, "⟦"):][:60])
			}
			if !strings.Contains(body, `lang="`+lang+`"`) || !strings.Contains(body, "ak-hc") || !strings.Contains(body, "ak-sheet") {
				t.Errorf("%s %s: not in the language and contrast asked for", path, lang)
			}
			if strings.Contains(body, "ak-header") || strings.Contains(body, "ak-nav") {
				t.Errorf("%s %s: the picker has the pages' header or navigation (it leaves the form)", path, lang)
			}
			if !strings.Contains(body, `data-ak-picker="cancel"`) {
				t.Errorf("%s %s: no Cancel", path, lang)
			}
		}
	}
	choose := get(t, h, "/picker").Body.String()
	for _, want := range []string{`data-to="scan"`, `data-to="photo"`, `data-to="files"`, "Files from this session (3)", "This form takes PDF files or pictures."} {
		if !strings.Contains(choose, want) {
			t.Errorf("choose page lacks %q", want)
		}
	}
	none := get(t, h, "/picker/none").Body.String()
	if strings.Contains(none, `data-to="scan"`) || strings.Contains(none, `data-to="photo"`) {
		t.Error("scanning or photos offered without a scanner or a working camera")
	}
	for _, want := range []string{"There is no scanner at this kiosk", "The camera is not working at the moment", "This form takes DOCX."} {
		if !strings.Contains(none, want) {
			t.Errorf("page without devices lacks %q", want)
		}
	}
	scanned := get(t, h, "/picker/scanned").Body.String()
	for _, want := range []string{"Use these 2 pages", `Turn<span aria-hidden="true"> ↻</span><span class="govuk-visually-hidden"> (Page 2)</span>`, `Delete<span class="govuk-visually-hidden"> (Page 1)</span>`,
		`data-mode="gray" aria-pressed="true"`, "Page 2 scanned.", `src="/picker/page/p2.jpg?v=0"`} {
		if !strings.Contains(scanned, want) {
			t.Errorf("scanned page lacks %q", want)
		}
	}
	if s := get(t, h, "/picker/toolarge").Body.String(); !strings.Contains(s, `role="alert"`) || !strings.Contains(s, "larger than this form takes (10 MB)") {
		t.Error("the too-large message is not an alert naming the limit")
	}
	many := get(t, h, "/picker/files").Body.String()
	one := get(t, h, "/picker/files/one").Body.String()
	if !strings.Contains(many, `type="checkbox"`) || !strings.Contains(one, `type="radio"`) {
		t.Error("multiple is not checkboxes, or single is not radios")
	}
	if !strings.Contains(many, `value="c3" id="file-c3" disabled`) || !strings.Contains(many, "does not take this kind of file") {
		t.Error("a file the form does not take is selectable, or not explained")
	}
}

// pickerPaths lists the fixtures' paths, in order.
func pickerPaths() []string {
	var out []string
	for p := range pickerFixtures() {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
