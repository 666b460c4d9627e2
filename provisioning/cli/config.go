package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
	"accesskiosk/provisioning/bootfile"
)

const configSynopsis = "--fleet URL --fingerprint FP --token-file FILE [--offline] [--wifi-ssid SSID (--wifi-psk-file FILE | --wifi-open)] [--wifi-hidden] [--ssh-key FILE]... [--hostname-prefix PREFIX] [--out FILE]"

// configFlags are `provision config`'s flags.
type configFlags struct {
	fleet            fleetFlags
	token, tokenFile string
	offline          bool
	ssid, pskFile    string
	open, hidden     bool
	sshKeys          multi
	prefix, out      string
	tokenFlag        string // the flag the token came from, for errors
}

func (c *configFlags) register(fs *cmdline.FlagSet) {
	c.fleet.register(fs)
	fs.Lookup("fingerprint").Usage = "the SHA-256 fingerprint `FP` of the fleet's TLS certificate, as `fleet serve` printed it (required: the kiosk trusts exactly that certificate)"
	fs.StringVar(&c.tokenFile, "token-file", "", "`FILE` holding the enrolment token from `provision token create` (so that it is not on the command line)")
	fs.StringVar(&c.token, "token", "", "the enrolment `TOKEN` itself; prefer --token-file: other users can read command lines")
	fs.BoolVar(&c.offline, "offline", false, "write the file without asking the fleet that the token is live and the fingerprint is its own")
	fs.StringVar(&c.ssid, "wifi-ssid", "", "Wi-Fi network name `SSID` (leave out for wired networks)")
	fs.StringVar(&c.pskFile, "wifi-psk-file", "", "`FILE` holding the Wi-Fi passphrase (never given on the command line)")
	fs.BoolVar(&c.open, "wifi-open", false, "the Wi-Fi network has no passphrase")
	fs.BoolVar(&c.hidden, "wifi-hidden", false, "the Wi-Fi network does not broadcast its name")
	fs.Var(&c.sshKeys, "ssh-key", "OpenSSH public key `FILE` allowing SSH logins (repeatable); without one the kiosk runs no SSH")
	fs.StringVar(&c.prefix, "hostname-prefix", bootfile.DefaultHostnamePrefix, "kiosks are named `PREFIX`-XXXXXX")
	fs.StringVar(&c.out, "out", bootfile.FileName, "the first-boot `FILE` to write (mode 0600)")
}

// config is `provision config`: check the flags, ask the fleet about the
// token (unless --offline), write the first-boot file.
func config(ctx context.Context, args []string, env Env) error {
	fs := flagSet("config", configSynopsis)
	var c configFlags
	c.register(fs)
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	f, err := c.file()
	if err != nil {
		return err
	}
	if !c.offline {
		if err := c.check(ctx, env, f); err != nil {
			return err
		}
	}
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(c.out, data, 0o600); err != nil {
		return err
	}
	what := "the enrolment token"
	if f.WiFi != nil && f.WiFi.PSK != "" {
		what += " and the Wi-Fi passphrase"
	}
	fmt.Fprintf(env.Stdout, "wrote %s (mode 0600; it holds %s)\nNext: provision write --config %s --image IMAGE.img (or --device /dev/sdX for a card, as root)\n", c.out, what, c.out)
	return nil
}

// file builds the first-boot file from the flags; every problem is a flag
// error.
func (c *configFlags) file() (*bootfile.File, error) {
	switch {
	case c.fleet.url == "":
		return nil, confile.FlagError("fleet", "missing: want the fleet server's https:// address")
	case c.fleet.fingerprint == "":
		return nil, confile.FlagError("fingerprint", "missing: want the SHA-256 fingerprint `fleet serve` printed (the kiosk trusts exactly that certificate)")
	}
	if err := bootfile.CheckFleetURL(c.fleet.url); err != nil {
		return nil, confile.FlagError("fleet", "%v", err)
	}
	fp, err := pin.Parse(c.fleet.fingerprint)
	if err != nil {
		return nil, confile.FlagError("fingerprint", "%v", err)
	}
	token, err := c.readToken()
	if err != nil {
		return nil, err
	}
	if err := bootfile.CheckHostnamePrefix(c.prefix); err != nil {
		return nil, confile.FlagError("hostname-prefix", "%v", err)
	}
	f := &bootfile.File{Version: bootfile.Version, Fleet: bootfile.Fleet{URL: strings.TrimSuffix(c.fleet.url, "/"), Fingerprint: fp.Hex()}, Token: token}
	if c.prefix != bootfile.DefaultHostnamePrefix {
		f.HostnamePrefix = c.prefix
	}
	if f.WiFi, err = c.wifi(); err != nil {
		return nil, err
	}
	if f.SSHAuthorizedKeys, err = c.keys(); err != nil {
		return nil, err
	}
	return f, nil
}

