package assist_test

import (
	"strings"
	"testing"

	"accesskiosk/agent/assist"
	"accesskiosk/internal/confile"
)

func TestConfig(t *testing.T) {
	type file struct {
		Assist assist.Config `yaml:"assist"`
	}
	for _, tt := range []struct{ yaml, err string }{
		{"assist:\n  enabled: true\n  kiosk_user: nobody\n", ""},
		{"assist:\n  enabled: true\n  kiosk_user: no-such-user-here\n", "x.yaml:3: assist.kiosk_user: no such user"},
		{"assist:\n  enabled: true\n  kiosk_user: nobody\n  socket: x.sock\n", "x.yaml:4: assist.socket"},
		{"assist:\n  enabled: false\n", ""},
	} {
		var f file
		doc, err := confile.Decode("x.yaml", []byte(tt.yaml), &f)
		if err == nil {
			err = f.Assist.Validate(doc, "assist")
		}
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: %v, want %q", tt.yaml, err, tt.err)
		}
		if tt.err == "" && f.Assist.Enabled {
			if o := f.Assist.ListenOptions(); o.Path == "" || len(o.AllowUIDs) != 1 || o.AllowUIDs[0] != 65534 {
				t.Errorf("listen options %+v", o)
			}
		}
	}
}
