package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/sirupsen/logrus"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/guides"
)

func TestLookupFallsBackPerString(t *testing.T) {
	cats := map[string]catalog{
		"en": {"a": "Hello", "b": "Goodbye", "c": "Thanks"},
		"cy": {"a": "Helo", "c": ""}, // c is empty: treated as missing
	}
	tests := []struct {
		lang, key, want string
		fell            bool
	}{
		{"en", "a", "Hello", false},
		{"cy", "a", "Helo", false},
		{"cy", "b", "Goodbye", true}, // missing in Welsh: English
		{"cy", "c", "Thanks", true},  // empty in Welsh: English
		{"pl", "a", "Hello", true},   // no Polish catalog: English
		{"cy", "zz", "⟦zz⟧", true},   // missing everywhere: marked
	}
	for _, tt := range tests {
		got, fell := lookup(cats, tt.lang, tt.key)
		if got != tt.want || fell != tt.fell {
			t.Errorf("lookup(%s, %s): got %q fell=%v, want %q fell=%v", tt.lang, tt.key, got, fell, tt.want, tt.fell)
		}
	}
	tr := translator{lang: "cy", cats: cats}
	if got := tr.Lang("b"); got != "en" {
		t.Errorf("Lang of a fallen-back string: got %q, want en", got)
	}
	if got := tr.Lang("a"); got != "cy" {
		t.Errorf("Lang of a translated string: got %q, want cy", got)
	}
}

// A page in a language whose catalog lacks a string shows that string in
// English and the rest translated.
func TestPageFallsBackPerString(t *testing.T) {
	old := catalogs
	t.Cleanup(func() { catalogs = old })
	cy := catalog{}
	for k, v := range messagesCY {
		cy[k] = v
	}
	delete(cy, "home.volunteer")
	catalogs = map[string]catalog{"en": messagesEN, "cy": cy, "pl": messagesPL}

	body := get(t, newTestPages(t, defaultConfig(t)), "/home?lang=cy").Body.String()
	for _, want := range []string{messagesEN["home.volunteer"], messagesCY["home.title"], `<html lang="cy"`} {
		if !strings.Contains(body, want) {
			t.Errorf("Welsh home page lacks %q", want)
		}
	}
	if strings.Contains(body, messagesCY["home.volunteer"]) {
		t.Error("deleted Welsh string still shown")
	}
}

func TestCatalogs(t *testing.T) {
	for _, l := range languages[1:] {
		for _, k := range sortedKeys(l.Msgs) {
			if _, ok := messagesEN[k]; !ok {
				t.Errorf("%s has key %q that English lacks (a typo?)", l.Code, k)
			}
			if strings.Count(l.Msgs[k], "%") != strings.Count(messagesEN[k], "%") {
				t.Errorf("%s %q: format verbs differ from English: %q vs %q", l.Code, k, l.Msgs[k], messagesEN[k])
			}
		}
		// The translations are meant to be complete; report what is not.
		for _, k := range sortedKeys(messagesEN) {
			if _, ok := l.Msgs[k]; !ok {
				t.Errorf("%s lacks %q (it will show in English)", l.Code, k)
			}
		}
	}
}

func TestEveryPageRenders(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	for _, lang := range Languages() {
		for _, path := range pagePaths(t) {
			target := withQuery(path, "lang="+lang+"&contrast=high&text=3")
			w := get(t, p, target)
			want := http.StatusOK
			if strings.Contains(path, "no-such") {
				want = http.StatusNotFound
			}
			if w.Code != want {
				t.Errorf("%s: status %d, want %d", target, w.Code, want)
			}
			body := w.Body.String()
			if strings.Contains(body, "ZgotmplZ") {
				t.Errorf("%s: html/template refused a URL (ZgotmplZ)", target)
			}
			if strings.Contains(body, "⟦") {
				t.Errorf("%s: a message key has no English text: %s", target, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(body))
			}
			if !strings.Contains(body, `<html lang="`+lang+`" class="govuk-template ak-text-3 ak-hc`) {
				t.Errorf("%s: prefs not applied to <html>", target)
			}
			checkOffline(t, target, body)
		}
	}
}

