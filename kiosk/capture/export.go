package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// ExportOptions says what the asking <input type=file> takes.
type ExportOptions struct {
	// Accept is the input's accept attribute as the page wrote it; ""
	// accepts any file.
	Accept string
	// Multiple is the input's multiple attribute: several files may be
	// chosen at once.
	Multiple bool
	// Name is the file name without extension: lower-case letters, digits
	// and "-". "" means "scan" when a page was scanned, "photo" otherwise.
	// A file of that name already in the directory gets "-2", "-3", ...
	Name string
	// Dir is the private directory the files go into; "" means the
	// document's own directory (so it is required for a document kept in
	// memory).
	Dir string
	// Prefer is the order formats are tried in; nil means PDF, JPEG, PNG
	// when a page was scanned and JPEG, PNG, PDF for photos only.
	Prefer []Format
}

// File is one file Export wrote, to hand to the page.
type File struct {
	Path  string // absolute or as Dir was given
	Name  string // base name, e.g. "scan.pdf"
	MIME  string // e.g. "application/pdf"
	Pages int    // pages it holds
}

// Export writes d as the files an input with o.Accept and o.Multiple takes:
// one PDF of every page when PDF is accepted (and preferred), or one JPEG
// (or PNG) per page. It fails with ErrNotAccepted when the input takes none
// of these, ErrOnePageOnly when it takes one image and d has several pages,
// ErrEmpty for a document without pages, and a *LimitError when a file
// would pass the document's MaxFileSize. On any failure no file is left.
//
// Writing a PDF embeds each page's JPEG as it is (rotation is a transform
// in the PDF), so it takes milliseconds; a JPEG of a rotated page, or a
// PNG, is decoded and encoded again. Run it off the GTK loop.
func Export(ctx context.Context, d *Document, o ExportOptions) ([]File, error) {
	pages, err := d.snapshot()
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, ErrEmpty
	}
	dir := o.Dir
	if dir == "" {
		dir = d.dir
	}
	if dir == "" {
		return nil, errors.New("export: no directory: the document is in memory and ExportOptions.Dir is empty")
	}
	if err := CheckPrivateDir(dir); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	scanned := false
	for _, p := range pages {
		scanned = scanned || p.info.Source == Scanned
	}
	name := o.Name
	if name == "" {
		name = "photo"
		if scanned {
			name = "scan"
		}
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("export: file name %q: want lower-case letters, digits and -", name)
	}
	prefer := o.Prefer
	if prefer == nil {
		prefer = []Format{JPEG, PNG, PDF}
		if scanned {
			prefer = []Format{PDF, JPEG, PNG}
		}
	}

	acc := ParseAccept(o.Accept)
	usable := prefer
	if len(pages) > 1 && !o.Multiple {
		usable = nil
		for _, f := range prefer {
			if f.MultiPage {
				usable = append(usable, f)
			}
		}
	}
	f, ext, ok := acc.Choose(usable...)
	if !ok {
		if _, _, any := acc.Choose(prefer...); any {
			return nil, ErrOnePageOnly
		}
		return nil, ErrNotAccepted
	}

	blobs, err := encode(ctx, pages, f, d.lim.maxFileSize())
	if err != nil {
		return nil, err
	}
	return writeFiles(dir, name, ext, f, len(pages), blobs)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// createUnique writes data to dir/base+ext, or base-2+ext, ... (never over
