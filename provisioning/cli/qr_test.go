package cli

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"

	"accesskiosk/fleet/realfleet"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads a QR code in img with ZXing's decoder (gozxing).
func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	return res.GetText()
}

// terminalQR turns the QR code printed with half-block characters back
// into an image, as a dark-background terminal shows it: a block is lit
// (white), a space is dark.
func terminalQR(t testing.TB, out string) image.Image {
	t.Helper()
	var rows [][]bool // true: white
	for _, line := range strings.Split(out, "\n") {
		if !strings.ContainsAny(line, "█▀▄") {
			continue
		}
		var top, bottom []bool
		for _, r := range line {
			switch r {
			case '█':
				top, bottom = append(top, true), append(bottom, true)
			case '▀':
				top, bottom = append(top, true), append(bottom, false)
			case '▄':
				top, bottom = append(top, false), append(bottom, true)
			case ' ':
				top, bottom = append(top, false), append(bottom, false)
			}
		}
		if strings.Trim(line, "▀") == "" {
			// go-qrcode prints an odd last row (the white border) as
			// upper halves only.
			rows = append(rows, top)
			continue
		}
		rows = append(rows, top, bottom)
	}
	if len(rows) == 0 {
		t.Fatalf("no QR code in the output:\n%s", out)
	}
	const px = 4
	img := image.NewGray(image.Rect(0, 0, len(rows[0])*px, len(rows)*px))
	for y, row := range rows {
		for x, white := range row {
			c := color.Gray{0}
			if white {
				c = color.Gray{255}
			}
			for dy := range px {
				for dx := range px {
					img.SetGray(x*px+dx, y*px+dy, c)
				}
			}
		}
	}
	return img
}

func TestTokenQRCodeScans(t *testing.T) {
	f := realfleet.Start(t)
	env := map[string]string{APITokenEnv: f.APIToken}
	if _, err := run(t, env, "site", "create", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--id", "central"); err != nil {
		t.Fatal(err)
	}
	pngPath := t.TempDir() + "/qr.png"
	out, err := run(t, env, "token", "create", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--site", "central", "--qr-png", pngPath)
	if err != nil {
		t.Fatal(err)
	}
	token := tokenRE.FindStringSubmatch(out)[1]
	if got := decodeQR(t, terminalQR(t, out)); got != token {
		t.Errorf("printed QR code reads %q, want the token %q", got, token)
	}
	data, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, img); got != token {
		t.Errorf("PNG QR code reads %q, want the token %q", got, token)
	}
}