// checkOffline fails if a page loads anything (style, script, image, frame)
// from anywhere but the kiosk itself: the pages must work with no network.
func checkOffline(t *testing.T, name, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				load := (a.Key == "src") || (n.Data == "link" && a.Key == "href")
				if load && (strings.Contains(a.Val, "//") || strings.HasPrefix(a.Val, "data:")) && !strings.HasPrefix(a.Val, "kiosk://") {
					t.Errorf("%s: <%s %s=%q> loads from outside the kiosk", name, n.Data, a.Key, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func TestCSSIsSelfContained(t *testing.T) {
	css, err := os.ReadFile(filepath.Join("dist", "kiosk.css"))
	need(t, err == nil, "kiosk/ui/dist/kiosk.css")
	for _, bad := range []string{"url(", "GDS Transport", "@import", "govuk-crest", "crown"} {
		if strings.Contains(string(css), bad) {
			t.Errorf("kiosk.css contains %q", bad)
		}
	}
}

func TestKioskSchemeLinks(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	r := httptest.NewRequest("GET", "/", nil)
	r.URL, _ = url.Parse("kiosk://guides/pay-council-tax")
	r = r.WithContext(WithPrefs(r.Context(), Prefs{Lang: "pl", TextSize: 2}))
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("kiosk://guides/pay-council-tax: status %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`href="kiosk://assets/kiosk.css"`,
		`href="kiosk://guides"`, // no prefs in links: the shell holds them
		`<html lang="pl" class="govuk-template ak-text-2"`,
		"Zapłać podatek lokalny", // the Polish guide
		`href="kiosk://settings?lang=cy&amp;next=%2Fguides%2Fpay-council-tax"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("kiosk:// page lacks %s", want)
		}
	}
	if strings.Contains(body, "ZgotmplZ") {
		t.Error("html/template refused a kiosk:// URL (ZgotmplZ)")
	}
	if m := regexp.MustCompile(`(href|src)="/[^"]*"`).FindString(body); m != "" {
		t.Errorf("kiosk:// page has a root-relative link %s (it would resolve against the pseudo-host)", m)
	}
}

// The shell's scheme adapter may hand the pages /NAME/rest instead of
// kiosk://NAME/rest; links must still be kiosk:// URLs.
func TestAdaptedRequestLinks(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	r, err := http.NewRequest("GET", "/guides", nil) // as an adapter builds it: no RemoteAddr
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `href="kiosk://guides/pay-council-tax"`) {
		t.Errorf("adapted request: status %d, no kiosk:// link to a guide", w.Code)
	}
	if m := regexp.MustCompile(`(href|src)="/[^"]*"`).FindString(body); m != "" {
		t.Errorf("adapted request: root-relative link %s", m)
	}
}

func TestSettings(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))

	// Without the shell: prefs travel in the query.
	w := get(t, p, "/settings?lang=cy&contrast=high&next=/guides/pay-council-tax")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d", w.Code)
	}
	if got, want := w.Header().Get("Location"), "/guides/pay-council-tax?contrast=high&lang=cy"; got != want {
		t.Errorf("Location: got %q, want %q", got, want)
	}
	if !strings.Contains(w.Body.String(), `http-equiv="refresh"`) {
		t.Error("redirect body does not refresh by itself")
	}

	// With the shell: ChangePrefs merges a link's changes; the request
	// itself changes nothing (the shell takes prefs from the bridge only)
	// and its links carry no prefs.
	got := p.ChangePrefs(Prefs{Lang: "pl", HighContrast: true}, url.Values{"text": {"9"}, "lang": {"xx"}})
	if want := (Prefs{Lang: "pl", HighContrast: true, TextSize: 3}); got != want {
		t.Errorf("ChangePrefs: got %+v, want %+v", got, want)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.URL, _ = url.Parse("kiosk://settings?text=9&next=%2Faccessibility")
	r = r.WithContext(WithPrefs(r.Context(), Prefs{Lang: "pl", HighContrast: true}))
	w = httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if loc := w.Header().Get("Location"); loc != "kiosk://accessibility" {
		t.Errorf("Location: got %q, want kiosk://accessibility", loc)
	}

	// next may only be one of our paths.
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/settings?lang=pl"} {
		w := get(t, p, "/settings?lang=pl&next="+url.QueryEscape(next))
		if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/accessibility") {
			t.Errorf("next=%s: redirected to %q", next, loc)
		}
	}
}

