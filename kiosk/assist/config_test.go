package assist_test

import (
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/assist"
)

func TestConfig(t *testing.T) {
	type file struct {
		Assist assist.Config `yaml:"assist"`
	}
	for _, tt := range []struct {
		yaml, err string
	}{
		{"assist:\n  enabled: true\n  phone: 020 7974 4444\n  mask_selectors: ['#card-number', 'input[autocomplete^=cc-]']\n", ""},
		{"assist:\n  phone: 020 7974 4444\n", "x.yaml:2: assist.enabled: is false"},
		{"assist:\n  enabled: true\n  time_limit: 45m\n", "x.yaml:3: assist.time_limit: 45m0s is out of range"},
		{"assist:\n  enabled: true\n  mask_selectors:\n    - '#a'\n    - 'a { color: red }'\n", "assist.mask_selectors[1]"},
		{"assist:\n  enabled: true\n  max_fps: 60\n", "x.yaml:3: assist.max_fps"},
		{"assist:\n  enabled: true\n  socket: run/x.sock\n", "assist.socket"},
		{"assist:\n  enabled: true\n  colour: red\n", "colour"},
	} {
		var f file
		doc, err := confile.Decode("x.yaml", []byte(tt.yaml), &f)
		if err == nil {
			err = f.Assist.Validate(doc, "assist")
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.yaml, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want one containing %q", tt.yaml, err, tt.err)
		case tt.err == "" && (f.Assist.TimeLimit != 30*time.Minute || f.Assist.MaxFPS != 8):
			t.Errorf("defaults not filled in: %+v", f.Assist)
		}
	}
}
