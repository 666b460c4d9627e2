package scan

import (
	"errors"
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
	if got := o.args("test", Grey, 200, ""); !slices.Equal(got, []string{"--device-name=test", "--format=jpeg", "--progress", "--mode=Gray", "--resolution=200"}) {
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

func TestProgressWriter(t *testing.T) {
	var got []float64
	w := &progressWriter{progress: func(f float64) { got = append(got, f) }}
	for _, chunk := range []string{"Output format is not set\n", "Progress: 0.4%\rProg", "ress: 50.0%\rProgress: 100.0%\r", "Progress: 250%\r", "scanimage: sane_read: Error during device I/O\n"} {
		w.Write([]byte(chunk))
	}
	if !slices.Equal(got, []float64{0.004, 0.5, 1}) {
		t.Errorf("progress %v", got)
	}
	if lastMessage(w.String()) != "sane_read: Error during device I/O" {
		t.Errorf("last message %q", lastMessage(w.String()))
	}
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
