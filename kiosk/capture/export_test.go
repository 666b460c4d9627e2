package capture

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func need(t testing.TB, prog, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (Debian %s; make deps installs it)", prog, pkg)
	}
	t.Skipf("%s is missing (Debian %s; make deps installs it)", prog, pkg)
}

// pdfInfo runs poppler's pdfinfo, a real PDF reader, on path.
func pdfInfo(t testing.TB, path string) map[string]string {
	t.Helper()
	need(t, "pdfinfo", "poppler-utils")
	out, err := exec.Command("pdfinfo", "-f", "1", "-l", "100", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// render renders page n of a PDF with poppler's pdftoppm and returns it.
func render(t testing.TB, path string, n int) image.Image {
	t.Helper()
	need(t, "pdftoppm", "poppler-utils")
	out, err := exec.Command("pdftoppm", "-png", "-r", "36", "-f", itoa(n), "-l", itoa(n), path).Output()
	if err != nil {
		t.Fatalf("pdftoppm: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func itoa(n int) string { return string(rune('0' + n)) }

func dark(m image.Image, fx, fy float64) bool {
	b := m.Bounds()
	r, _, _, _ := m.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(fy*float64(b.Dy()))).RGBA()
	return r < 0x4000
}

func docOf(t testing.TB, dir string, lim Limits, pages ...*Page) *Document {
	t.Helper()
	d, err := NewDocument(dir, lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if err := d.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestExportChoosesByAccept: the format follows the input's accept and
// multiple, the way issue 15 asks: scans as PDF or JPEG as accepted, a
// photo as JPEG, refusals with the reason.
func TestExportChoosesByAccept(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		src      Source
		pages    int
		accept   string
		multiple bool
		want     []string // file names
		mime     string
		err      error
	}{
		{"scan, anything", Scanned, 2, "", false, []string{"scan.pdf"}, "application/pdf", nil},
		{"scan, pdf or image", Scanned, 2, "application/pdf,image/*", false, []string{"scan.pdf"}, "application/pdf", nil},
		{"scan, images only, one page", Scanned, 1, "image/*", false, []string{"scan.jpg"}, "image/jpeg", nil},
		{"scan, images only, two pages", Scanned, 2, "image/*", false, nil, "", ErrOnePageOnly},
		{"scan, images only, multiple", Scanned, 2, "image/*", true, []string{"scan-1.jpg", "scan-2.jpg"}, "image/jpeg", nil},
		{"scan, .jpeg", Scanned, 1, ".jpeg", false, []string{"scan.jpeg"}, "image/jpeg", nil},
		{"scan, png only", Scanned, 1, "image/png", false, []string{"scan.png"}, "image/png", nil},
		{"scan, video", Scanned, 1, "video/*", false, nil, "", ErrNotAccepted},
		{"scan, word", Scanned, 1, ".doc,.docx", false, nil, "", ErrNotAccepted},
		{"photo, anything", Photo, 1, "", false, []string{"photo.jpg"}, "image/jpeg", nil},
		{"photo, image/*", Photo, 1, "image/*", false, []string{"photo.jpg"}, "image/jpeg", nil},
		{"photo, pdf only", Photo, 1, "application/pdf", false, []string{"photo.pdf"}, "application/pdf", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := privateDir(t)
			var ps []*Page
			for range tc.pages {
				ps = append(ps, page(t, 300, 200, tc.src, map[Source]int{Scanned: 100}[tc.src]))
			}
			d := docOf(t, dir, Limits{}, ps...)
			files, err := Export(ctx, d, ExportOptions{Accept: tc.accept, Multiple: tc.multiple})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				if f, _ := filepath.Glob(filepath.Join(dir, "scan*")); len(f) != 0 {
					t.Errorf("a refused export left %v", f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				if f.MIME != tc.mime || filepath.Dir(f.Path) != dir {
					t.Errorf("%s: MIME %s in %s; want %s in the document's directory", f.Name, f.MIME, filepath.Dir(f.Path), tc.mime)
				}
				data, err := os.ReadFile(f.Path)
				if err != nil {
					t.Fatal(err)
				}
				switch tc.mime {
				case "image/jpeg":
					_, err = jpeg.Decode(bytes.NewReader(data))
				case "image/png":
					_, err = png.Decode(bytes.NewReader(data))
				case "application/pdf":
					if info := pdfInfo(t, f.Path); info["Pages"] != itoa(tc.pages) {
						t.Errorf("pdfinfo says %s pages, want %d", info["Pages"], tc.pages)
					}
				}
				if err != nil {
					t.Errorf("%s does not decode: %v", f.Name, err)
				}
			}
			if strings.Join(names, " ") != strings.Join(tc.want, " ") {
				t.Errorf("files %v, want %v", names, tc.want)
			}
		})
	}
}

// TestPDFGeometry: a scanned page is its true size, rotation is applied (a
// real renderer shows it turned), and a photo sits on an A4 page turned
// its way.
func TestPDFGeometry(t *testing.T) {
	dir := privateDir(t)
	// 300 × 200 px at 100 dpi = 216 × 144 pt.
	a, b := page(t, 300, 200, Scanned, 100), page(t, 300, 200, Scanned, 100)
	d := docOf(t, dir, Limits{}, a, b)
	if err := d.Rotate(b.ID, 1); err != nil {
		t.Fatal(err)
	}
	photo, err := NewPage(context.Background(), halves(t, 640, 480, true), Photo, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(photo); err != nil {
		t.Fatal(err)
	}
	files, err := Export(context.Background(), d, ExportOptions{Accept: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	info := pdfInfo(t, files[0].Path)
	for k, want := range map[string]string{
		"Pages":          "3",
		"Page    1 size": "216 x 144 pts",
		"Page    2 size": "144 x 216 pts",
		"Page    3 size": "841.89 x 595.28 pts (A4)",
		"Producer":       "Access Kiosk",
	} {
		if !strings.HasPrefix(info[k], want) {
			t.Errorf("pdfinfo %s: %q, want %q", k, info[k], want)
		}
	}
	for _, k := range []string{"Title", "Author", "Subject", "Keywords", "Creator"} {
		if v, ok := info[k]; ok {
			t.Errorf("the PDF carries %s %q", k, v)
		}
	}
	p1, p2 := render(t, files[0].Path, 1), render(t, files[0].Path, 2)
	if !dark(p1, 0.2, 0.5) || dark(p1, 0.8, 0.5) {
		t.Errorf("page 1 is not left-black, right-white")
	}
	if !dark(p2, 0.5, 0.2) || dark(p2, 0.5, 0.8) {
		t.Errorf("page 2 (turned clockwise) does not have black on top")
	}
	p3 := render(t, files[0].Path, 3)
	if !dark(p3, 0.3, 0.5) || dark(p3, 0.7, 0.5) || dark(p3, 0.02, 0.5) {
		t.Errorf("page 3: the photo is not centred on a landscape A4 page with a white margin")
	}
}

// TestJPEGRotated: a rotated page exported as JPEG is turned; an
// unrotated one is the stored JPEG byte for byte.
func TestJPEGRotated(t *testing.T) {
	dir := privateDir(t)
	p := page(t, 300, 200, Scanned, 100)
	orig := append([]byte(nil), p.JPEG()...)
	d := docOf(t, "", Limits{}, p)
	files, err := Export(context.Background(), d, ExportOptions{Accept: "image/jpeg", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(files[0].Path); !bytes.Equal(got, orig) {
		t.Errorf("an unrotated page was re-encoded")
	}
	d.Rotate(p.ID, 1)
	files, err = Export(context.Background(), d, ExportOptions{Accept: "image/jpeg", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Name != "scan-2.jpg" {
		t.Errorf("second export named %s, want scan-2.jpg", files[0].Name)
	}
	data, _ := os.ReadFile(files[0].Path)
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 300 || !dark(img, 0.5, 0.2) || dark(img, 0.5, 0.8) {
		t.Errorf("rotated JPEG is %v and not black on top", b)
	}
	// A document in memory needs a directory.
	if _, err := Export(context.Background(), d, ExportOptions{}); err == nil {
		t.Errorf("export of an in-memory document with no directory worked")
	}
	// And the directory must be private.
	open := t.TempDir()
	os.Chmod(open, 0o755)
	if _, err := Export(context.Background(), d, ExportOptions{Dir: open}); !errors.Is(err, ErrNotPrivate) {
		t.Errorf("export into a 0755 directory: %v, want ErrNotPrivate", err)
	}
}

// TestExportLimits: over the file size limit, or cancelled, nothing is left.
func TestExportLimits(t *testing.T) {
	dir := privateDir(t)
	// Noise: its JPEG is about 47 kB, its PNG about 68 kB.
	noise := image.NewGray(image.Rect(0, 0, 300, 225))
	x := uint32(12345)
	for i := range noise.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		noise.Pix[i] = byte(x)
	}
	np, err := NewPage(context.Background(), noise, Scanned, 100)
	if err != nil {
		t.Fatal(err)
	}
	d := docOf(t, dir, Limits{MaxFileSize: 60_000}, np)
	_, err = Export(context.Background(), d, ExportOptions{Accept: "image/png", Multiple: true})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != LimitFileSize {
		t.Fatalf("PNG over the limit: %v, want a file_size LimitError", err)
	}
	if !strings.Contains(err.Error(), "60 kB") {
		t.Errorf("%q does not name the limit", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Export(ctx, d, ExportOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
	if f, _ := filepath.Glob(filepath.Join(dir, "scan*")); len(f) != 0 {
		t.Errorf("failed exports left %v", f)
	}
	empty := docOf(t, dir, Limits{})
	if _, err := Export(context.Background(), empty, ExportOptions{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty document: %v, want ErrEmpty", err)
	}
	if _, err := Export(context.Background(), d, ExportOptions{Name: "../x"}); err == nil {
		t.Errorf("a name with a path was accepted")
	}
}
