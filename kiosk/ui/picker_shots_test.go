package ui

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPickerScreenshots saves the file picker (issue 15) into
// $KIOSK_SCREENSHOTS (make screenshots-picker): its first page, the scan
// preview with two pages and the session's files ("Your files" as a form
// meets them) in English, Welsh and Polish, standard and high contrast,
// landscape and portrait; and its other states in English.
func TestPickerScreenshots(t *testing.T) {
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KIOSK_SCREENSHOTS=DIR to save screenshots")
	}
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pages := newTestPages(t, defaultConfig(t))
	mux.Handle("/", pages) // the stylesheets and scripts
	mux.Handle("/picker", pickerHandler(pages))
	mux.Handle("/picker/", pickerHandler(pages))
	base := serve(t, mux)
	type shot struct{ name, path string }
	var shots []shot
	for _, page := range []struct{ name, path string }{{"choose", "/picker"}, {"scan-preview", "/picker/scanned"}, {"files", "/picker/files"}} {
		for _, lang := range Languages() {
			for _, c := range []string{"", "high"} {
				name, q := "picker-"+page.name+"-"+lang, "?lang="+lang
				if c != "" {
					name += "-high-contrast"
					q += "&contrast=high"
				}
				shots = append(shots, shot{name, page.path + q})
			}
		}
	}
	for _, s := range []struct{ name, path string }{
		{"picker-no-devices", "/picker/none"}, {"picker-scan", "/picker/scan"}, {"picker-scanning", "/picker/scanning"},
		{"picker-too-large", "/picker/toolarge"}, {"picker-photo-shot", "/picker/photo/shot"}, {"picker-files-none", "/picker/files/none"},
		{"picker-scan-preview-text-largest", "/picker/scanned?text=3"},
	} {
		shots = append(shots, shot{s.name, s.path})
	}
	n := 0
	for _, size := range [][2]int{{1280, 800}, {800, 1280}} {
		ctx := browser(t, size[0], size[1])
		for _, s := range shots {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(int64(size[0]), int64(size[1])),
				chromedp.Navigate(base+s.path),
				chromedp.WaitReady(chromedp.CSS("body")),
			)
			if err == nil {
				settled(t, ctx, `Array.prototype.every.call(document.images, function (i) { return i.complete; })`)
			}
			var png []byte
			if err == nil {
				png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
			}
			if err != nil {
				t.Fatalf("%s: %v", s.path, err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("kiosk-%s-%dx%d.png", s.name, size[0], size[1])), png, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("saved %d picker screenshots in %s", n, dir)
}
