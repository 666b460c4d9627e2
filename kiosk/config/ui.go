package config

import (
	"fmt"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/ui"
)

// validateUI checks the `ui:` section (the built-in pages: council details,
// grouped tiles, guides, languages; see package kiosk/ui) and fills it in
// from the top-level keys where it is silent: ui.council.name and
// ui.council.phone default to council.name and council.phone, and with no
// ui.tiles the top-level tiles become one group. Every ui tile must be on
// the allow list.
func (c *Config) validateUI(doc *confile.Doc) error {
	u := &c.UI
	if u.Council.Name == "" {
		u.Council.Name = c.Council.Name
	}
	if u.Council.Phone == "" {
		u.Council.Phone = c.Council.Phone
	}
	if len(u.Tiles) == 0 && len(c.Tiles) > 0 {
		g := ui.TileGroup{Title: "Services"}
		for _, t := range c.Tiles {
			g.Tiles = append(g.Tiles, ui.Tile{ID: t.ID, Title: t.Title, Description: t.Description, URL: t.URL})
		}
		u.Tiles = []ui.TileGroup{g}
		return u.Validate(doc, "ui")
	}
	if err := u.Validate(doc, "ui"); err != nil {
		return err
	}
	for i, g := range u.Tiles {
		for j, t := range g.Tiles {
			if d := c.AllowList.Decide(t.URL); !d.Allow {
				return doc.Errorf(fmt.Sprintf("ui.tiles[%d].tiles[%d].url", i, j), "is not allowed by any rule in allow (%s)", d.Reason)
			}
		}
	}
	return nil
}