// an existing file), mode 0600.
func createUnique(dir, base, ext string, data []byte) (string, error) {
	for n := 1; n <= 1000; n++ {
		name := base + ext
		if n > 1 {
			name = base + "-" + strconv.Itoa(n) + ext
		}
		path := filepath.Join(dir, name)
		err := writePrivate(path, data)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("too many files named %s in the directory", base+ext)
}

// PDF geometry, in points (1/72 inch).
const (
	a4W, a4H     = 595.28, 841.89
	photoMargin  = 28.35 // 10 mm
	pointsPerInc = 72.0
)

// writePDF makes one PDF of the pages. A scanned page is its true size
// (pixels / DPI); a photo is fitted on an A4 page turned its way. Each
// page's JPEG goes in unchanged; rotation is a transform.
func writePDF(ctx context.Context, pages []snap) ([]byte, error) {
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: a4W, Ht: a4H}})
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.SetCompression(true)
	now := time.Now().UTC()
	pdf.SetCreationDate(now)
	pdf.SetModificationDate(now)
	pdf.SetProducer("Access Kiosk", false)
	for i, p := range pages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := p.image()
		if err != nil {
			return nil, fmt.Errorf("pdf: %w", err)
		}
		// The unrotated image's size on the page, and the page's size.
		var iw, ih, pw, ph float64
		if p.info.Source == Scanned && p.info.DPI > 0 {
			iw = float64(p.info.Width) * pointsPerInc / float64(p.info.DPI)
			ih = float64(p.info.Height) * pointsPerInc / float64(p.info.DPI)
			pw, ph = iw, ih // already rotated: info has the shown size
			if p.info.Turns%2 == 1 {
				iw, ih = ih, iw
			}
		} else {
			pw, ph = a4W, a4H
			if p.info.Width > p.info.Height {
				pw, ph = a4H, a4W
			}
			sw, sh := float64(p.info.Width), float64(p.info.Height) // shown size, px
			scale := min((pw-2*photoMargin)/sw, (ph-2*photoMargin)/sh)
			iw, ih = sw*scale, sh*scale
			if p.info.Turns%2 == 1 {
				iw, ih = ih, iw
			}
		}
		// "P" takes the size as given; "L" would swap it.
		pdf.AddPageFormat("P", fpdf.SizeType{Wd: pw, Ht: ph})
		img := "p" + strconv.Itoa(i)
		opt := fpdf.ImageOptions{ImageType: "JPG", AllowNegativePosition: true}
		pdf.RegisterImageOptionsReader(img, opt, bytes.NewReader(data))
		if p.info.Turns != 0 {
			pdf.TransformBegin()
			pdf.TransformRotate(-90*float64(p.info.Turns), pw/2, ph/2)
		}
		pdf.ImageOptions(img, (pw-iw)/2, (ph-ih)/2, iw, ih, false, opt, 0, "")
		if p.info.Turns != 0 {
			pdf.TransformEnd()
		}
		if pdf.Err() {
			return nil, fmt.Errorf("pdf: page %d: %w", i+1, pdf.Error())
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// writeImage returns one page as f (JPEG or PNG), rotated. An unrotated
// page as JPEG is its stored JPEG as it is.
func writeImage(ctx context.Context, p snap, f Format) ([]byte, error) {
	data, err := p.image()
	if err != nil {
		return nil, err
	}
	if f.MIME == JPEG.MIME && p.info.Turns == 0 {
		return data, nil
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("export page %s: %w", p.info.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out image.Image = Rotate(img, p.info.Turns)
	var buf bytes.Buffer
	switch f.MIME {
	case JPEG.MIME:
		err = jpeg.Encode(&buf, out, &jpeg.Options{Quality: PageQuality})
	case PNG.MIME:
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, out)
	default:
		err = fmt.Errorf("cannot write %s", f.MIME)
	}
	if err != nil {
		return nil, fmt.Errorf("export page %s: %w", p.info.ID, err)
	}
	return buf.Bytes(), nil
}

// encode writes the pages in format f: one PDF of every page, or an image a
// page; each must fit limit.
func encode(ctx context.Context, pages []snap, f Format, limit int64) ([][]byte, error) {
	var blobs [][]byte
	if f.MultiPage {
		b, err := writePDF(ctx, pages)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, b)
	} else {
		for _, p := range pages {
			b, err := writeImage(ctx, p, f)
			if err != nil {
				return nil, err
			}
			blobs = append(blobs, b)
		}
	}
	for _, b := range blobs {
		if int64(len(b)) > limit {
			return nil, &LimitError{Limit: LimitFileSize, Max: limit}
		}
	}

	return blobs, nil
}

// writeFiles writes blobs into dir as name.ext (name-N.ext when there are
// several), removing what it wrote when one fails.
func writeFiles(dir, name, ext string, f Format, npages int, blobs [][]byte) ([]File, error) {
	var files []File
	for i, b := range blobs {
		base := name
		if len(blobs) > 1 {
			base = name + "-" + strconv.Itoa(i+1)
		}
		path, err := createUnique(dir, base, ext, b)
		if err != nil {
			for _, f := range files {
				os.Remove(f.Path)
			}
			return nil, fmt.Errorf("export: %w", err)
		}
		n := 1
		if f.MultiPage {
			n = npages
		}
		files = append(files, File{Path: path, Name: filepath.Base(path), MIME: f.MIME, Pages: n})
	}
	return files, nil
}
