package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v3"

	"accesskiosk/kiosk/guides"
)

// newTestPages builds the pages on the default config and built-in guides.
func newTestPages(t testing.TB, cfg Config) *Pages {
	t.Helper()
	lib, err := guides.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	p, err := New(cfg, lib, log)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t testing.TB, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	return w
}

// defaultConfig is the ui: section of the kiosk's embedded default config
// (kiosk/config/default.yaml, where the default council's data lives), with
// the council's name and phone taken from the top-level keys as
// kiosk/config fills them in. (kiosk/config imports this package, so the
// tests read the file.)
func defaultConfig(t testing.TB) Config {
	t.Helper()
	b, err := os.ReadFile("../config/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Council struct{ Name, Phone string } `yaml:"council"`
		UI      Config                       `yaml:"ui"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("default.yaml: %v", err)
	}
	if f.UI.Council.Name == "" {
		f.UI.Council.Name = f.Council.Name
	}
	if f.UI.Council.Phone == "" {
		f.UI.Council.Phone = f.Council.Phone
	}
	return f.UI
}
