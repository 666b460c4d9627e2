package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAssistPage: the home page offers remote help only when it is
// configured; the help page shows the code (grouped for reading out), its
// expiry, the phone and hours, in every language, and only the phone when
// the kiosk cannot reach the council's support; the code comes only from
// the request's context, never from the URL.
func TestAssistPage(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	if strings.Contains(get(t, p, "/home").Body.String(), `data-ak-action="assist"`) {
		t.Error("the home page offers remote help while it is off")
	}
	p.SetAssist(true)
	if !strings.Contains(get(t, p, "/home").Body.String(), `data-ak-action="assist"`) {
		t.Error("the home page does not offer remote help")
	}
	exp := time.Date(2026, 12, 7, 14, 35, 0, 0, time.Local)
	for _, lang := range Languages() {
		r := httptest.NewRequest("GET", "/assist?lang="+lang+"&code=999999", nil)
		r = r.WithContext(WithHelp(context.Background(), Help{Phone: "020 7974 4444", Hours: "9 to 5", Available: true, Code: "123456", Expires: exp}))
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", lang, w.Code)
		}
		for _, want := range []string{"123 456", "14:35", "020 7974 4444", "9 to 5"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the help page lacks %q", lang, want)
			}
		}
		if strings.Contains(body, "999 999") || strings.Contains(body, "⟦") {
			t.Errorf("%s: the page shows a code from the URL or a missing message", lang)
		}
	}
	// Not reachable: no code, the phone still.
	r := httptest.NewRequest("GET", "/assist", nil)
	r = r.WithContext(WithHelp(context.Background(), Help{Phone: "020 7974 4444", Code: ""}))
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if body := w.Body.String(); !strings.Contains(body, "020 7974 4444") || strings.Contains(body, "ak-assist-code") {
		t.Errorf("unavailable help page: %s", body)
	}
}
