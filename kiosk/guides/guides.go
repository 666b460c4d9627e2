// Package guides provides the kiosk's assisted-digital guides: short,
// step-by-step explanations of a council service that a resident (or the
// volunteer beside them) reads next to the service itself.
//
// # Format
//
// A guide is one UTF-8 Markdown file whose name is ID.md or ID.LANG.md
// (pay-council-tax.md, pay-council-tax.cy.md). It starts with YAML front
// matter between two "---" lines, decoded strictly (unknown keys are errors):
//
//	---
//	title: Pay your council tax          # required, plain text
//	language: en                          # required: en, cy, pl, ... (must agree with ID.LANG.md)
//	service: https://www.example.gov.uk/pay  # required: where the service starts (http(s) or kiosk://)
//	summary: Pay a bill by debit card.    # optional: one line for the guide list
//	order: 20                             # optional: place in the list (lower first; 0 = after numbered ones)
//	need:                                 # optional: what you will need for the whole task
//	  - your council tax bill
//	steps:                                # required: at least one
//	  - title: Open the payment page      # required, plain text
//	    text: |                           # required, Markdown, short (at most 600 characters)
//	      Tap **Open the service**.
//	    need: [your bill]                 # optional: what you will need for this step
//	    see: A page headed "Pay council tax"  # optional: what you will see when it worked
//	    link: https://www.example.gov.uk/pay  # optional: a service page this step opens
//	---
//	Optional Markdown shown above the steps ("Before you start").
//
// Markdown is rendered with goldmark (CommonMark); raw HTML in a guide is
// dropped, never passed through. Any problem is a *confile.Error naming the
// file, the line and the key ("pay-council-tax.md:7: steps[0].title: ...").
//
// # Languages
//
// The same ID in several languages is one guide; Library.Get falls back to
// English, and the guide reports the language it is really in, so a page can
// say "This guide is not yet available in Cymraeg".
//
// The built-in guides live in builtin/ and are embedded in the binary; Load
// adds (or replaces, by ID and language) guides from a directory named in the
// kiosk config, for example one the fleet pushes.
package guides

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/yuin/goldmark"

	"accesskiosk/internal/confile"
)

// DefaultLanguage is the language every guide should exist in, and the one
// used when a guide is missing in the language asked for.
const DefaultLanguage = "en"

// MaxStepText is the longest a step's text may be, in characters. Steps are
// read by people who find reading hard, beside a form: keep them short.
const MaxStepText = 600

// Guide is one guide in one language.
type Guide struct {
	ID      string        // from the file name: "pay-council-tax"
	Lang    string        // language it is written in: "en"
	File    string        // where it came from, for error messages
	Title   string        // plain text
	Service string        // URL where the service starts
	Summary string        // plain text, may be empty
	Order   int           // 0 = after the numbered ones
	Need    []string      // what you will need for the whole task
	Intro   template.HTML // rendered Markdown body; may be empty
	Steps   []Step
}

// Step is one short step of a guide.
type Step struct {
	Title string
	HTML  template.HTML // rendered Markdown
	Need  []string      // what you will need for this step
	See   string        // what you will see when it worked
	Link  string        // a service page this step opens; may be empty
}

// frontMatter is the YAML head of a guide file.
type frontMatter struct {
	Title    string      `yaml:"title"`
	Language string      `yaml:"language"`
	Service  string      `yaml:"service"`
	Summary  string      `yaml:"summary"`
	Order    int         `yaml:"order"`
	Need     []string    `yaml:"need"`
	Steps    []stepInput `yaml:"steps"`
}

type stepInput struct {
	Title string   `yaml:"title"`
	Text  string   `yaml:"text"`
	Need  []string `yaml:"need"`
	See   string   `yaml:"see"`
	Link  string   `yaml:"link"`
}

var (
	idRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	langRE = regexp.MustCompile(`^[a-z]{2,3}$`)
	md     = goldmark.New() // CommonMark, raw HTML dropped
)

