package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sirupsen/logrus"

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
