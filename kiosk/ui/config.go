package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"accesskiosk/kiosk/guides"

	"accesskiosk/internal/confile"
)

// Config is what the built-in pages show: the council, its tiles, where
// extra guides live and which languages are offered. The kiosk config embeds
// it (see the package doc); every field's comment says what its zero value
// means. Decode the file into it, then call
// Validate with the file's *confile.Doc.
type Config struct {
	// Council is who runs this kiosk. Its name is required.
	Council Council `yaml:"council,omitempty"`
	// Welcome is a short line under the council's name on the home page,
	// in English; "" shows the built-in, translated welcome.
	Welcome string `yaml:"welcome,omitempty"`
	// Tiles are the home page's groups of services, top tasks first. An
	// empty list shows only the guides and help links.
	Tiles []TileGroup `yaml:"tiles,omitempty"`
	// GuidesDir is a directory of extra guides (*.md, see package guides);
	// they replace built-in guides with the same ID and language. "" means
	// the built-in guides only.
	GuidesDir string `yaml:"guides_dir,omitempty"`
	// Languages are the languages a resident can choose, as codes (en, cy,
	// pl); the first is where a session starts. Empty means every language
	// the pages are translated into, English first.
	Languages []string `yaml:"languages,omitempty"`
	// Keyboard says when the on-screen keyboard appears: "auto" (or "") when
	// a touchscreen is present, "always", or "never" (a physical keyboard is
	// attached and the screen is not touch).
	Keyboard string `yaml:"keyboard,omitempty"`
}

// Council describes the council that runs the kiosk.
type Council struct {
	// Name as residents know it: "London Borough of Camden". Required.
	Name string `yaml:"name,omitempty"`
	// Logo is a path to an SVG, PNG or JPEG file (at most 1 MiB) shown
	// beside the name; "" shows the name alone. A relative path is relative
	// to the kiosk's working directory.
	Logo string `yaml:"logo,omitempty"`
	// BrandColour is the header colour as #rrggbb; "" means GOV.UK blue
	// (#1d70b8). Header text is white or black, whichever contrasts more;
	// high-contrast mode ignores it.
	BrandColour string `yaml:"brand_colour,omitempty"`
	// Phone is the number residents call for help, as they should dial it;
	// "" hides the phone line on the help and offline pages.
	Phone string `yaml:"phone,omitempty"`
	// OpeningHours are lines such as "Monday to Friday: 9am to 5pm", in
	// English; empty hides them.
	OpeningHours []string `yaml:"opening_hours,omitempty"`
	// HelpDesk says where a resident finds a volunteer or staff member here,
	// in English ("Ask at the front desk on the ground floor"); "" shows a
	// general "ask a member of staff".
	HelpDesk string `yaml:"help_desk,omitempty"`
}

// TileGroup is a heading on the home page ("Pay", "Report") and its tiles.
type TileGroup struct {
	// Title in English; required.
	Title string `yaml:"title,omitempty"`
	// Translations of Title by language code; a missing language shows the
	// English title.
	Translations map[string]Text `yaml:"translations,omitempty"`
	// Tiles in this group, most used first; at least one.
	Tiles []Tile `yaml:"tiles,omitempty"`
}

// Tile is one service on the home page.
type Tile struct {
	// ID names the tile in what the kiosk counts for the fleet's Insights
	// ("pay-council-tax"): letters, digits and . _ : -, unique among
	// the tiles; "" means the tile is not counted.
	ID string `yaml:"id,omitempty"`
	// Title in plain English ("Pay your council tax"); required.
	Title string `yaml:"title,omitempty"`
	// Description is one line under the title; "" shows none.
	Description string `yaml:"description,omitempty"`
	// URL where the service starts: https:// (or http:// where the allowlist
	// says so) or kiosk://. Required. It must be on the kiosk's allowlist.
	URL string `yaml:"url,omitempty"`
	// Guide is the ID of a guide for this service ("pay-council-tax"); ""
	// shows no "Show me how" link.
	Guide string `yaml:"guide,omitempty"`
	// Translations of Title and Description by language code; a missing
	// language or field shows the English text.
	Translations map[string]Text `yaml:"translations,omitempty"`
}

// Text is a translation of a title and (for tiles) a description.
type Text struct {
	Title       string `yaml:"title,omitempty"`
	Description string `yaml:"description,omitempty"`
}

// Keyboard modes.
const (
	KeyboardAuto   = "auto"
	KeyboardAlways = "always"
	KeyboardNever  = "never"
)

// DefaultBrandColour is GOV.UK's blue, used when the config names none.
const DefaultBrandColour = "#1d70b8"

