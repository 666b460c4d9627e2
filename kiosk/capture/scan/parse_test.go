package scan

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestParseOptionsTestBackend parses what the real scanimage prints for
// SANE's test backend.
func TestParseOptionsTestBackend(t *testing.T) {
	env := saneTest(t, nil)
	cmd := exec.Command("scanimage", "--device-name=test", "--all-options")
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	o := parseOptions(string(out))
	if !slices.Equal(o.modes, []string{"Gray", "Color"}) || o.resMin != 1 || o.resMax != 1200 ||
		!slices.Equal(o.depths, []int{1, 8, 16}) || o.depthNow != 8 ||
		!slices.Equal(o.sources, []string{"Flatbed", "Automatic Document Feeder"}) {
		t.Errorf("parsed %+v", o)
	}
	if got := o.args("test", Grey, 200, ""); !slices.Equal(got, []string{"--device-name=test", "--format=pnm", "--mode=Gray", "--resolution=200"}) {
		t.Errorf("args: %q", got)
	}
}

// TestParseOptionsBackends: option lines as other backends print them
// (the values differ; the option names are SANE's well-known ones).
func TestParseOptionsBackends(t *testing.T) {
	for _, tc := range []struct {
		name      string
		out       string
		colour    string
		grey      string
		res       int // for 200 asked
		depthArgs bool
	}{
		{"epson2", "  Scan Mode:\n    --mode Lineart|Gray|Color [Lineart]\n    --depth 8|16 [inactive]\n    --resolution 75|150|300|600|1200dpi [75]\n    --source Flatbed [Flatbed]\n",
			"Color", "Gray", 150, false},
		{"brother4", "    --mode Black & White|Gray[Error Diffusion]|True Gray|24bit Color|24bit Color[Fast] [24bit Color]\n    --resolution 100|150|200|300|400|600|1200|2400|4800|9600dpi [200]\n",
			"24bit Color", "True Gray", 200, false},
		{"airscan", "    --mode Color|Gray [Color]\n    --resolution 75..600dpi [300]\n", "Color", "Gray", 200, false},
		{"only colour", "    --mode Colour [Colour]\n    --resolution 300dpi [300]\n    --depth 8|16 [16]\n", "Colour", "", 300, true},
		{"no options", "", "", "", 200, false},
	} {
		o := parseOptions(tc.out)
		if got := o.modeName(Colour); got != tc.colour {
			t.Errorf("%s: colour mode %q, want %q", tc.name, got, tc.colour)
		}
		if got := o.modeName(Grey); got != tc.grey {
			t.Errorf("%s: grey mode %q, want %q", tc.name, got, tc.grey)
		}
		if got := o.resolution(200); got != tc.res {
			t.Errorf("%s: resolution for 200: %d, want %d", tc.name, got, tc.res)
		}
		args := strings.Join(o.args("dev", Grey, 200, "ADF"), " ")
		if strings.Contains(args, "--depth=8") != tc.depthArgs {
			t.Errorf("%s: args %q", tc.name, args)
		}
		if tc.grey == "" && tc.colour != "" && !strings.Contains(args, "--mode="+tc.colour) {
			t.Errorf("%s: grey asked of a colour-only device: args %q, want its colour mode (made grey here)", tc.name, args)
		}
		if !strings.HasSuffix(args, "--source=ADF") {
			t.Errorf("%s: args %q lack the source", tc.name, args)
		}
	}
	if got := parseOptions("    --resolution 50..2400dpi (in steps of 1) [200]\n").resolution(4800); got != 2400 {
		t.Errorf("clamped resolution %d, want 2400", got)
	}
}

func TestPNM(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   string
		grey   bool
		w, h   int
		colour bool
		px     [][3]uint8 // first row's pixels as RGB
	}{
		{"P5 with comment", "P5\n# SANE data follows\n2 1\n255\n\x00\xff", false, 2, 1, false, [][3]uint8{{0, 0, 0}, {255, 255, 255}}},
		{"P6", "P6\n2 1\n255\n\xff\x00\x00\x00\x00\xff", false, 2, 1, true, [][3]uint8{{255, 0, 0}, {0, 0, 255}}},
		{"P6 made grey", "P6\n1 1\n255\n\xff\xff\xff", true, 1, 1, false, [][3]uint8{{255, 255, 255}}},
		{"P5 16-bit", "P5\n2 1\n65535\n\x80\x00\xff\xff", false, 2, 1, false, [][3]uint8{{127, 127, 127}, {255, 255, 255}}},
		{"P4 bitmap", "P4\n10 1\n\x80\x40", false, 10, 1, false, [][3]uint8{{0, 0, 0}, {255, 255, 255}}},
	} {
		r := bufio.NewReader(strings.NewReader(tc.data))
		h, err := readPNMHeader(r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var rows []int
		img, err := readPNMPixels(r, h, tc.grey, func(n int) { rows = append(rows, n) })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
			t.Errorf("%s: %v", tc.name, b)
		}
		if _, isRGBA := img.(*image.RGBA); isRGBA != tc.colour {
			t.Errorf("%s: %T", tc.name, img)
		}
		for x, want := range tc.px {
			r, g, b, _ := img.At(x, 0).RGBA()
			if got := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}; got != want {
				t.Errorf("%s: pixel %d = %v, want %v", tc.name, x, got, want)
			}
		}
		if len(rows) == 0 || rows[len(rows)-1] != tc.h {
			t.Errorf("%s: progress %v", tc.name, rows)
		}
	}
	for _, bad := range []string{"", "P3\n1 1\n255\n", "P5\n0 1\n255\n", "P5\n1 1\n70000\n", "P5 x 1 255 ", "P5\n99999999999 1\n255\n"} {
		if _, err := readPNMHeader(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
	r := bufio.NewReader(strings.NewReader("P5\n4 4\n255\n\x00\x00\x00"))
	h, _ := readPNMHeader(r)
	if _, err := readPNMPixels(r, h, false, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short image: %v", err)
	}
}

// FuzzPNM: whatever a broken driver writes, reading it never panics and
// never allocates past the page limit.
func FuzzPNM(f *testing.F) {
	f.Add([]byte("P5\n2 1\n255\n\x00\xff"))
	f.Add([]byte("P6\n# c\n1 1\n65535\n\x00\x01\x02\x03\x04\x05"))
	f.Add([]byte("P4\n9 2\n\xff\x80\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		h, err := readPNMHeader(r)
		if err != nil {
			return
		}
		if pixelsOK(h, 1<<20) != nil {
			return
		}
		readPNMPixels(r, h, len(data)%2 == 0, nil)
	})
}

func TestDeviceError(t *testing.T) {
	exit := errors.New("exit status 1")
	for _, tc := range []struct {
		stderr string
		want   error
		text   string
	}{
		{"Output format is not set, using pnm as a default.\nscanimage: open of device test:7 failed: Invalid argument\n", ErrAbsent, "open of device test:7 failed: Invalid argument"},
		{"scanimage: open of device epson2:libusb:001:004 failed: Device busy\n", ErrBusy, "Device busy"},
		{"Progress: 10.0%\rscanimage: sane_start: Document feeder out of documents\n", ErrNoDocument, "feeder"},
		{"scanimage: sane_read: Error during device I/O\nscanimage: received signal 15\n", nil, "scanner: sane_read: Error during device I/O"},
		{"", nil, "exit status 1"},
	} {
		err := deviceError(exit, tc.stderr)
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.stderr, err, tc.want)
		}
		if !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%q: %q does not say %q", tc.stderr, err, tc.text)
		}
	}
}
