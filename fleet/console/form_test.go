package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOversizedFormRefused: a form over the limit is answered 413 with a
// sentence saying so, and changes nothing (before, the handler went on with
// an empty form and said "name required").
func TestOversizedFormRefused(t *testing.T) {
	f := startFleet(t)
	c := signInHTTP(t, f.url, "alice", adminPassword)
	before, err := f.st.Sites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"id": {"annex"}, "name": {"Annex"}, "pad": {strings.Repeat("x", 17<<10)}}
	code, body := c.post("/sites", form)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too large") {
		t.Errorf("oversized form: %d %q", code, body)
	}
	after, err := f.st.Sites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("sites %d → %d: an oversized form changed something", len(before), len(after))
	}
	// The same form within the limit is taken.
	delete(form, "pad")
	if code, _ := c.post("/sites", form); code != http.StatusSeeOther && code != http.StatusOK {
		t.Errorf("normal form: %d", code)
	}
	if got, _ := f.st.Sites(context.Background()); len(got) != len(before)+1 {
		t.Errorf("sites after a normal form: %d, want %d", len(got), len(before)+1)
	}
}