func TestBlockShowsOnlyTheSite(t *testing.T) {
	tests := []struct{ site, want string }{
		{"www.example.com", "www.example.com"},
		{"https://www.Example.com/search?q=my+name", "www.example.com"},
		{"www.example.com/private/path", ""},
		{"user@www.example.com", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := blockSite(tt.site); got != tt.want {
			t.Errorf("blockSite(%q): got %q, want %q", tt.site, got, tt.want)
		}
	}
	p := newTestPages(t, defaultConfig(t))
	for _, page := range []string{"/block", "/offline"} {
		body := get(t, p, page+"?site="+url.QueryEscape("https://evil.example/secret?name=jo")).Body.String()
		if strings.Contains(body, "secret") || strings.Contains(body, "name=jo") {
			t.Errorf("%s page shows more than the site", page)
		}
		if !strings.Contains(body, "evil.example") {
			t.Errorf("%s page does not name the site", page)
		}
	}
}

func TestTilesTranslatedWithFallback(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.Tiles[0].Tiles[0].Translations = map[string]Text{"cy": {Title: "Talu eich treth gyngor"}} // no Welsh description
	body := get(t, newTestPages(t, cfg), "/home?lang=cy").Body.String()
	for _, want := range []string{
		`lang="cy">Talu eich treth gyngor</a>`,
		`lang="en">Pay a bill by debit or credit card</p>`, // English description, marked as English
	} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
}

func TestBrandCSS(t *testing.T) {
	tests := []struct{ colour, want string }{
		{"#00625e", ":root{--ak-brand:#00625e;--ak-brand-text:#ffffff}\n"},
		{"#FFDD00", ":root{--ak-brand:#ffdd00;--ak-brand-text:#0b0c0c}\n"},
		{"", ":root{--ak-brand:#1d70b8;--ak-brand-text:#ffffff}\n"},
	}
	for _, tt := range tests {
		if got := string(brandCSS(tt.colour)); got != tt.want {
			t.Errorf("brandCSS(%q): got %q, want %q", tt.colour, got, tt.want)
		}
	}
}

func TestIdleCountdown(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	tests := []struct{ query, want string }{
		{"seconds=45", `data-ak-countdown="45">45</span>`},
		{"seconds=-1", `data-ak-countdown="30">30</span>`},
		{"seconds=abc", `data-ak-countdown="30">30</span>`},
		{"seconds=20&lang=pl", `Twoja sesja zakończy się za <span class="ak-countdown" data-ak-countdown="20">20</span> s.`},
	}
	for _, tt := range tests {
		if body := get(t, p, "/idle?"+tt.query).Body.String(); !strings.Contains(body, tt.want) {
			t.Errorf("/idle?%s lacks %s", tt.query, tt.want)
		}
	}
}

func TestDefaultUIConfigIsValid(t *testing.T) {
	cfg := defaultConfig(t)
	if err := cfg.Validate(nil, "ui"); err != nil {
		t.Fatal(err)
	}
	urls := cfg.ServiceURLs()
	if len(urls) < 10 {
		t.Errorf("default has %d tiles, want the council's top tasks", len(urls))
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("default tile %s is not https", u)
		}
	}
	// Every tile's guide exists.
	p := newTestPages(t, cfg)
	for _, g := range cfg.Tiles {
		for _, tile := range g.Tiles {
			if tile.Guide != "" {
				if _, ok := p.lib.Get(tile.Guide, "en"); !ok {
					t.Errorf("tile %q names missing guide %q", tile.Title, tile.Guide)
				}
			}
		}
	}
}

