package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInsightsConfig: the insights section is read strictly, a kind of the
// vocabulary left out keeps its default, and bad values name file, line
// and key.
func TestInsightsConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := LoadConfig(write("good.yaml", `council_name: Anytown
insights:
  k: 10
  time_zone: Europe/London
  year_start: January
  vocabulary:
    tiles:
      pay-council-tax: Pay your council tax
      bins: Report a missed bin
    services: {council: The council's website}
`))
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Insights
	if in.K != 10 || in.Zone().String() != "Europe/London" || in.FinancialYearStart() != time.January || in.KeepMonths != 36 {
		t.Errorf("insights = %+v", in)
	}
	if len(in.Vocabulary.Tiles) != 2 || in.Vocabulary.Services["council"] == "" || in.Vocabulary.Categories["council_tax"] != "Council tax" || in.Vocabulary.Languages["cy"] == "" {
		t.Errorf("vocabulary = %+v", in.Vocabulary)
	}
	if DefaultConfig().Insights.Zone() != time.Local || DefaultConfig().Insights.FinancialYearStart() != time.April {
		t.Error("defaults: the server's time zone and April")
	}
	for _, c := range []struct{ body, want string }{
		{"insights:\n  k: 2\n", "bad.yaml:2: insights.k: must be 3 to 100"},
		{"insights:\n  time_zone: Mars/Olympus\n", "bad.yaml:2: insights.time_zone"},
		{"insights:\n  year_start: spring\n", "bad.yaml:2: insights.year_start"},
		{"insights:\n  keep_months: 12\n", "bad.yaml:2: insights.keep_months"},
		{"insights:\n  vocabulary:\n    tiles:\n      ok: OK\n      'https://evil.example/': Evil\n", "bad.yaml:5: insights.vocabulary.tiles.https://evil.example/: an identifier is"},
		{"insights:\n  vocabulary:\n    guides:\n      g: ''\n", "bad.yaml:4: insights.vocabulary.guides.g: the label"},
		{"insights:\n  vocabulary:\n    urls: {}\n", "bad.yaml:3"},
	} {
		_, err := LoadConfig(write("bad.yaml", c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.body, err, c.want)
		}
	}
}
