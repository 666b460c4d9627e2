// Package bootfile defines the first-boot file: the small YAML file that
// `provision config` writes, `provision write` puts on a kiosk image's FAT
// boot partition, and `agent firstboot` reads once on the device's first
// boot to enrol it with the fleet.
//
// The file lives in the root of the boot partition as FileName
// (/boot/firmware/accesskiosk-firstboot.yaml on a Raspberry Pi, the EFI
// system partition on x86). It holds one secret the device needs only once,
// the enrolment token, and optionally a Wi-Fi passphrase. `agent firstboot`
// erases both from the boot partition as soon as the device's own credential
// is safely stored; the rewritten file keeps the non-secret keys and says
// secrets_erased: true.
//
// Format (version 1), decoded strictly with confile, so an unknown key, a
// wrong type or a bad value is refused with FILE:LINE: KEY: what is wrong:
//
//	# Access Kiosk first-boot file. It holds a secret: keep it private.
//	version: 1                        # required, 1
//	fleet:
//	  url: https://fleet.example.gov.uk:8443   # required, https only
//	  fingerprint: 3f:a4:...:9c       # required: SHA-256 of the fleet's TLS certificate (64 hex digits, colons optional)
//	token: ake_...                    # the enrolment token from `provision token create` (56 characters); required until erased;
//	                                  # never a staff API token (akapi_...), which is refused
//	hostname_prefix: kiosk            # optional (default kiosk): hostname is PREFIX-XXXXXX from the device identity
//	wifi:                             # optional: leave out for wired networks
//	  ssid: Library Public            # 1 to 32 bytes
//	  psk: "correct horse battery"    # WPA2/WPA3 personal passphrase, 8 to 63 characters (or 64 hex digits)
//	  open: false                     # true for a network without a passphrase (then psk must be empty)
//	  hidden: false                   # true when the network does not broadcast its name
//	ssh_authorized_keys:              # optional: OpenSSH public keys allowed to log in; no keys, no SSH
//	  - ssh-ed25519 AAAA... it@council.gov.uk
//	secrets_erased: false             # set by agent firstboot once the token and psk are gone
//	device_id: ""                     # set by agent firstboot: the id the fleet gave this device
package bootfile

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/ident"
	"accesskiosk/internal/pin"
)

// FileName is the first-boot file's name in the root of the boot partition.
const FileName = "accesskiosk-firstboot.yaml"

// Version is the format version this package reads and writes.
const Version = 1

// DefaultHostnamePrefix is used when the file names no hostname_prefix.
const DefaultHostnamePrefix = "kiosk"

// File is the first-boot file.
type File struct {
	// Version of the format; must be Version.
	Version int   `yaml:"version"`
	Fleet   Fleet `yaml:"fleet"`
	// Token is the enrolment token (ake_..., api.CheckEnrolToken); "" once
	// erased (then SecretsErased is true).
	Token string `yaml:"token,omitempty"`
	// HostnamePrefix starts the device's hostname; "" means DefaultHostnamePrefix.
	HostnamePrefix string `yaml:"hostname_prefix,omitempty"`
	// WiFi, when not nil, is the wireless network to join; nil for wired only.
	WiFi *WiFi `yaml:"wifi,omitempty"`
	// SSHAuthorizedKeys are OpenSSH public key lines; none means no SSH.
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys,omitempty"`
	// SecretsErased is true once agent firstboot has removed the token and
	// the Wi-Fi passphrase from the boot partition.
	SecretsErased bool `yaml:"secrets_erased,omitempty"`
	// DeviceID is the fleet's id for this device, written with SecretsErased.
	DeviceID string `yaml:"device_id,omitempty"`
}

// Fleet says where the fleet server is and how to recognise it.
type Fleet struct {
	// URL is the fleet server's base URL, https://HOST[:PORT].
	URL string `yaml:"url"`
	// Fingerprint is the SHA-256 of the fleet's TLS certificate (DER), as
	// 64 hex digits; colons and a "sha256:" prefix are accepted on input.
	Fingerprint string `yaml:"fingerprint"`
}