// Parse reads one guide. name is the file name (its base gives the ID and
// optional language); errors are *confile.Error values naming it.
func Parse(name string, data []byte) (*Guide, error) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	fail := func(line int, key, format string, args ...any) error {
		return &confile.Error{File: name, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	stem, ok := strings.CutSuffix(base, ".md")
	if !ok {
		return nil, fail(0, "", "a guide file name must end in .md")
	}
	id, fileLang, _ := strings.Cut(stem, ".")
	if !idRE.MatchString(id) {
		return nil, fail(0, "", "guide id %q (from the file name) must be lower-case letters, digits and dashes", id)
	}
	if fileLang != "" && !langRE.MatchString(fileLang) {
		return nil, fail(0, "", "file name must be ID.md or ID.LANG.md (LANG like cy or pl), got %q", base)
	}

	head, body, bodyLine, err := splitFrontMatter(data)
	if err != nil {
		return nil, fail(1, "", "%v", err)
	}
	var fm frontMatter
	doc, err := confile.Decode(name, head, &fm)
	if err != nil {
		return nil, shiftLine(err, 1)
	}
	errf := func(key, format string, args ...any) error {
		return shiftLine(doc.Errorf(key, format, args...), 1)
	}

	g := &Guide{ID: id, File: name, Order: fm.Order}
	g.Title = strings.TrimSpace(fm.Title)
	if g.Title == "" {
		return nil, errf("title", "a guide needs a title")
	}
	g.Lang = strings.TrimSpace(fm.Language)
	switch {
	case g.Lang == "":
		return nil, errf("language", "a guide needs a language (en, cy, pl, ...)")
	case !langRE.MatchString(g.Lang):
		return nil, errf("language", "want a two- or three-letter language code such as en, cy or pl, got %q", g.Lang)
	case fileLang != "" && fileLang != g.Lang:
		return nil, errf("language", "says %q but the file name says %q", g.Lang, fileLang)
	}
	if fm.Service == "" {
		return nil, errf("service", "a guide needs the URL of the service it explains")
	}
	if err := CheckServiceURL(fm.Service); err != nil {
		return nil, errf("service", "%v", err)
	}
	g.Service = fm.Service
	g.Summary = strings.TrimSpace(fm.Summary)
	for i, n := range fm.Need {
		if strings.TrimSpace(n) == "" {
			return nil, errf(fmt.Sprintf("need[%d]", i), "empty item")
		}
	}
	g.Need = fm.Need
	if len(fm.Steps) == 0 {
		return nil, errf("steps", "a guide needs at least one step")
	}
	for i, s := range fm.Steps {
		key := fmt.Sprintf("steps[%d]", i)
		st := Step{Title: strings.TrimSpace(s.Title), Need: s.Need, See: strings.TrimSpace(s.See), Link: s.Link}
		if st.Title == "" {
			return nil, errf(key+".title", "each step needs a title")
		}
		text := strings.TrimSpace(s.Text)
		if text == "" {
			return nil, errf(key+".text", "each step needs some text")
		}
		if n := len([]rune(text)); n > MaxStepText {
			return nil, errf(key+".text", "step is %d characters long; keep each step under %d (split it in two)", n, MaxStepText)
		}
		if st.Link != "" {
			if err := CheckServiceURL(st.Link); err != nil {
				return nil, errf(key+".link", "%v", err)
			}
		}
		if st.HTML, err = render(text); err != nil {
			return nil, errf(key+".text", "%v", err)
		}
		g.Steps = append(g.Steps, st)
	}
	if strings.TrimSpace(string(body)) != "" {
		if g.Intro, err = render(string(body)); err != nil {
			return nil, fail(bodyLine, "", "%v", err)
		}
	}
	return g, nil
}

// splitFrontMatter cuts "---\nYAML\n---\nbody" and returns the body's
// first line number.
func splitFrontMatter(data []byte) (head, body []byte, bodyLine int, err error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, nil, 0, errors.New(`a guide must start with front matter: a line "---", the YAML keys (title, language, service, steps), and another "---"`)
	}
	lines := strings.SplitAfter(string(data[4:]), "\n")
	off := 4
	for i, l := range lines {
		if strings.TrimRight(l, " \t\n") == "---" {
			return data[4:off], data[off+len(l):], i + 3, nil
		}
		off += len(l)
	}
	return nil, nil, 0, errors.New(`front matter is not closed: add a line "---" after the YAML keys`)
}

