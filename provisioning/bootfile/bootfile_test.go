package bootfile

import (
	"errors"
	"strings"
	"testing"

	"accesskiosk/internal/confile"
)

// tok is shaped like a real enrolment token (api.CheckEnrolToken).
const tok = "ake_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"

const fp = "3F:A4:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"

func good() *File {
	return &File{
		Version:        1,
		Fleet:          Fleet{URL: "https://fleet.example.gov.uk:8443", Fingerprint: fp},
		Token:          tok,
		HostnamePrefix: "library",
		WiFi:           &WiFi{SSID: "Library Public", PSK: "correct horse battery"},
		SSHAuthorizedKeys: []string{
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB it@council.gov.uk",
		},
	}
}

func TestRoundTrip(t *testing.T) {
	f := good()
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("fb.yaml", data)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, data)
	}
	if got.Token != f.Token || got.WiFi.PSK != f.WiFi.PSK || got.Fleet.URL != f.Fleet.URL {
		t.Errorf("round trip: got %+v, want %+v", got, f)
	}
	if want := strings.ToLower(strings.ReplaceAll(fp, ":", "")); got.Fleet.Fingerprint != want {
		t.Errorf("fingerprint: got %q, want %q", got.Fleet.Fingerprint, want)
	}
	if !strings.HasPrefix(string(data), "# Access Kiosk first-boot file") {
		t.Errorf("no header comment:\n%s", data)
	}
}

func TestErased(t *testing.T) {
	f := good()
	e := f.Erased("dev-123")
	data, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{f.Token, f.WiFi.PSK} {
		if strings.Contains(string(data), secret) {
			t.Errorf("erased file still holds %q:\n%s", secret, data)
		}
	}
	got, err := Parse("fb.yaml", data)
	if err != nil {
		t.Fatalf("erased file does not parse: %v\n%s", err, data)
	}
	if !got.SecretsErased || got.DeviceID != "dev-123" || got.WiFi.SSID != "Library Public" {
		t.Errorf("got %+v", got)
	}
	if f.Token == "" || f.WiFi.PSK == "" {
		t.Error("Erased changed the original")
	}
}

func TestParseRefuses(t *testing.T) {
	base := "version: 1\nfleet:\n  url: https://fleet.example:8443\n  fingerprint: " + fp + "\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "fb.yaml:1: config is empty"},
		{"unknown key", base + "token: " + tok + "\ntokne: x\n", "fb.yaml:6: tokne: unknown key"},
		{"no version", "fleet:\n  url: https://x\n", "fb.yaml: version: missing"},
		{"version 2", strings.Replace(base, "version: 1", "version: 2", 1) + "token: " + tok + "\n", "fb.yaml:1: version: this agent reads version 1, got 2"},
		{"http", strings.Replace(base, "https://", "http://", 1) + "token: " + tok + "\n", "fb.yaml:3: fleet.url: want an https:// address"},
		{"path", strings.Replace(base, "8443", "8443/api", 1) + "token: " + tok + "\n", "fb.yaml:3: fleet.url: want just https://HOST[:PORT]"},
		{"short fingerprint", strings.Replace(base, fp, "AB:CD", 1) + "token: " + tok + "\n", "fb.yaml:4: fleet.fingerprint: want a SHA-256 fingerprint (64 hex digits, colons allowed), got 4"},
		{"no token", base, "fb.yaml: token: missing"},
		{"token with space", base + "token: ake_abcdefgh jklmnopqrstuvwxyz234567abcdefghijklmnopqrst\n", "fb.yaml:5: token: an enrolment token has only lower-case letters"},
		{"staff token", base + "token: akapi_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst\n", "fb.yaml:5: token: this is a staff API token"},
		{"truncated token", base + "token: ake_abcdefghijklmnopqrstuvwxyz\n", "fb.yaml:5: token: an enrolment token has 56 characters, this one 30: was it cut short"},
		{"bad prefix", base + "token: " + tok + "\nhostname_prefix: Kiosk_1\n", "fb.yaml:6: hostname_prefix: want lower-case"},
		{"wifi no psk", base + "token: " + tok + "\nwifi:\n  ssid: Lib\n", "fb.yaml:7: wifi.psk: missing"},
		{"wifi short psk", base + "token: " + tok + "\nwifi:\n  ssid: Lib\n  psk: short\n", "fb.yaml:8: wifi.psk: a WPA passphrase has 8 to 63 characters, got 5"},
		{"wifi open with psk", base + "token: " + tok + "\nwifi:\n  ssid: Lib\n  psk: longenough\n  open: true\n", "fb.yaml:8: wifi.psk: open is true"},
		{"ssid too long", base + "token: " + tok + "\nwifi:\n  ssid: " + strings.Repeat("x", 33) + "\n  open: true\n", "fb.yaml:7: wifi.ssid: is 33 bytes"},
		{"private ssh key", base + "token: " + tok + "\nssh_authorized_keys:\n  - -----BEGIN OPENSSH PRIVATE KEY----- abc\n", "fb.yaml:7: ssh_authorized_keys[0]: this is a private key"},
		{"erased with token", base + "token: " + tok + "\nsecrets_erased: true\n", "fb.yaml:5: token: secrets_erased is true but a token is present"},
		{"wrong type", base + "token: [a, b]\n", "fb.yaml:5: token: want text"},
		{"bad yaml", base + "token: " + tok + "\n  x: : y\n", "fb.yaml:6: not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("fb.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.in)
			}
			var ce *confile.Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *confile.Error", err)
			}
			if got := err.Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %q\nwant prefix %q", got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	data, _ := good().Marshal()
	f.Add(data)
	f.Add([]byte("version: 1\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse("fuzz.yaml", in)
		if err != nil {
			return
		}
		out, err := file.Marshal()
		if err != nil {
			t.Fatalf("parsed file does not marshal: %v", err)
		}
		if _, err := Parse("again.yaml", out); err != nil {
			t.Fatalf("marshalled file does not parse: %v\n%s", err, out)
		}
	})
}