const maxLogoBytes = 1 << 20

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks c as decoded from a file. doc is the file's Doc (nil for
// a Config built in code) and prefix the key c sits under in that file
// ("ui" when the kiosk config has `ui:`; "" at top level), so errors read
// "kiosk.yaml:12: ui.tiles[0].tiles[2].url: ...". It fills in nothing:
// zero values keep the meanings documented on each field.
func (c *Config) Validate(doc *confile.Doc, prefix string) error {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	if strings.TrimSpace(c.Council.Name) == "" {
		return doc.Errorf(key("council.name"), "the council's name is required (it heads every page)")
	}
	if c.Council.BrandColour != "" && !colourRE.MatchString(c.Council.BrandColour) {
		return doc.Errorf(key("council.brand_colour"), "want a colour as #rrggbb (for example #1d70b8), got %q", c.Council.BrandColour)
	}
	if c.Council.Logo != "" {
		if err := checkLogo(c.Council.Logo); err != nil {
			return doc.Errorf(key("council.logo"), "%v", err)
		}
	}
	for i, h := range c.Council.OpeningHours {
		if strings.TrimSpace(h) == "" {
			return doc.Errorf(key(fmt.Sprintf("council.opening_hours[%d]", i)), "empty line")
		}
	}
	tileIDs := map[string]bool{}
	for i, g := range c.Tiles {
		gk := key(fmt.Sprintf("tiles[%d]", i))
		if strings.TrimSpace(g.Title) == "" {
			return doc.Errorf(gk+".title", "each tile group needs a title")
		}
		if len(g.Tiles) == 0 {
			return doc.Errorf(gk+".tiles", "group %q has no tiles", g.Title)
		}
		if err := checkTranslations(doc, gk, g.Translations, false); err != nil {
			return err
		}
		for j, t := range g.Tiles {
			tk := fmt.Sprintf("%s.tiles[%d]", gk, j)
			if strings.TrimSpace(t.Title) == "" {
				return doc.Errorf(tk+".title", "each tile needs a title")
			}
			if t.URL == "" {
				return doc.Errorf(tk+".url", "each tile needs the URL of its service")
			}
			if err := guides.CheckServiceURL(t.URL); err != nil {
				return doc.Errorf(tk+".url", "%v", err)
			}
			if err := checkTileID(doc, tk, t.ID, tileIDs); err != nil {
				return err
			}
			if t.Guide != "" && !guideIDRE.MatchString(t.Guide) {
				return doc.Errorf(tk+".guide", "want a guide ID such as pay-council-tax (its file name without .md), got %q", t.Guide)
			}
			if err := checkTranslations(doc, tk, t.Translations, true); err != nil {
				return err
			}
		}
	}
	if c.GuidesDir != "" {
		st, err := os.Stat(c.GuidesDir)
		if err != nil {
			return doc.Errorf(key("guides_dir"), "cannot read guides directory: %v", unwrapPathError(err))
		}
		if !st.IsDir() {
			return doc.Errorf(key("guides_dir"), "%s is not a directory", c.GuidesDir)
		}
	}
	seen := map[string]bool{}
	for i, l := range c.Languages {
		if !known(l) {
			return doc.Errorf(key(fmt.Sprintf("languages[%d]", i)), "no translation for %q; choose from %s", l, strings.Join(Languages(), ", "))
		}
		if seen[l] {
			return doc.Errorf(key(fmt.Sprintf("languages[%d]", i)), "%q is listed twice", l)
		}
		seen[l] = true
	}
	switch c.Keyboard {
	case "", KeyboardAuto, KeyboardAlways, KeyboardNever:
	default:
		return doc.Errorf(key("keyboard"), "want auto, always or never, got %q", c.Keyboard)
	}
	return nil
}

var guideIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

var tileIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// checkTileID checks a tile's id (tk its key): optional, and unique
// among the tiles (seen).
func checkTileID(doc *confile.Doc, tk, id string, seen map[string]bool) error {
	if id == "" {
		return nil
	}
	if !tileIDRE.MatchString(id) {
		return doc.Errorf(tk+".id", "want an id of letters, digits and . _ : - (at most 64), such as pay-council-tax, got %q", id)
	}
	if seen[id] {
		return doc.Errorf(tk+".id", "%q is the id of another tile", id)
	}
	seen[id] = true
	return nil
}

func checkTranslations(doc *confile.Doc, k string, m map[string]Text, descriptions bool) error {
	for lang, tr := range m {
		tk := k + ".translations." + lang
		if !known(lang) {
			return doc.Errorf(tk, "no built-in pages in %q; choose from %s", lang, strings.Join(Languages(), ", "))
		}
		if !descriptions && tr.Description != "" {
			return doc.Errorf(tk+".description", "a tile group has a title only")
		}
		if tr.Title == "" && tr.Description == "" {
			return doc.Errorf(tk, "empty translation")
		}
	}
	return nil
}

func checkLogo(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg", ".png", ".jpg", ".jpeg":
	default:
		return fmt.Errorf("logo must be an .svg, .png or .jpg file, got %q", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read logo: %v", unwrapPathError(err))
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory, not a logo file", path)
	}
	if st.Size() > maxLogoBytes {
		return fmt.Errorf("logo is %d bytes; keep it under 1 MiB", st.Size())
	}
	return nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// ServiceURLs returns every tile URL, so the kiosk can check at start that
// each is on its allowlist (a tile the allowlist blocks is a broken promise
// on the home page).
func (c *Config) ServiceURLs() []string {
	var out []string
	for _, g := range c.Tiles {
		for _, t := range g.Tiles {
			out = append(out, t.URL)
		}
	}
	return out
}
