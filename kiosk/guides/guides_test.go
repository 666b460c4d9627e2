package guides_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/guides"
)

const good = `---
title: Pay your council tax
language: en
service: https://www.example.gov.uk/pay
steps:
  - title: Open the page
    text: Tap **Open the service**.
---
Before you start.
`

func TestParseGood(t *testing.T) {
	g, err := guides.Parse("dir/pay.md", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != "pay" || g.Lang != "en" || g.Title != "Pay your council tax" || len(g.Steps) != 1 {
		t.Fatalf("got %+v", g)
	}
	if got, want := string(g.Steps[0].HTML), "<p>Tap <strong>Open the service</strong>.</p>\n"; got != want {
		t.Errorf("step HTML: got %q, want %q", got, want)
	}
	if got, want := string(g.Intro), "<p>Before you start.</p>\n"; got != want {
		t.Errorf("intro: got %q, want %q", got, want)
	}
}

func TestParseDropsRawHTML(t *testing.T) {
	src := strings.Replace(good, "Tap **Open the service**.", "Tap <script>alert(1)</script> [x](javascript:alert(1))", 1)
	g, err := guides.Parse("pay.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if h := string(g.Steps[0].HTML); strings.Contains(h, "<script") || strings.Contains(h, "javascript:") {
		t.Errorf("raw HTML or javascript: URL passed through: %s", h)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            string // the exact error text
	}{
		{"no front matter", "g.md", "# Title\n", `g.md:1: a guide must start with front matter: a line "---", the YAML keys (title, language, service, steps), and another "---"`},
		{"unclosed", "g.md", "---\ntitle: x\n", `g.md:1: front matter is not closed: add a line "---" after the YAML keys`},
		{"unknown key", "guides/g.md", "---\ntitle: x\nlanguage: en\nservise: https://a.example/\n---\n", `guides/g.md:4: servise: unknown key (did you mean "service"?)`},
		{"bad yaml", "g.md", "---\ntitle: [x\n---\n", "g.md:2: not valid YAML: did not find expected ',' or ']'"},
		{"missing title", "g.md", "---\nlanguage: en\nservice: https://a.example/\nsteps:\n  - {title: a, text: b}\n---\n", "g.md: title: a guide needs a title"},
		{"bad language", "g.md", "---\ntitle: x\nlanguage: English\nservice: https://a.example/\n---\n", `g.md:3: language: want a two- or three-letter language code such as en, cy or pl, got "English"`},
		{"language disagrees with file name", "g.cy.md", "---\ntitle: x\nlanguage: pl\nservice: https://a.example/\n---\n", `g.cy.md:3: language: says "pl" but the file name says "cy"`},
		{"service not https", "g.md", "---\ntitle: x\nlanguage: en\nservice: ftp://a.example/\n---\n", `g.md:4: service: want an https:// or kiosk:// URL, got "ftp://a.example/"`},
		{"service with userinfo", "g.md", "---\ntitle: x\nlanguage: en\nservice: https://u:p@a.example/\n---\n", `g.md:4: service: URL "https://u:p@a.example/" must not carry a user name or password`},
		{"no steps", "g.md", "---\ntitle: x\nlanguage: en\nservice: https://a.example/\n---\n", "g.md: steps: a guide needs at least one step"},
		{"step without text", "g.md", "---\ntitle: x\nlanguage: en\nservice: https://a.example/\nsteps:\n  - title: one\n  - title: two\n    text: hi\n---\n", "g.md:6: steps[0].text: each step needs some text"},
		{"step too long", "g.md", "---\ntitle: x\nlanguage: en\nservice: https://a.example/\nsteps:\n  - title: one\n    text: " + strings.Repeat("a", 601) + "\n---\n", "g.md:7: steps[0].text: step is 601 characters long; keep each step under 600 (split it in two)"},
		{"bad step link", "g.md", "---\ntitle: x\nlanguage: en\nservice: https://a.example/\nsteps:\n  - title: one\n    text: hi\n    link: javascript:alert(1)\n---\n", `g.md:8: steps[0].link: want an https:// or kiosk:// URL, got "javascript:alert(1)"`},
		{"wrong type", "g.md", "---\ntitle: x\nlanguage: en\nservice: https://a.example/\nsteps: one\n---\n", `g.md:5: steps: want a list, got "one"`},
		{"bad file name", "Pay Tax.md", good, `Pay Tax.md: guide id "Pay Tax" (from the file name) must be lower-case letters, digits and dashes`},
		{"not markdown", "pay.txt", good, "pay.txt: a guide file name must end in .md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := guides.Parse(tt.file, []byte(tt.src))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			var ce *confile.Error
			if !errors.As(err, &ce) || ce.File != tt.file {
				t.Errorf("error %v is not a *confile.Error naming %s", err, tt.file)
			}
		})
	}
}

