package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skip2/go-qrcode"

	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
	"accesskiosk/provisioning/bootfile"
)

// Synopses of the admin commands.
const (
	siteCreateSynopsis  = "--fleet URL --fingerprint FP --id ID [--name NAME]"
	tokenCreateSynopsis = "--fleet URL --fingerprint FP --site ID [--expires 7d] [--uses 1] [--qr-png FILE]"
	listSynopsis        = "--fleet URL --fingerprint FP [--site ID]"
)

// fleetFlags are the flags every admin command takes.
type fleetFlags struct {
	url, fingerprint, tokenFile string
}

func (f *fleetFlags) register(fs *cmdline.FlagSet) {
	fs.StringVar(&f.url, "fleet", "", "the fleet server's `URL`, https://HOST[:PORT] (required)")
	fs.StringVar(&f.fingerprint, "fingerprint", "", "the SHA-256 fingerprint `FP` of the fleet's TLS certificate, as `fleet serve` printed it; empty: trust the system's CA roots")
	fs.StringVar(&f.tokenFile, "api-token-file", "", "`FILE` holding the staff API token (default: $"+APITokenEnv+")")
}

// apiToken is the staff API token from --api-token-file or the
// environment.
func (f *fleetFlags) apiToken(env Env) (string, error) {
	tok := env.getenv(APITokenEnv)
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return "", confile.FlagError("api-token-file", "cannot read: %v", err)
		}
		tok = strings.TrimSpace(string(b))
		if tok == "" {
			return "", confile.FlagError("api-token-file", "%s is empty", f.tokenFile)
		}
	}
	if tok == "" {
		return "", confile.FlagError("api-token-file", "no staff API token: set $%s or give --api-token-file (make one with `fleet admin api-token --user NAME` or on the console's Staff page)", APITokenEnv)
	}
	return tok, nil
}

func (f *fleetFlags) client(env Env) (*fleetclient.Client, error) {
	if f.url == "" {
		return nil, confile.FlagError("fleet", "missing: want the fleet server's https:// address")
	}
	if err := bootfile.CheckFleetURL(f.url); err != nil {
		return nil, confile.FlagError("fleet", "%v", err)
	}
	var fp pin.Fingerprint
	if f.fingerprint != "" {
		var err error
		if fp, err = pin.Parse(f.fingerprint); err != nil {
			return nil, confile.FlagError("fingerprint", "%v", err)
		}
	}
	tok, err := f.apiToken(env)
	if err != nil {
		return nil, err
	}
	return fleetclient.New(fleetclient.Options{BaseURL: f.url, Pin: fp, APIToken: tok, Timeout: 30 * time.Second})
}

// explain turns a fleet client error into one sentence saying what to do;
// doing says what the request was for ("to check the token").
func (f *fleetFlags) explain(err error, doing string) error {
	var me *pin.MismatchError
	var ue *fleetclient.UntrustedError
	switch {
	case errors.As(err, &me):
		return confile.FlagError("fingerprint", "the server at %s has the certificate %v, not %v: check --fingerprint against what fleet serve printed", f.url, me.Got, me.Want)
	case errors.As(err, &ue):
		return confile.FlagError("fingerprint", "missing: the fleet at %s has a self-signed certificate (fingerprint %v); give --fingerprint with what fleet serve printed, after checking it is this one", f.url, ue.Got)
	case errors.Is(err, fleetclient.ErrUnauthorized):
		return fmt.Errorf("%w (is the staff API token right, and does its user have the admin role?)", err)
	case errors.Is(err, fleetclient.ErrUnreachable):
		if doing != "" {
			doing = " " + doing
		}
		return fmt.Errorf("cannot reach the fleet at %s%s: %w", f.url, doing, err)
	}
	return err
}

func siteCreate(ctx context.Context, args []string, env Env) error {
	fs := flagSet("site create", siteCreateSynopsis)
	var ff fleetFlags
	ff.register(fs)
	id := fs.String("id", "", "site `ID`: a short slug such as central-library (required)")
	name := fs.String("name", "", "site `NAME` people read, such as \"Central Library\" (default: the id)")
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	if *id == "" {
		return confile.FlagError("id", "missing: want a short site id such as central-library")
	}
	c, err := ff.client(env)
	if err != nil {
		return err
	}
	s, err := c.CreateSite(ctx, *id, *name)
	if err != nil {
		return ff.explain(err, "")
	}
	fmt.Fprintf(env.Stdout, "site %s (%s) created\n", s.ID, s.Name)
	return nil
}

