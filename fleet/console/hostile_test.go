package console_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
)

// TestNextStaysOnSite: ?next= (and the form's next field) only ever sends
// the browser to a path on the console. Browsers drop tabs and newlines
// from URLs and read a backslash as a slash, so "/\t/evil.example" is
// "//evil.example", another site. (Before, the tab form got through.)
func TestNextStaysOnSite(t *testing.T) {
	f := startFleet(t)
	for i, tc := range []struct{ next, want string }{
		{"/kiosks?site=central", "/kiosks?site=central"},
		{"/kiosks/abc", "/kiosks/abc"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"\t//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\u0085/evil.example", "/"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"", "/"},
	} {
		form := url.Values{"user": {"alice"}, "password": {adminPassword}, "next": {tc.next}}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1", i+1)
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != tc.want {
			t.Errorf("sign in with next=%q: %d to %q, want 303 to %q", tc.next, w.Code, got, tc.want)
		}
		// The sign-in page carries only a safe next in its form.
		req = httptest.NewRequest(http.MethodGet, "/login?next="+url.QueryEscape(tc.next), nil)
		w = httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		if tc.want == "/" && tc.next != "" && strings.Contains(w.Body.String(), "evil.example") {
			t.Errorf("GET /login?next=%q puts the address into the page", tc.next)
		}
	}
}

// TestDoneShowsOnlyFixedMessages: ?done= is a code for one of the
// console's own sentences. Text of someone else's choosing never appears
// under the council's name, on the sign-in page or any other. (Before,
// any ?done= text was shown as a green success banner.)
func TestDoneShowsOnlyFixedMessages(t *testing.T) {
	f := startFleet(t)
	const phish = "Your account is suspended. Call 0800 000 000 to restore it"
	get := func(c *http.Client, path string) string {
		t.Helper()
		res, err := c.Get(f.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return b.String()
	}
	if body := get(http.DefaultClient, "/login?done="+url.QueryEscape(phish)); strings.Contains(body, "suspended") || strings.Contains(body, "notification-banner") {
		t.Error("the sign-in page shows ?done= text")
	}
	c := signInHTTP(t, f.url, "alice", adminPassword)
	code, loc := c.post("/sites", url.Values{"id": {"annex"}, "name": {"The Annex"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/sites?done=") || strings.ContainsAny(strings.TrimPrefix(loc, "/sites?done="), " +%") {
		t.Fatalf("adding a site: %d to %q, want a redirect with a done code", code, loc)
	}
	if _, body := c.get(loc); !strings.Contains(body, "Site added") {
		t.Errorf("after adding a site the page does not say so")
	}
	for _, path := range []string{"/sites?done=", "/?done=", "/kiosks?done=", "/users?done=", "/sites?done=site-added%20"} {
		if _, body := c.get(path + url.QueryEscape(phish)); strings.Contains(body, "suspended") {
			t.Errorf("GET %s... shows the ?done= text", path)
		}
	}
}

// TestUsageCSVNeutralisesFormulas: every text cell of the usage CSV that
// a spreadsheet would read as a formula starts with a quote, the help
// categories and outcomes too (identifiers may start with + or -).
// (Before, only the site name was neutralised.) The fleet keeps only
// categories of its vocabulary and the three outcomes (issue 20), but a
// vocabulary's identifier may start with '-'.
func TestUsageCSVNeutralisesFormulas(t *testing.T) {
	f := startFleet(t)
	v := api.DefaultVocabulary()
	v.Categories["-1-cmd"] = "A council's odd identifier"
	f.st.SetInsights(store.InsightsConfig{Vocabulary: v})
	dev := f.device(t, "central", "central-1")
	now := time.Now().Add(-time.Hour)
	f.reportAt(t, dev, "central", now, api.Report{Health: health("idle", 50, 60),
		Sessions: api.SessionCounts{Ended: 1, Assisted: 1, TotalMs: 60000},
		Receipts: []api.Receipt{{Reason: "toolbar", Cleared: []string{"cookies"}, ResetMs: 150, SessionMs: 60000, EndedUnixMs: now.UnixMilli(),
			Assisted: true, Category: "-1-cmd", Outcome: "-2+3"}}})
	c := signInHTTP(t, f.url, "alice", adminPassword)
	code, body := c.get("/usage.csv?days=7")
	if code != http.StatusOK {
		t.Fatalf("usage.csv: %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("usage.csv: %v, %d rows", err, len(rows))
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("column %s holds %q, which a spreadsheet reads as a formula", rows[0][i], cell)
			}
		}
	}
	if !strings.Contains(body, "'-1-cmd 1") {
		t.Errorf("the category is not in the CSV, neutralised: %s", body)
	}
	if strings.Contains(body, "-2+3") {
		t.Errorf("an outcome the fleet does not know was kept: %s", body)
	}
}

// TestFreeTextControlsRefused: a site name or a message for a kiosk's
// screen with a bidi override or a C1 control is refused, and nothing is
// made. (Before, both were stored and shown.)
func TestFreeTextControlsRefused(t *testing.T) {
	f := startFleet(t)
	dev := f.device(t, "central", "central-1")
	c := signInHTTP(t, f.url, "alice", adminPassword)
	if code, _ := c.post("/sites", url.Values{"id": {"annex"}, "name": {"Annex \u202eyrarbil"}}); code != http.StatusBadRequest {
		t.Errorf("site name with U+202E: %d, want 400", code)
	}
	if ok, _ := f.st.SiteExists(context.Background(), "annex"); ok {
		t.Error("the site with U+202E in its name was made")
	}
	for _, text := range []string{"Closing \u202enoos", "Closing\u0085soon", "Closing\u2028soon"} {
		code, _ := c.post("/kiosks/"+dev+"/command", url.Values{"kind": {api.CommandShowMessage}, "text": {text}, "confirm": {"yes"}})
		if code != http.StatusBadRequest {
			t.Errorf("show_message %q: %d, want 400", text, code)
		}
	}
	if cmds, _ := f.st.Commands(context.Background(), dev, 10); len(cmds) != 0 {
		t.Errorf("commands issued with controls in their text: %+v", cmds)
	}
}