func shiftLine(err error, by int) error {
	var ce *confile.Error
	if errors.As(err, &ce) && ce.Line > 0 {
		ce.Line += by
	}
	return err
}

// CheckServiceURL checks a URL a guide or a home-page tile points at: an
// http(s) URL with a host, or a kiosk:// page, and never with a user name
// or password in it. Whether the kiosk's allowlist admits it is checked by
// the kiosk config.
func CheckServiceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %q", s)
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return fmt.Errorf("URL %q has no host", s)
		}
	case "kiosk":
	default:
		return fmt.Errorf("want an https:// or kiosk:// URL, got %q", s)
	}
	if u.User != nil {
		return fmt.Errorf("URL %q must not carry a user name or password", s)
	}
	return nil
}

func render(src string) (template.HTML, error) {
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		return "", fmt.Errorf("render Markdown: %w", err)
	}
	return template.HTML(b.String()), nil // goldmark escapes text and drops raw HTML
}

//go:embed builtin/*.md
var builtinFS embed.FS

// Library holds guides by ID and language. It is read-only once built, and
// safe for concurrent use.
type Library struct {
	byID map[string]map[string]*Guide
}

// Builtin returns the library of built-in guides. The built-in guides are
// tested, so an error here is a bug in this package.
func Builtin() (*Library, error) {
	l := &Library{byID: map[string]map[string]*Guide{}}
	sub, err := fs.Sub(builtinFS, "builtin")
	if err != nil {
		return nil, err
	}
	if errs := l.addFS(sub, "builtin"); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

// Load returns the built-in guides plus those in dir (an empty dir means
// none), which replace built-in ones with the same ID and language. A bad
// file in dir is skipped: Load still returns the library of every good guide,
// with an error that names each bad file, the line and the key. A dir that
// cannot be read is an error too, with the built-in library.
func Load(dir string) (*Library, error) {
	l, err := Builtin()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return l, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return l, fmt.Errorf("read guides directory: %w", err)
	}
	if !st.IsDir() {
		return l, fmt.Errorf("read guides directory %s: not a directory", dir)
	}
	return l, errors.Join(l.addFS(os.DirFS(dir), dir)...)
}

func (l *Library) addFS(fsys fs.FS, dir string) []error {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return []error{fmt.Errorf("list guides in %s: %w", dir, err)}
	}
	var errs []error
	for _, n := range names {
		file := path.Join(dir, n)
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("read guide %s: %w", file, err))
			continue
		}
		g, err := Parse(file, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l.add(g)
	}
	return errs
}

func (l *Library) add(g *Guide) {
	m := l.byID[g.ID]
	if m == nil {
		m = map[string]*Guide{}
		l.byID[g.ID] = m
	}
	m[g.Lang] = g
}

// Get returns guide id in lang, else in English, else in any language (the
// first by language code). ok is false when there is no guide with that ID.
// The returned guide's Lang says which language it really is in.
func (l *Library) Get(id, lang string) (g *Guide, ok bool) {
	m := l.byID[id]
	if len(m) == 0 {
		return nil, false
	}
	if g := m[lang]; g != nil {
		return g, true
	}
	if g := m[DefaultLanguage]; g != nil {
		return g, true
	}
	langs := make([]string, 0, len(m))
	for k := range m {
		langs = append(langs, k)
	}
	sort.Strings(langs)
	return m[langs[0]], true
}

// List returns every guide, each in lang where it exists (else as Get
// falls back), ordered by Order (numbered first) and then title.
func (l *Library) List(lang string) []*Guide {
	out := make([]*Guide, 0, len(l.byID))
	for id := range l.byID {
		g, _ := l.Get(id, lang)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Order == 0) != (b.Order == 0) {
			return a.Order != 0
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Title < b.Title
	})
	return out
}

// Languages returns the languages guide id exists in, sorted.
func (l *Library) Languages(id string) []string {
	var out []string
	for k := range l.byID[id] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Len is the number of distinct guide IDs.
func (l *Library) Len() int { return len(l.byID) }
