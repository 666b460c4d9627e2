package config

import (
	"strings"
	"testing"
)

func TestDefaultUI(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.UI.Council.Name != c.Council.Name || c.UI.Council.Phone != c.Council.Phone {
		t.Errorf("ui.council = %q %q, want the top-level council's", c.UI.Council.Name, c.UI.Council.Phone)
	}
	if len(c.UI.Tiles) < 4 {
		t.Errorf("default home has %d tile groups, want the council's needs grouped", len(c.UI.Tiles))
	}
	for _, u := range c.UI.ServiceURLs() {
		if !c.AllowList.Decide(u).Allow {
			t.Errorf("default tile %s is not on the default allow list", u)
		}
	}
}

func TestUISection(t *testing.T) {
	flat, err := Parse("kiosk.yaml", []byte(good+"tiles:\n  - title: Pay\n    url: https://www.example.gov.uk/pay\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(flat.UI.Tiles) != 1 || flat.UI.Tiles[0].Tiles[0].URL != "https://www.example.gov.uk/pay" || flat.UI.Council.Name != "Example Council" {
		t.Errorf("without ui:, the pages get %+v", flat.UI)
	}

	tests := []struct {
		name, add, want string
	}{
		{"off-list tile", "ui:\n  tiles:\n    - title: Pay\n      tiles:\n        - title: X\n          url: https://evil.example.com/\n",
			"kiosk.yaml:14: ui.tiles[0].tiles[0].url: is not allowed by any rule in allow"},
		{"bad colour", "ui:\n  council:\n    brand_colour: red\n", `kiosk.yaml:11: ui.council.brand_colour: want a colour as #rrggbb`},
		{"unknown key", "ui:\n  colour: red\n", "kiosk.yaml:10: ui.colour: unknown key"},
	}
	for _, tt := range tests {
		_, err := Parse("kiosk.yaml", []byte(good+tt.add))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %s...", tt.name, err, tt.want)
		}
	}
}
