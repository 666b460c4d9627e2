package confile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type session struct {
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	IdleWarning time.Duration `yaml:"idle_warning"`
}

type sample struct {
	HomeURL string            `yaml:"home_url"`
	Allow   []string          `yaml:"allow"`
	Session session           `yaml:"session"`
	Port    int               `yaml:"port"`
	Debug   bool              `yaml:"debug"`
	Labels  map[string]string `yaml:"labels"`
	Tiles   []tile            `yaml:"tiles"`
	Ptr     *session          `yaml:"ptr"`
}

type tile struct {
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
}

func TestDecodeGood(t *testing.T) {
	src := `
home_url: kiosk://home
allow:
  - https://*.example.gov.uk
  - https://www.gov.uk/browse
session:
  idle_timeout: 5m
port: 8080
debug: true
labels: {a: b}
tiles:
  - title: Pay
    url: https://pay.example.gov.uk
ptr:
  idle_warning: 30s
`
	got := sample{Session: session{IdleWarning: 45 * time.Second}}
	doc, err := Decode("k.yaml", []byte(src), &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.HomeURL != "kiosk://home" || len(got.Allow) != 2 || got.Port != 8080 || !got.Debug {
		t.Errorf("got %+v", got)
	}
	if got.Session.IdleTimeout != 5*time.Minute {
		t.Errorf("idle_timeout = %v, want 5m", got.Session.IdleTimeout)
	}
	if got.Session.IdleWarning != 45*time.Second {
		t.Errorf("idle_warning default lost: %v", got.Session.IdleWarning)
	}
	if got.Ptr == nil || got.Ptr.IdleWarning != 30*time.Second {
		t.Errorf("ptr = %+v", got.Ptr)
	}
	if got.Labels["a"] != "b" || got.Tiles[0].Title != "Pay" {
		t.Errorf("got %+v", got)
	}
	if l := doc.Line("allow[1]"); l != 5 {
		t.Errorf("Line(allow[1]) = %d, want 5", l)
	}
	if l := doc.Line("tiles[0].url"); l != 13 {
		t.Errorf("Line(tiles[0].url) = %d, want 13", l)
	}
	e := doc.Errorf("allow[1]", "bad rule")
	if e.Error() != "k.yaml:5: allow[1]: bad rule" {
		t.Errorf("Errorf = %q", e.Error())
	}
}

func TestDecodeBad(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		key, msg  string
	}{
		{"unknown key", "home_url: x\nsesion:\n  idle_timeout: 5m\n", 2, "sesion", `did you mean "session"`},
		{"unknown nested", "session:\n  idle_timout: 5m\n", 2, "session.idle_timout", `did you mean "idle_timeout"`},
		{"bad duration", "session:\n  idle_timeout: five minutes\n", 2, "session.idle_timeout", "duration"},
		{"bare number duration", "session:\n  idle_warning: 30\n", 2, "session.idle_warning", "duration"},
		{"list wanted", "allow: https://x\n", 1, "allow", "want a list"},
		{"int wanted", "port: eighty\n", 1, "port", "whole number"},
		{"bool wanted", "debug: maybe\n", 1, "debug", "true or false"},
		{"mapping wanted", "session: 5m\n", 1, "session", "mapping"},
		{"dup key", "port: 1\nport: 2\n", 2, "port", "twice"},
		{"syntax", "home_url: [\n", 1, "", "not valid YAML"},
		{"empty", "# only a comment\n", 1, "", "empty"},
		{"deep list item", "tiles:\n  - title: a\n  - titel: b\n", 3, "tiles[1].titel", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sample
			_, err := Decode("k.yaml", []byte(tt.src), &got)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ce.Line != tt.line || ce.Key != tt.key || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got line %d key %q msg %q; want line %d key %q msg containing %q", ce.Line, ce.Key, ce.Msg, tt.line, tt.key, tt.msg)
			}
			if ExitStatus(err) != 2 {
				t.Errorf("ExitStatus = %d, want 2", ExitStatus(err))
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	var s sample
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), &s)
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "nope.yaml") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("port: 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s sample
	if _, err := Load(p, &s); err != nil || s.Port != 9 {
		t.Fatalf("Load = %v, %+v", err, s)
	}
}

func TestExitStatus(t *testing.T) {
	if ExitStatus(nil) != 0 || ExitStatus(errors.New("x")) != 1 || ExitStatus(FlagError("addr", "bad")) != 2 {
		t.Error("ExitStatus wrong")
	}
	if got := FlagError("addr", "not HOST:PORT").Error(); got != "command line: --addr: not HOST:PORT" {
		t.Errorf("FlagError = %q", got)
	}
}
