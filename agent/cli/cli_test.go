package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(args []string, stderr io.Writer) int {
	return Main(context.Background(), args, io.Discard, stderr)
}

func TestRefusesBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(bad, []byte("report:\n  interval: often\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad file", []string{"--config", bad}, bad + ":2: report.interval: want a duration"},
		{"missing file", []string{"--config", "/nonexistent/agent.yaml"}, "/nonexistent/agent.yaml: cannot read config"},
		{"unknown flag", []string{"--nope"}, "agent: command line: --nope: unknown flag (known flags: --config, --version)\n"},
		{"misspelt flag", []string{"--confg", "x"}, "agent: command line: --confg: unknown flag (did you mean \"--config\"?)\n"},
		{"unknown command", []string{"serve"}, "agent: command line: unknown command \"serve\""},
		{"misspelt command", []string{"firstbot"}, "agent: command line: unknown command \"firstbot\" (did you mean \"firstboot\"?)\n"},
		{"flag without value", []string{"--config"}, "agent: command line: --config: needs a value\n"},
		{"firstboot's misspelt flag", []string{"firstboot", "--bot", "/boot"}, "agent firstboot: command line: --bot: unknown flag (did you mean \"--boot\"?)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := runMain(tc.args, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.want)
			}
			if strings.Contains(stderr.String(), "usage") {
				t.Errorf("usage printed with the error:\n%s", stderr.String())
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		var out bytes.Buffer
		if code := Main(context.Background(), args, &out, io.Discard); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, want := range []string{"agent firstboot", "agent [--config FILE]"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, out.String())
			}
		}
	}
	var out bytes.Buffer
	Main(context.Background(), []string{"firstboot", "-h"}, &out, io.Discard)
	if got := out.String(); !strings.Contains(got, "--kiosk-wait DURATION") || !strings.Contains(got, "(default 30s)") || strings.Contains(got, "30s0") {
		t.Errorf("agent firstboot -h:\n%s", got)
	}
}