// WiFi is one wireless network.
type WiFi struct {
	SSID string `yaml:"ssid"`
	// PSK is the WPA passphrase; "" for an open network or once erased.
	PSK string `yaml:"psk,omitempty"`
	// Open is true for a network with no passphrase.
	Open bool `yaml:"open,omitempty"`
	// Hidden is true for a network that does not broadcast its SSID.
	Hidden bool `yaml:"hidden,omitempty"`
}

// Parse decodes and validates a first-boot file's bytes; name is used in
// errors. Every problem is a *confile.Error naming name, the line and the key.
func Parse(name string, data []byte) (*File, error) {
	var f File
	doc, err := confile.Decode(name, data, &f)
	if err != nil {
		return nil, err
	}
	if err := f.validate(doc); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate checks f as Parse does, for a File built in code (errors then
// name "first-boot file" and no line).
func (f *File) Validate() error {
	return f.validate(&confile.Doc{File: "first-boot file"})
}

func (f *File) validate(doc *confile.Doc) error {
	if f.Version != Version {
		if f.Version == 0 {
			return doc.Errorf("version", "missing: want version: %d", Version)
		}
		return doc.Errorf("version", "this agent reads version %d, got %d", Version, f.Version)
	}
	if f.Fleet.URL == "" {
		return doc.Errorf("fleet.url", "missing: want the fleet server's https:// address")
	}
	if err := CheckFleetURL(f.Fleet.URL); err != nil {
		return doc.Errorf("fleet.url", "%v", err)
	}
	if f.Fleet.Fingerprint == "" {
		return doc.Errorf("fleet.fingerprint", "missing: want the SHA-256 fingerprint the fleet server printed")
	}
	fp, err := pin.Parse(f.Fleet.Fingerprint)
	if err != nil {
		return doc.Errorf("fleet.fingerprint", "%v", err)
	}
	f.Fleet.Fingerprint = fp.Hex()
	switch {
	case f.SecretsErased && f.Token != "":
		return doc.Errorf("token", "secrets_erased is true but a token is present")
	case !f.SecretsErased && f.Token == "":
		return doc.Errorf("token", "missing: want the enrolment token from `provision token create`")
	case f.Token != "":
		if err := CheckToken(f.Token); err != nil {
			return doc.Errorf("token", "%v", err)
		}
	}
	if f.HostnamePrefix != "" {
		if err := CheckHostnamePrefix(f.HostnamePrefix); err != nil {
			return doc.Errorf("hostname_prefix", "%v", err)
		}
	}
	if w := f.WiFi; w != nil {
		if w.SSID == "" {
			return doc.Errorf("wifi.ssid", "missing: want the network's name")
		}
		if len(w.SSID) > 32 {
			return doc.Errorf("wifi.ssid", "is %d bytes; a Wi-Fi network name is at most 32", len(w.SSID))
		}
		switch {
		case w.Open && w.PSK != "":
			return doc.Errorf("wifi.psk", "open is true, so there must be no psk")
		case !w.Open && w.PSK == "" && !f.SecretsErased:
			return doc.Errorf("wifi.psk", "missing: want the passphrase, or open: true for a network without one")
		case w.PSK != "":
			if err := CheckPSK(w.PSK); err != nil {
				return doc.Errorf("wifi.psk", "%v", err)
			}
		}
	}
	for i, k := range f.SSHAuthorizedKeys {
		if err := CheckSSHKey(k); err != nil {
			return doc.Errorf(fmt.Sprintf("ssh_authorized_keys[%d]", i), "%v", err)
		}
	}
	if f.SecretsErased && f.WiFi != nil && f.WiFi.PSK != "" {
		return doc.Errorf("wifi.psk", "secrets_erased is true but a psk is present")
	}
	if f.DeviceID != "" && !ident.Printable.Valid(f.DeviceID) {
		return doc.Errorf("device_id", "want up to 128 printable characters")
	}
	return nil
}

// Prefix returns the hostname prefix to use.
func (f *File) Prefix() string {
	if f.HostnamePrefix == "" {
		return DefaultHostnamePrefix
	}
	return f.HostnamePrefix
}

// Erased returns a copy of f without its secrets (token, Wi-Fi passphrase),
// marked as erased and carrying deviceID.
func (f *File) Erased(deviceID string) *File {
	g := *f
	g.Token = ""
	g.SecretsErased = true
	g.DeviceID = deviceID
	if f.WiFi != nil {
		w := *f.WiFi
		w.PSK = ""
		g.WiFi = &w
	}
	g.SSHAuthorizedKeys = append([]string(nil), f.SSHAuthorizedKeys...)
	return &g
}

const header = `# Access Kiosk first-boot file (format version 1), read once by "agent firstboot".
# It holds an enrolment token%s: keep it private. The device erases the
# secrets from this file as soon as it has enrolled.
`

const erasedHeader = `# Access Kiosk first-boot file (format version 1). This device has enrolled:
# agent firstboot erased the enrolment token and any Wi-Fi passphrase.
`

// Marshal returns the file's text. It validates f first.
func (f *File) Marshal() ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	switch {
	case f.SecretsErased:
		b.WriteString(erasedHeader)
	case f.WiFi != nil && f.WiFi.PSK != "":
		fmt.Fprintf(&b, header, " and a Wi-Fi passphrase")
	default:
		fmt.Fprintf(&b, header, "")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode first-boot file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode first-boot file: %w", err)
	}
	return b.Bytes(), nil
}

// CheckFleetURL accepts https://HOST[:PORT] with no path beyond "/", no
// query and no user info.
func CheckFleetURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %q", s)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("want an https:// address (the token must not cross the network in clear), got %q", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("no host in %q", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("want just https://HOST[:PORT], got %q", s)
	}
	return nil
}

