package config

import (
	"strings"
	"testing"
)

const withInsights = `allow:
  - https://www.example.gov.uk
  - https://www.example.gov.uk/council-tax
  - https://*.example.gov.uk
  - https://forms.example.org/pay
session:
  idle_timeout: 2m
  idle_warning: 20s
council:
  name: Example Council
tiles:
  - {id: pay-council-tax, title: Pay council tax, url: "https://www.example.gov.uk/council-tax/pay"}
  - {title: Bins, url: "https://www.example.gov.uk/bins"}
insights:
  services:
    https://www.example.gov.uk: example
    https://www.example.gov.uk/council-tax/: council-tax
    https://*.example.gov.uk: example-forms
`

// TestInsightsServices: each page counts as the most specific allow rule
// with an id that lets it through, none for kiosk:// pages, addresses no
// rule with an id covers, or what the allow list refuses.
func TestInsightsServices(t *testing.T) {
	c, err := Parse("kiosk.yaml", []byte(withInsights))
	if err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]string{
		"https://www.example.gov.uk/council-tax/pay?x=1": "council-tax",
		"https://www.example.gov.uk/council-tax":         "council-tax",
		"https://WWW.example.gov.uk:443/bins":            "example",
		"https://forms.example.gov.uk/":                  "example-forms",
		"https://forms.example.org/pay":                  "",
		"https://evil.example/":                          "",
		"kiosk://guides/pay-council-tax":                 "",
		"http://www.example.gov.uk/":                     "",
	} {
		got, ok := c.Insights.Service(uri)
		if got != want || ok != (want != "") {
			t.Errorf("Service(%q) = %q, %v; want %q", uri, got, ok, want)
		}
	}
	if id := c.UI.Tiles[0].Tiles[0].ID; id != "pay-council-tax" || c.UI.Tiles[0].Tiles[1].ID != "" {
		t.Errorf("tile ids = %q, %q", id, c.UI.Tiles[0].Tiles[1].ID)
	}
}

func TestInsightsBad(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"rule not under allow", "https://*.example.gov.uk: example-forms", "https://www.other.example.gov.uk: other", "is not one of the rules under allow"},
		{"not a rule", "https://*.example.gov.uk: example-forms", "ftp://x: x", "not an allow rule"},
		{"id with a space", "https://*.example.gov.uk: example-forms", "https://*.example.gov.uk: gov uk", "want an id"},
		{"id an address", "https://*.example.gov.uk: example-forms", `https://*.example.gov.uk: "https://www.gov.uk/"`, "want an id"},
		{"tile id twice", "title: Bins,", "id: pay-council-tax, title: Bins,", "the id of another tile"},
		{"tile id with a slash", "id: pay-council-tax", "id: pay/council-tax", "want an id"},
	} {
		y := strings.Replace(withInsights, c.from, c.to, 1)
		if y == withInsights {
			t.Fatalf("%s: nothing replaced", c.name)
		}
		_, err := Parse("kiosk.yaml", []byte(y))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