func tokenCreate(ctx context.Context, args []string, env Env) error {
	fs := flagSet("token create", tokenCreateSynopsis)
	var ff fleetFlags
	ff.register(fs)
	site := fs.String("site", "", "site `ID` the token enrols kiosks into (required)")
	expires := fs.Duration("expires", 7*24*time.Hour, "how long the token is valid: 7d, 12h, 30m")
	uses := fs.Int("uses", 1, "how many kiosks may enrol with it")
	qrPNG := fs.String("qr-png", "", "also write the QR code as a PNG to this `FILE` (0600), e.g. to print a label")
	noQR := fs.Bool("no-qr", false, "do not print the QR code")
	tokenOut := fs.String("token-out", "", "also write the token to this `FILE` (0600), for provision config --token-file")
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	if *site == "" {
		return confile.FlagError("site", "missing: want the site id (provision site create makes one)")
	}
	if *uses < 1 || *uses > 10000 {
		return confile.FlagError("uses", "want 1 to 10000, got %d", *uses)
	}
	if *expires > 90*24*time.Hour || *expires < time.Minute {
		return confile.FlagError("expires", "want between 1m and 90d, got %s", cmdline.FormatDuration(*expires))
	}
	c, err := ff.client(env)
	if err != nil {
		return err
	}
	t, err := c.CreateToken(ctx, *site, *expires, *uses)
	if err != nil {
		return ff.explain(err, "")
	}
	exp := time.UnixMilli(t.ExpiresUnixMs).UTC().Format("2006-01-02 15:04 MST")
	fmt.Fprintf(env.Stdout, "Enrolment token for site %s (id %s), valid until %s for %d kiosk(s):\n\n  %s\n\n",
		t.Site, t.ID, exp, t.MaxUses, t.Secret)
	if !*noQR {
		q, err := qrcode.New(t.Secret, qrcode.Medium)
		if err != nil {
			return fmt.Errorf("make QR code: %w", err)
		}
		fmt.Fprintln(env.Stdout, q.ToSmallString(false))
		if *qrPNG != "" {
			png, err := q.PNG(256)
			if err != nil {
				return fmt.Errorf("make QR code PNG: %w", err)
			}
			if err := atomicfile.Write(*qrPNG, png, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "QR code written to %s\n", *qrPNG)
		}
	}
	return nextConfig(env, ff, c, t.Secret, *tokenOut)
}

// nextConfig writes the token to tokenOut (when given) and prints the
// provision config command to run next, with the fleet's real fingerprint.
func nextConfig(env Env, ff fleetFlags, c *fleetclient.Client, secret, tokenOut string) error {
	fp := c.ServerPin()
	if ff.fingerprint != "" {
		fp, _ = pin.Parse(ff.fingerprint)
	}
	file := "FILE"
	if tokenOut != "" {
		if err := atomicfile.Write(tokenOut, []byte(secret+"\n"), 0o600); err != nil {
			return err
		}
		file = tokenOut
		fmt.Fprintf(env.Stdout, "Token written to %s (mode 0600).\n", tokenOut)
	} else {
		fmt.Fprintln(env.Stdout, "Put the token in a file only you can read (or use --token-out FILE next time), then:")
	}
	fmt.Fprintf(env.Stdout, "Next: provision config --fleet %s --fingerprint %v --token-file %s [--wifi-ssid SSID --wifi-psk-file FILE]\n", ff.url, fp, file)
	return nil
}

func tokenList(ctx context.Context, args []string, env Env) error {
	fs := flagSet("token list", listSynopsis)
	var ff fleetFlags
	ff.register(fs)
	site := fs.String("site", "", "only this site `ID`'s tokens")
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	c, err := ff.client(env)
	if err != nil {
		return err
	}
	toks, err := c.Tokens(ctx, *site)
	if err != nil {
		return ff.explain(err, "")
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSITE\tUSES\tEXPIRES\tSTATE")
	now := time.Now()
	for _, t := range toks {
		exp := time.UnixMilli(t.ExpiresUnixMs)
		state := "valid"
		switch {
		case t.Revoked:
			state = "revoked"
		case t.Uses >= t.MaxUses:
			state = "used"
		case now.After(exp):
			state = "expired"
		}
		fmt.Fprintf(w, "%s\t%s\t%d/%d\t%s\t%s\n", t.ID, t.Site, t.Uses, t.MaxUses, exp.UTC().Format("2006-01-02 15:04"), state)
	}
	return w.Flush()
}

func deviceList(ctx context.Context, args []string, env Env) error {
	fs := flagSet("device list", listSynopsis)
	var ff fleetFlags
	ff.register(fs)
	site := fs.String("site", "", "only this site `ID`'s kiosks")
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	c, err := ff.client(env)
	if err != nil {
		return err
	}
	devs, err := c.Devices(ctx, *site)
	if err != nil {
		return ff.explain(err, "")
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSITE\tHOSTNAME\tENROLLED\tLAST SEEN\tSTATE")
	for _, d := range devs {
		seen := "never"
		if d.LastSeenUnixMs > 0 {
			seen = time.UnixMilli(d.LastSeenUnixMs).UTC().Format("2006-01-02 15:04")
		}
		state := d.KioskState
		if d.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Site, d.Hostname,
			time.UnixMilli(d.EnrolledUnixMs).UTC().Format("2006-01-02 15:04"), seen, state)
	}
	return w.Flush()
}
