package insights

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares every chart's SVG and CSV, and the whole JSON
// export, of two seeded pages with the files in testdata/golden
// (go test -run Golden -update ./fleet/insights rewrites them; read the
// diff before committing).
func TestGolden(t *testing.T) {
	in := seedInput(42, councilSites, Date{2025, time.April, 1}, 6)
	for _, c := range []struct {
		name, site, period string
	}{{"central-2025-06", "central", "2025-06"}, {"all-fy2025-q1", "", "fy2025-q1"}} {
		p, err := ParsePeriod(c.period, time.April)
		if err != nil {
			t.Fatal(err)
		}
		f := mustBuild(in, c.site, p, 5)
		files := map[string][]byte{}
		var js bytes.Buffer
		if err := f.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		files["figures.json"] = js.Bytes()
		for _, ch := range f.Charts() {
			var csv bytes.Buffer
			if err := ch.Table.WriteCSV(&csv); err != nil {
				t.Fatal(err)
			}
			files[ch.ID+".csv"] = csv.Bytes()
			if ch.SVG != "" {
				files[ch.ID+".svg"] = []byte(string(ch.SVG) + "\n")
			}
		}
		dir := filepath.Join("testdata", "golden", c.name)
		if *update {
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, got := range files {
			path := filepath.Join(dir, name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run with -update to write it)", err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (run with -update and read the diff)", path)
			}
		}
		if entries, _ := os.ReadDir(dir); !*update && len(entries) != len(files) {
			t.Errorf("%s holds %d files, the page makes %d", dir, len(entries), len(files))
		}
	}
}