// readToken takes the token from --token-file or --token and checks its
// shape: a staff API token or one cut short never gets further.
func (c *configFlags) readToken() (string, error) {
	switch {
	case c.token != "" && c.tokenFile != "":
		return "", confile.FlagError("token-file", "give the token once: --token-file or --token")
	case c.token == "" && c.tokenFile == "":
		return "", confile.FlagError("token-file", "missing: want a file holding the enrolment token from `provision token create` (or --token)")
	}
	token, flag := c.token, "token"
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return "", confile.FlagError("token-file", "cannot read %s: %v", c.tokenFile, errors.Unwrap(err))
		}
		token, flag = strings.TrimSpace(string(b)), "token-file"
	}
	c.tokenFlag = flag
	if err := bootfile.CheckToken(token); err != nil {
		return "", confile.FlagError(flag, "%v", err)
	}
	return token, nil
}

func (c *configFlags) wifi() (*bootfile.WiFi, error) {
	switch {
	case c.ssid == "" && (c.pskFile != "" || c.open || c.hidden):
		return nil, confile.FlagError("wifi-ssid", "missing: the other --wifi flags need the network's name")
	case c.ssid == "":
		return nil, nil
	case len(c.ssid) > 32:
		return nil, confile.FlagError("wifi-ssid", "is %d bytes; a Wi-Fi network name is at most 32", len(c.ssid))
	case c.open && c.pskFile != "":
		return nil, confile.FlagError("wifi-open", "an open network has no passphrase: drop --wifi-psk-file or --wifi-open")
	case !c.open && c.pskFile == "":
		return nil, confile.FlagError("wifi-psk-file", "missing: give the file holding the passphrase, or --wifi-open for a network without one")
	}
	w := &bootfile.WiFi{SSID: c.ssid, Open: c.open, Hidden: c.hidden}
	if c.pskFile != "" {
		b, err := os.ReadFile(c.pskFile)
		if err != nil {
			return nil, confile.FlagError("wifi-psk-file", "cannot read: %v", err)
		}
		psk := strings.TrimRight(string(b), "\r\n")
		if err := bootfile.CheckPSK(psk); err != nil {
			return nil, confile.FlagError("wifi-psk-file", "%s: %v", c.pskFile, err)
		}
		w.PSK = psk
	}
	return w, nil
}

func (c *configFlags) keys() ([]string, error) {
	var keys []string
	for _, p := range c.sshKeys {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, confile.FlagError("ssh-key", "cannot read: %v", err)
		}
		n := 0
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := bootfile.CheckSSHKey(line); err != nil {
				return nil, confile.FlagError("ssh-key", "%s:%d: %v", p, i+1, err)
			}
			keys = append(keys, line)
			n++
		}
		if n == 0 {
			return nil, confile.FlagError("ssh-key", "%s holds no public key", p)
		}
	}
	return keys, nil
}

// check asks the fleet, pinned by the file's fingerprint, that the token
// is one it made and can still enrol a kiosk.
func (c *configFlags) check(ctx context.Context, env Env, f *bootfile.File) error {
	staff, err := c.fleet.apiToken(env)
	if err != nil {
		return confile.FlagError("api-token-file", "provision config asks the fleet whether the token is live: set $%s (fleet admin api-token --user NAME makes one) or give --api-token-file; --offline skips the check", APITokenEnv)
	}
	fp, _ := pin.Parse(f.Fleet.Fingerprint)
	client, err := fleetclient.New(fleetclient.Options{BaseURL: f.Fleet.URL, Pin: fp, APIToken: staff, Timeout: 30 * time.Second})
	if err != nil {
		return confile.FlagError("fleet", "%v", err)
	}
	t, err := client.CheckToken(ctx, f.Token)
	var fe *fleetclient.Error
	switch {
	case errors.As(err, &fe) && fe.Code == api.CodeTokenUnknown:
		return confile.FlagError(c.tokenFlag, "the fleet at %s did not make this enrolment token (another fleet's, or mistyped); make one with provision token create", f.Fleet.URL)
	case err != nil:
		return c.fleet.explain(err, "to check the token (--offline writes the file without checking)")
	case t.Revoked:
		return confile.FlagError(c.tokenFlag, "this enrolment token was revoked on the fleet; make a new one with provision token create")
	case t.Expired:
		return confile.FlagError(c.tokenFlag, "this enrolment token expired at %s; make a new one with provision token create", stamp(t.ExpiresUnixMs))
	case t.Uses >= t.MaxUses:
		return confile.FlagError(c.tokenFlag, "this enrolment token has been used by %d of %d kiosks; make a new one with provision token create", t.Uses, t.MaxUses)
	}
	fmt.Fprintf(env.Stdout, "the fleet knows this token (site %s, %d of %d uses left, valid until %s) and its certificate is %s\n",
		t.Site, t.MaxUses-t.Uses, t.MaxUses, stamp(t.ExpiresUnixMs), fp)
	return nil
}

func stamp(unixMs int64) string { return time.UnixMilli(unixMs).UTC().Format("2006-01-02 15:04 MST") }
