package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/config"
)

// Bad flags and bad config files are refused before any window opens,
// with exit status 2 and FILE:LINE: KEY.
func TestRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "kiosk.yaml")
	os.WriteFile(bad, []byte("allow:\n  - https://www.example.gov.uk\nsession:\n  idle_timeout: soon\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--fullscreen-please"}, "command line"},
		{"stray argument", []string{"extra"}, `command line: unknown command "extra" (known commands: volunteer hash-pin)`},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, "none.yaml: cannot read config"},
		{"bad value", []string{"--config", bad}, bad + ":4: session.idle_timeout:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			if got := confile.ExitStatus(err); got != 2 {
				t.Fatalf("exit status %d (%v), want 2", got, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPrintConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--print-config"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse("printed", out.Bytes()); err != nil {
		t.Errorf("printed default config does not load: %v", err)
	}
}