func TestValidateFromFile(t *testing.T) {
	type file struct {
		UI Config `yaml:"ui"`
	}
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	const good = "ui:\n  council:\n    name: Testshire\n  tiles:\n    - title: Pay\n      tiles:\n        - title: Council tax\n          url: https://testshire.gov.uk/pay\n"
	tests := []struct{ name, yaml, want string }{
		{"good", good, ""},
		{"good with logo", strings.Replace(good, "name: Testshire", "name: Testshire\n    logo: "+logo, 1), ""},
		{"no name", "ui:\n  welcome: hi\n", "k.yaml:2: ui.council.name: the council's name is required (it heads every page)"},
		{"bad colour", strings.Replace(good, "name: Testshire", "name: Testshire\n    brand_colour: green", 1), `k.yaml:4: ui.council.brand_colour: want a colour as #rrggbb (for example #1d70b8), got "green"`},
		{"missing logo", strings.Replace(good, "name: Testshire", "name: Testshire\n    logo: /nonexistent/logo.png", 1), "k.yaml:4: ui.council.logo: cannot read logo: /nonexistent/logo.png: no such file or directory"},
		{"logo type", strings.Replace(good, "name: Testshire", "name: Testshire\n    logo: logo.gif", 1), `k.yaml:4: ui.council.logo: logo must be an .svg, .png or .jpg file, got "logo.gif"`},
		{"bad url", strings.Replace(good, "https://testshire.gov.uk/pay", "ftp://testshire.gov.uk/pay", 1), `k.yaml:8: ui.tiles[0].tiles[0].url: want an https:// or kiosk:// URL, got "ftp://testshire.gov.uk/pay"`},
		{"no url", strings.Replace(good, "          url: https://testshire.gov.uk/pay\n", "", 1), "k.yaml:7: ui.tiles[0].tiles[0].url: each tile needs the URL of its service"},
		{"empty group", "ui:\n  council:\n    name: T\n  tiles:\n    - title: Pay\n", `k.yaml:5: ui.tiles[0].tiles: group "Pay" has no tiles`},
		{"unknown language", good + "  languages: [en, fr]\n", `k.yaml:9: ui.languages[1]: no translation for "fr"; choose from en, cy, pl`},
		{"twice", good + "  languages: [cy, cy]\n", `k.yaml:9: ui.languages[1]: "cy" is listed twice`},
		{"keyboard", good + "  keyboard: sometimes\n", `k.yaml:9: ui.keyboard: want auto, always or never, got "sometimes"`},
		{"translation language", strings.Replace(good, "    - title: Pay\n", "    - title: Pay\n      translations:\n        de: {title: Zahlen}\n", 1), `k.yaml:7: ui.tiles[0].translations.de: no built-in pages in "de"; choose from en, cy, pl`},
		{"guide id", strings.Replace(good, "url: https://testshire.gov.uk/pay", "url: https://testshire.gov.uk/pay\n          guide: Pay Tax", 1), `k.yaml:9: ui.tiles[0].tiles[0].guide: want a guide ID such as pay-council-tax (its file name without .md), got "Pay Tax"`},
		{"guides dir", good + "  guides_dir: /nonexistent/guides\n", "k.yaml:9: ui.guides_dir: cannot read guides directory: /nonexistent/guides: no such file or directory"},
		{"unknown key", good + "  colour: red\n", `k.yaml:9: ui.colour: unknown key (did you mean "council"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f file
			doc, err := confile.Decode("k.yaml", []byte(tt.yaml), &f)
			if err == nil {
				err = f.UI.Validate(doc, "ui")
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLogoServed(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.svg")
	svg := "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'/>"
	if err := os.WriteFile(logo, []byte(svg), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig(t)
	cfg.Council.Logo = logo
	p := newTestPages(t, cfg)
	w := get(t, p, "/assets/logo")
	if w.Body.String() != svg || w.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("logo: got %q %q", w.Header().Get("Content-Type"), w.Body.String())
	}
	if body := get(t, p, "/home").Body.String(); !strings.Contains(body, `<img class="ak-header__logo" src="/assets/logo" alt="">`) {
		t.Error("home page does not show the logo")
	}
}

// A guide that exists only in English shows in English on a Welsh page,
// with a Welsh notice saying so, and its content marked lang="en".
func TestGuideFallbackNotice(t *testing.T) {
	dir := t.TempDir()
	src := "---\ntitle: Join the library\nlanguage: en\nservice: https://www.camden.gov.uk/libraries\nsteps:\n  - title: Open the page\n    text: Tap the button.\n---\n"
	if err := os.WriteFile(filepath.Join(dir, "library-card.md"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := guides.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	p, err := New(defaultConfig(t), lib, log)
	if err != nil {
		t.Fatal(err)
	}
	body := get(t, p, "/guides/library-card?lang=cy").Body.String()
	for _, want := range []string{
		`<h1 class="govuk-heading-xl" lang="en">Join the library</h1>`,
		messagesCY["guide.notTranslated"],
		`<span class="ak-step__number">Cam 1</span> <span lang="en">Open the page</span>`,
	} {
		if !strings.Contains(body, html.EscapeString(want)) && !strings.Contains(body, want) {
			t.Errorf("Welsh page for an English-only guide lacks %s", want)
		}
	}
	if index := get(t, p, "/guides?lang=cy").Body.String(); !strings.Contains(index, messagesCY["guides.english"]) {
		t.Error("guide index does not mark the English-only guide")
	}
}
