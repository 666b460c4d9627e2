package capture

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func privateDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// halves is a w×h page, its left half black and its right half white, so
// that a rotation shows: turned clockwise, black is on top.
func halves(t testing.TB, w, h int, colour bool) image.Image {
	t.Helper()
	if colour {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				v := byte(0)
				if x >= w/2 {
					v = 255
				}
				i := img.PixOffset(x, y)
				img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
			}
		}
		return img
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			img.Pix[img.PixOffset(x, y)] = 255
		}
	}
	return img
}

func page(t testing.TB, w, h int, src Source, dpi int) *Page {
	t.Helper()
	p, err := NewPage(context.Background(), halves(t, w, h, false), src, dpi)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(d *Document) []string {
	var out []string
	for _, p := range d.Pages() {
		out = append(out, p.ID)
	}
	return out
}

func TestDocumentEditing(t *testing.T) {
	for _, inMemory := range []bool{true, false} {
		dir := ""
		if !inMemory {
			dir = privateDir(t)
		}
		d, err := NewDocument(dir, Limits{MaxPages: 4})
		if err != nil {
			t.Fatal(err)
		}
		a, b, c := page(t, 300, 200, Scanned, 100), page(t, 300, 200, Scanned, 100), page(t, 300, 200, Scanned, 100)
		for _, p := range []*Page{a, b} {
			if err := d.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Insert(0, c); err != nil {
			t.Fatal(err)
		}
		if got, want := ids(d), []string{c.ID, a.ID, b.ID}; !slices.Equal(got, want) {
			t.Fatalf("after insert at 0: %v, want %v", got, want)
		}
		if err := d.Add(a); err == nil {
			t.Errorf("adding a page twice worked")
		}
		if err := d.Move(c.ID, 99); err != nil {
			t.Fatal(err)
		}
		if err := d.Move(b.ID, 0); err != nil {
			t.Fatal(err)
		}
		if got, want := ids(d), []string{b.ID, a.ID, c.ID}; !slices.Equal(got, want) {
			t.Fatalf("after moves: %v, want %v", got, want)
		}
		if err := d.Rotate(a.ID, 1); err != nil {
			t.Fatal(err)
		}
		if err := d.Rotate(b.ID, -1); err != nil {
			t.Fatal(err)
		}
		ps := d.Pages()
		if ps[1].Turns != 1 || ps[1].Width != 200 || ps[1].Height != 300 || ps[0].Turns != 3 || ps[2].Turns != 0 {
			t.Errorf("after rotating: %+v", ps)
		}
		prev, err := d.Preview(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(prev))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != 200 || img.Bounds().Dy() != 300 {
			t.Errorf("rotated preview is %v, want 200x300", img.Bounds())
		}
		if g := img.(*image.Gray); g.GrayAt(100, 20).Y > 64 || g.GrayAt(100, 280).Y < 192 {
			t.Errorf("rotated preview: top %d bottom %d; want black on top (turned clockwise)", g.GrayAt(100, 20).Y, g.GrayAt(100, 280).Y)
		}

		// Retake: the new page takes the old one's place, unrotated.
		a2 := page(t, 320, 200, Scanned, 100)
		if err := d.Replace(a.ID, a2); err != nil {
			t.Fatal(err)
		}
		if ps := d.Pages(); ps[1].ID != a2.ID || ps[1].Turns != 0 || ps[1].Width != 320 {
			t.Errorf("after retake: %+v", ps[1])
		}
		if err := d.Delete(b.ID); err != nil {
			t.Fatal(err)
		}
		for _, op := range []error{d.Delete(b.ID), d.Rotate(b.ID, 1), d.Move(b.ID, 0), d.Replace(b.ID, page(t, 10, 10, Scanned, 100))} {
			if !errors.Is(op, ErrNoPage) {
				t.Errorf("operation on a deleted page: %v, want ErrNoPage", op)
			}
		}
		if got, want := ids(d), []string{a2.ID, c.ID}; !slices.Equal(got, want) {
			t.Fatalf("after delete: %v, want %v", got, want)
		}

		if !inMemory {
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(files) != 2 {
				t.Errorf("directory holds %v, want the 2 pages' files", files)
			}
			for _, f := range files {
				fi, _ := os.Stat(f)
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
				}
			}
			if a2.JPEG() != nil {
				t.Errorf("a page stored in the directory still holds its image in memory")
			}
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if !inMemory {
			if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
				t.Errorf("after Close the directory holds %v", files)
			}
		}
		if err := d.Add(page(t, 10, 10, Scanned, 100)); !errors.Is(err, ErrClosed) {
			t.Errorf("Add after Close: %v, want ErrClosed", err)
		}
	}
}

func TestDocumentLimits(t *testing.T) {
	d, _ := NewDocument("", Limits{MaxPages: 2})
	for i := range 3 {
		err := d.Add(page(t, 50, 50, Scanned, 100))
		var le *LimitError
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 && (!errors.As(err, &le) || le.Limit != LimitPages || le.Max != 2) {
			t.Errorf("third page: %v, want a pages LimitError", err)
		}
	}
	if got := d.Limits(); got.MaxFileSize != DefaultMaxFileSize || got.MaxPages != 2 {
		t.Errorf("Limits() = %+v", got)
	}
}

// TestPrivateDirRequired: pages go only into a directory nobody else can
// read.
func TestPrivateDirRequired(t *testing.T) {
	open := t.TempDir()
	os.Chmod(open, 0o755)
	if _, err := NewDocument(open, Limits{}); !errors.Is(err, ErrNotPrivate) {
		t.Errorf("a 0755 directory: %v, want ErrNotPrivate", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := NewDocument(f, Limits{}); !errors.Is(err, ErrNotPrivate) {
		t.Errorf("a file: %v, want ErrNotPrivate", err)
	}
	if _, err := NewDocument(filepath.Join(t.TempDir(), "missing"), Limits{}); err == nil {
		t.Errorf("a missing directory was accepted")
	}
}

func TestRotateAndDownscale(t *testing.T) {
	for _, colour := range []bool{false, true} {
		img := halves(t, 40, 20, colour)
		for turns, want := range map[int][2]int{0: {40, 20}, 1: {20, 40}, 2: {40, 20}, 3: {20, 40}, -1: {20, 40}, 5: {20, 40}} {
			r := Rotate(img, turns)
			if b := r.Bounds(); b.Dx() != want[0] || b.Dy() != want[1] {
				t.Errorf("Rotate(%d) is %v, want %v", turns, b, want)
			}
		}
		// Where black ends up: clockwise → top, twice → right, anticlockwise → bottom.
		dark := func(m image.Image, x, y int) bool { r, _, _, _ := m.At(x, y).RGBA(); return r < 0x4000 }
		if r := Rotate(img, 1); !dark(r, 10, 5) || dark(r, 10, 35) {
			t.Errorf("colour=%v: one turn clockwise does not put the left half on top", colour)
		}
		if r := Rotate(img, 2); dark(r, 5, 10) || !dark(r, 35, 10) {
			t.Errorf("colour=%v: two turns do not put the left half right", colour)
		}
		if r := Rotate(img, 3); dark(r, 10, 5) || !dark(r, 10, 35) {
			t.Errorf("colour=%v: one turn anticlockwise does not put the left half at the bottom", colour)
		}
		s := Downscale(halves(t, 1000, 500, colour), 100)
		if b := s.Bounds(); b.Dx() != 100 || b.Dy() != 50 {
			t.Errorf("Downscale: %v, want 100x50", b)
		}
		if !dark(s, 10, 25) || dark(s, 90, 25) {
			t.Errorf("Downscale lost the picture")
		}
		if _, grey := s.(*image.Gray); grey == colour {
			t.Errorf("Downscale of colour=%v gave %T", colour, s)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"10MB", 10_000_000, true}, {"10 mb", 10_000_000, true}, {"2MiB", 2 << 20, true},
		{"512KiB", 512 << 10, true}, {"700kB", 700_000, true}, {"1048576", 1 << 20, true},
		{"1.5MB", 1_500_000, true}, {"1GB", 1e9, true}, {"12b", 12, true},
		{"", 0, false}, {"MB", 0, false}, {"-1MB", 0, false}, {"ten MB", 0, false},
		{"1e6", 0, false}, {"0x10", 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"10 TB", 0, false},
		{"99999999999GB", 0, false},
	} {
		var b ByteSize
		err := b.UnmarshalText([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && b != tc.want) {
			t.Errorf("%q: got %d, %v; want %d ok=%v", tc.in, b, err, tc.want, tc.ok)
		}
	}
	for b, want := range map[ByteSize]string{10_000_000: "10 MB", 2_500_000: "2.5 MB", 700_000: "700 kB", 12: "12 bytes", 3e9: "3 GB"} {
		if b.String() != want {
			t.Errorf("%d.String() = %q, want %q", int64(b), b.String(), want)
		}
	}
}

func TestCounters(t *testing.T) {
	var c Counters
	c.AddScan()
	c.AddScan()
	c.AddPhoto()
	if got := c.Take(); got != (Counts{Scans: 2, Photos: 1}) {
		t.Errorf("Take = %+v", got)
	}
	if got := c.Snapshot(); got != (Counts{}) {
		t.Errorf("after Take: %+v", got)
	}
	var nilC *Counters
	nilC.AddScan() // a scanner without counters
}

// TestDocumentConcurrent: a page flooding edits (rotate, move, delete,
// retake, previews, IDs it made up) while exports run: no race (run with
// -race), no panic, every export a readable file or a clean error.
func TestDocumentConcurrent(t *testing.T) {
	dir := privateDir(t)
	d, err := NewDocument(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var pages []*Page
	for range 6 {
		p := page(t, 120, 80, Scanned, 100)
		pages = append(pages, p)
		if err := d.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	var spare []*Page // made here: t.Fatal belongs to the test's goroutine
	for range 6 {
		spare = append(spare, page(t, 120, 80, Scanned, 100))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			p := pages[i%len(pages)]
			d.Rotate(p.ID, i)
			d.Move(p.ID, i%7)
			d.Preview(p.ID)
			d.Rotate("../../etc/passwd", 1)
			d.Delete("page-" + p.ID)
			if i%50 == 49 {
				d.Delete(p.ID)
				n := spare[i/50]
				pages[i%len(pages)] = n
				d.Add(n)
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			if i == 0 {
				t.Fatal("no export ran")
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "page-*")); len(left) != 0 {
				t.Errorf("page files left after Close: %v", left)
			}
			return
		default:
		}
		files, err := Export(context.Background(), d, ExportOptions{Accept: "application/pdf"})
		if err != nil {
			continue // a page deleted under the export: a clean error
		}
		for _, f := range files {
			if fi, err := os.Stat(f.Path); err != nil || fi.Size() == 0 {
				t.Errorf("export wrote %s: %v", f.Name, err)
			}
			os.Remove(f.Path)
		}
	}
}