// CheckToken accepts an enrolment token of the fleet's shape
// (api.CheckEnrolToken): a staff API token, a token cut short or anything
// else is refused, so that no other secret is ever written on a card.
func CheckToken(t string) error { return api.CheckEnrolToken(t) }

// CheckHostnamePrefix accepts 1 to 50 lower-case letters, digits and
// hyphens, starting with a letter and not ending with a hyphen, so that
// PREFIX-XXXXXX is a valid host name.
func CheckHostnamePrefix(p string) error {
	c := ident.HostnamePrefix
	if len(p) < c.Min || len(p) > c.Max {
		return fmt.Errorf("want %d to %d characters, got %d", c.Min, c.Max, len(p))
	}
	if strings.HasSuffix(p, "-") {
		return fmt.Errorf("must not end with a hyphen: %q", p)
	}
	if !c.Chars(p) {
		return fmt.Errorf("want lower-case letters, digits and hyphens, starting with a letter, got %q", p)
	}
	return nil
}

// CheckPSK accepts a WPA passphrase: 8 to 63 printable ASCII characters, or
// 64 hex digits (a raw key).
func CheckPSK(p string) error {
	if len(p) == 64 {
		if _, err := hex.DecodeString(p); err == nil {
			return nil
		}
	}
	if len(p) < 8 || len(p) > 63 {
		return fmt.Errorf("a WPA passphrase has 8 to 63 characters, got %d", len(p))
	}
	for _, c := range p {
		if c < ' ' || c > '~' {
			return fmt.Errorf("a WPA passphrase has printable ASCII characters only")
		}
	}
	return nil
}

// CheckSSHKey accepts one OpenSSH public key line: TYPE BASE64 [COMMENT].
func CheckSSHKey(k string) error {
	fields := strings.Fields(k)
	if len(fields) < 2 || strings.ContainsAny(k, "\r\n") {
		return fmt.Errorf("want one OpenSSH public key line (TYPE KEY [COMMENT])")
	}
	switch fields[0] {
	case "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com":
	default:
		if strings.Contains(k, "PRIVATE KEY") {
			return fmt.Errorf("this is a private key; give the public key (.pub)")
		}
		return fmt.Errorf("unknown key type %q", fields[0])
	}
	return nil
}
