package printing

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/internal/ipp/ipptest"
)

func TestDocumentPages(t *testing.T) {
	ipptest.Need(t, "pdfinfo", "pdftoppm")
	ctx := context.Background()

	// A real print-to-PDF output (headless Chromium printing
	// testdata/three-pages.html): compressed objects, tagged, fonts embedded.
	doc, err := OpenDocument(ctx, "testdata/three-pages-chromium.pdf", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Pages() != 3 {
		t.Errorf("Chromium's PDF: %d pages, want 3", doc.Pages())
	}
	for _, n := range []int{1, 2, 7} {
		d, err := ReadDocument(ctx, bytes.NewReader(makePDF(n)), DocumentOptions{})
		if err != nil {
			t.Fatalf("%d pages: %v", n, err)
		}
		if d.Pages() != n {
			t.Errorf("makePDF(%d): %d pages", n, d.Pages())
		}
	}
}

func TestDocumentRefusesBadInput(t *testing.T) {
	ipptest.Need(t, "pdfinfo")
	ctx := context.Background()
	good := makePDF(3)
	// A name that says who the resident is must never appear in an error.
	dir := t.TempDir()
	named := func(data []byte) string {
		p := filepath.Join(dir, "Universal Credit letter - Jane Resident.pdf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		data []byte
		opts DocumentOptions
		want error
	}{
		{"truncated", good[:len(good)/2], DocumentOptions{}, ErrBrokenPDF},
		{"garbage after a header", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4096)...), DocumentOptions{}, ErrBrokenPDF},
		{"not a PDF", []byte("<html><body>a web page</body></html>"), DocumentOptions{}, ErrNotPDF},
		{"empty", nil, DocumentOptions{}, ErrNotPDF},
		{"too large", good, DocumentOptions{MaxBytes: 100}, ErrTooLarge},
		{"too many pages", makePDF(12), DocumentOptions{MaxPages: 10}, ErrTooMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenDocument(ctx, named(tc.data), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "Jane") || strings.Contains(err.Error(), dir) {
				t.Errorf("error carries the file's name: %v", err)
			}
		})
	}
	if _, err := OpenDocument(ctx, filepath.Join(dir, "Missing - Jane Resident.pdf"), DocumentOptions{}); err == nil || strings.Contains(err.Error(), "Jane") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenDocument(ctx, dir, DocumentOptions{}); !errors.Is(err, ErrNotPDF) {
		t.Errorf("a directory: %v, want ErrNotPDF", err)
	}
}

func TestDocumentPreview(t *testing.T) {
	ipptest.Need(t, "pdfinfo", "pdftoppm")
	ctx := context.Background()
	doc, err := OpenDocument(ctx, "testdata/three-pages-chromium.pdf", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := doc.Preview(ctx, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PRINT_PREVIEW_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "preview-page2.png"), data, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("preview is not a PNG: %v", err)
	}
	b := img.Bounds()
	// US letter is 8.5 × 11 in: 1400 px wide is 1812 px tall.
	if b.Dx() != DefaultPreviewWidth || b.Dy() < 1800 || b.Dy() > 1820 {
		t.Errorf("preview is %dx%d, want %d wide in letter proportions", b.Dx(), b.Dy(), DefaultPreviewWidth)
	}
	// The page's heading ("Page two", 32 px type in Chromium, so about 60 px
	// at this width) must be there: count dark pixels in the top fifth.
	if dark := darkPixels(img, image.Rect(0, 0, b.Dx(), b.Dy()/5)); dark < 2000 {
		t.Errorf("top of the page has %d dark pixels: no readable text rendered", dark)
	}
	if _, err := doc.Preview(ctx, 4, 0); !errors.Is(err, ErrNoPage) {
		t.Errorf("page 4 of 3: %v, want ErrNoPage", err)
	}
	small, err := doc.Preview(ctx, 1, 300)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(small)); err != nil || cfg.Width != 300 {
		t.Errorf("300 px preview: %v, width %d", err, cfg.Width)
	}
}

func darkPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if (cr+cg+cb)/3 < 0x4000 {
				n++
			}
		}
	}
	return n
}

func TestPopplerMessagesLoseQuotedText(t *testing.T) {
	for _, in := range []string{
		"Syntax Error (1234): Unknown operator 'Jane'",
		`Syntax Error: Illegal character <4a 61 6e 65> in hex string "Jane"`,
		"Syntax Error (77): Dictionary key must be a name object (Jane)",
	} {
		got := firstErrorLine("Syntax Warning: x\n" + in + "\n")
		if got == "" || strings.Contains(got, "Jane") || strings.Contains(got, "4a") {
			t.Errorf("%q → %q", in, got)
		}
	}
}