// The issue names these built-in guides.
var required = []string{
	"using-this-kiosk", "create-council-account", "pay-council-tax", "report-missed-bin",
	"apply-parking-permit", "housing-benefit-council-tax-reduction", "digital-skills-help",
}

func TestBuiltin(t *testing.T) {
	lib, err := guides.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range required {
		g, ok := lib.Get(id, "en")
		if !ok || g.Lang != "en" {
			t.Errorf("built-in guide %s in English: got %v %v", id, g, ok)
		}
	}
	if got, want := lib.Len(), len(required); got < want {
		t.Errorf("got %d guides, want at least %d", got, want)
	}
	// Every built-in guide is translated into the kiosk's languages.
	for _, id := range required {
		if got := strings.Join(lib.Languages(id), ","); got != "cy,en,pl" {
			t.Errorf("%s is in %s, want cy,en,pl", id, got)
		}
	}
	// Translations share IDs, steps and the service with English.
	for _, id := range required {
		en, _ := lib.Get(id, "en")
		for _, lang := range lib.Languages(id) {
			g, _ := lib.Get(id, lang)
			if g.Service != en.Service || len(g.Steps) != len(en.Steps) || g.Order != en.Order {
				t.Errorf("%s: %s translation differs from English in service, steps or order", g.File, lang)
			}
		}
	}
}

func TestGetFallback(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "library-card.md"), []byte(strings.Replace(good, "Pay your council tax", "Join the library", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	only := strings.NewReplacer("Pay your council tax", "Dołącz do biblioteki", "language: en", "language: pl").Replace(good)
	if err := os.WriteFile(filepath.Join(dir, "polish-only.pl.md"), []byte(only), 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := guides.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, lang, wantLang string
		wantOK             bool
	}{
		{"using-this-kiosk", "cy", "cy", true},
		{"using-this-kiosk", "pl", "pl", true},
		{"library-card", "cy", "en", true}, // no Welsh version: English
		{"library-card", "xx", "en", true},
		{"polish-only", "cy", "pl", true}, // no Welsh, no English: what there is
		{"no-such-guide", "en", "", false},
	}
	for _, tt := range tests {
		g, ok := lib.Get(tt.id, tt.lang)
		if ok != tt.wantOK || (ok && g.Lang != tt.wantLang) {
			t.Errorf("Get(%s, %s): got %v ok=%v, want lang %q ok=%v", tt.id, tt.lang, g, ok, tt.wantLang, tt.wantOK)
		}
	}
	list := lib.List("pl")
	if len(list) != lib.Len() || list[0].ID != "using-this-kiosk" || list[0].Lang != "pl" {
		t.Errorf("List(pl): got first %s/%s of %d", list[0].ID, list[0].Lang, len(list))
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pay-council-tax.md", strings.Replace(good, "Pay your council tax", "Pay council tax here", 1))
	write("library-card.md", strings.Replace(good, "Pay your council tax", "Join the library", 1))
	write("broken.md", "---\ntitle: x\n")
	write("notes.txt", "ignored")

	lib, err := guides.Load(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "broken.md")+":1: front matter is not closed") {
		t.Errorf("got error %v, want one naming broken.md", err)
	}
	if lib == nil {
		t.Fatal("Load returned no library with a bad file in the directory")
	}
	if g, _ := lib.Get("pay-council-tax", "en"); g.Title != "Pay council tax here" {
		t.Errorf("directory guide did not replace the built-in one: %q", g.Title)
	}
	if g, _ := lib.Get("pay-council-tax", "pl"); g.Lang != "pl" {
		t.Errorf("built-in Polish translation lost: %v", g.Lang)
	}
	if _, ok := lib.Get("library-card", "cy"); !ok {
		t.Error("new guide from directory missing")
	}
	if _, ok := lib.Get("broken", "en"); ok {
		t.Error("broken guide loaded")
	}

	if _, err := guides.Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load of a missing directory: no error")
	}
}
