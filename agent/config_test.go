package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/internal/confile"
)

func TestDefaults(t *testing.T) {
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Report.Interval.Seconds() != 30 || c.StateDir == "" || c.Kiosk.Unit == "" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "fleet:\n  ulr: https://x\n", `:2: fleet.ulr: unknown key (did you mean "url"?)`},
		{"bad url", "log_level: info\nfleet:\n  url: ftp://x\n", `:3: fleet.url: want an http(s) URL`},
		{"http off loopback", "fleet:\n  url: http://198.18.0.1:8080\n", `:2: fleet.url: plain http is only allowed to loopback`},
		{"bad fingerprint", "fleet:\n  fingerprint: abc\n", `:2: fleet.fingerprint: want a SHA-256`},
		{"zero interval", "report:\n  interval: 0s\n", `:2: report.interval: must be more than 0`},
		{"bad duration", "report:\n  interval: soon\n", `:2: report.interval: want a duration`},
		{"backoff order", "report:\n  backoff_min: 10s\n  backoff_max: 1s\n", `:3: report.backoff_max: must be at least`},
		{"bad bus", "kiosk:\n  bus: kiosk\n", `:2: kiosk.bus: want system, session or a D-Bus address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "agent.yaml")
			os.WriteFile(p, []byte(tc.yaml+"\n"), 0o600)
			_, err := LoadConfig(p)
			var ce *confile.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *confile.Error", err)
			}
			if got := err.Error(); !strings.Contains(got, tc.want) || !strings.HasPrefix(got, p) {
				t.Errorf("err = %q, want it to start with the file and contain %q", got, tc.want)
			}
			if confile.ExitStatus(err) != 2 {
				t.Errorf("exit status %d, want 2", confile.ExitStatus(err))
			}
		})
	}
}

func TestConfigGood(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(p, []byte("fleet:\n  url: https://fleet.example.org:8443\n  fingerprint: \"AB:"+strings.Repeat("cd:", 30)+"EF\"\nreport:\n  interval: 1m\n"), 0o600)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Report.Interval.Minutes() != 1 || c.Report.Jitter.Seconds() != 5 {
		t.Errorf("config = %+v (defaults must stay under a partial file)", c.Report)
	}
}
