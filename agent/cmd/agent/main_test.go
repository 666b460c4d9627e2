package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
		{"unknown flag", []string{"--nope"}, "command line: --nope: unknown flag"},
		{"stray argument", []string{"serve"}, "command line: --serve: unexpected argument"},
		{"flag without value", []string{"--config"}, "command line: --config: needs a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tc.args, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.want)
			}
		})
	}
}
