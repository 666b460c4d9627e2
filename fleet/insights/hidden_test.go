package insights

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// The small-number properties, on seeded councils full of cells of 1 to 4.

type pageKey struct {
	site string
	p    Period
}

// pagesOf lists the pages of the year 2025 a council has: each site and
// all sites, for each month with data and for the year.
func pagesOf(in *Input) []pageKey {
	months := map[Date]bool{}
	for _, h := range in.Hours {
		months[h.Date.firstOfMonth()] = true
	}
	var out []pageKey
	for _, site := range append([]string{""}, siteIDs(in)...) {
		out = append(out, pageKey{site, FinancialYear(2025, time.April)})
		for _, m := range FinancialYear(2025, time.April).Months() {
			if months[m.Start()] {
				out = append(out, pageKey{site, m})
			}
		}
	}
	return out
}

func siteIDs(in *Input) []string {
	var ids []string
	for _, s := range in.Sites {
		ids = append(ids, s.ID)
	}
	return ids
}

// pageFigures is Build's result for a page, from a builder that already made
// the year's lattice (so that many pages cost one build).
func pageFigures(b *builder, pk pageKey) *Figures {
	months := pk.p.Months()
	r := b.release(pk.site, pk.p, months)
	name := "All sites"
	if pk.site != "" {
		name = siteName(b.site[pk.site])
	}
	return b.figures(r, Options{Site: pk.site, Period: pk.p}, name, months)
}

// figsOf lists every figure of a release and of the releases it shows
// figures of (each site; each month), in a fixed order.
func figsOf(r *release) []*fig {
	var out []*fig
	add := func(r *release) {
		out = append(out, &r.total, &r.in, &r.out, &r.assisted, &r.uncat)
		for o := range r.outs {
			out = append(out, &r.outs[o])
		}
		for d := range r.heat {
			for h := range r.heat[d] {
				out = append(out, &r.heat[d][h])
			}
		}
		for _, dim := range Dimensions {
			for _, id := range sortedKeys(r.items[dim]) {
				out = append(out, r.items[dim][id])
			}
		}
		for _, bk := range r.blocks {
			out = append(out, &bk.sessions, &bk.assisted)
			for o := range bk.outs {
				out = append(out, &bk.outs[o])
			}
		}
	}
	add(r)
	for _, c := range r.bySite {
		add(c)
	}
	for _, c := range r.byMonth {
		add(c)
	}
	return out
}

func clone(in *Input) *Input {
	out := *in
	out.Hours = append([]HourCount(nil), in.Hours...)
	out.Items = append([]ItemCount(nil), in.Items...)
	return &out
}

// move changes one session's hidden detail, keeping every total: it
// moves a session to another hour of the same day (same opening state),
// to another identifier of the same day, or changes an outcome.
func move(rng *rand.Rand, in *Input) (*Input, string) {
	out := clone(in)
	hours := map[string]Week{}
	for _, s := range in.Sites {
		hours[s.ID] = s.Hours
	}
	for try := 0; try < 100; try++ {
		switch rng.IntN(3) {
		case 0: // a session to another hour
			i := rng.IntN(len(out.Hours))
			h := out.Hours[i]
			if h.Sessions-h.Assisted < 1 {
				continue
			}
			to := rng.IntN(24)
			w, wd := hours[h.Site], h.Date.Weekday()
			if to == h.Hour || w.OpenDuring(wd, to) != w.OpenDuring(wd, h.Hour) {
				continue
			}
			out.Hours[i].Sessions--
			j := -1
			for k, x := range out.Hours {
				if x.Site == h.Site && x.Date == h.Date && x.Hour == to {
					j = k
				}
			}
			if j < 0 {
				out.Hours = append(out.Hours, HourCount{Site: h.Site, Date: h.Date, Hour: to})
				j = len(out.Hours) - 1
			}
			out.Hours[j].Sessions++
			return out, fmt.Sprintf("a session at %s %s %02d:00 moved to %02d:00", h.Site, h.Date, h.Hour, to)
		case 1: // an identifier's session to another identifier
			if len(out.Items) == 0 {
				continue
			}
			i := rng.IntN(len(out.Items))
			it := out.Items[i]
			ids := sortedKeys(vocab[it.Dim])
			to := ids[rng.IntN(len(ids))]
			if to == it.ID || it.Sessions < 1 {
				continue
			}
			j := -1
			for k, x := range out.Items {
				if x.Site == it.Site && x.Date == it.Date && x.Dim == it.Dim && x.ID == to {
					j = k
				}
			}
			if j < 0 {
				out.Items = append(out.Items, ItemCount{Site: it.Site, Date: it.Date, Dim: it.Dim, ID: to})
				j = len(out.Items) - 1
			}
			out.Items[i].Sessions--
			out.Items[j].Sessions++
			if out.Validate() != nil {
				return in, "" // a multi-use identifier over the day's sessions: try again
			}
			return out, fmt.Sprintf("a %s at %s %s moved from %s to %s", it.Dim, it.Site, it.Date, it.ID, to)
		case 2: // an outcome changed
			i := rng.IntN(len(out.Hours))
			h := &out.Hours[i]
			switch {
			case h.Done > 0:
				h.Done--
				h.Referred++
			case h.FollowUp > 0:
				h.FollowUp--
				h.Done++
			default:
				continue
			}
			return out, fmt.Sprintf("an outcome at %s %s %02d:00 changed", h.Site, h.Date, h.Hour)
		}
	}
	return in, ""
}

// TestHiddenValuesDoNotShow is the rule's promise as a property: change
// a count that is hidden ("fewer than K") to another hidden value, keeping
// every total, and no page, CSV, JSON or report may change in a single
// byte. Whatever the outputs show, then, says nothing about the hidden
// value.
func TestHiddenValuesDoNotShow(t *testing.T) {
	same, changed := 0, 0
	for seed := uint64(0); seed < 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		a := smallCouncil(seed)
		for m := 0; m < 4; m++ {
			b, what := move(rng, a)
			if what == "" {
				continue
			}
			if err := b.Validate(); err != nil {
				t.Fatalf("seed %d: %s made bad input: %v", seed, what, err)
			}
			la, lb := lattice(t, a, 5), lattice(t, b, 5)
			for _, pk := range pagesOf(a) {
				ra := la.release(pk.site, pk.p, pk.p.Months())
				rb := lb.release(pk.site, pk.p, pk.p.Months())
				fa, fb := figsOf(ra), figsOf(rb)
				onlyHidden := len(fa) == len(fb)
				for i := range fa {
					if onlyHidden && fa[i].raw != fb[i].raw && (fa[i].raw >= 5 || fb[i].raw >= 5) {
						onlyHidden = false
					}
				}
				if !onlyHidden {
					changed++
					continue
				}
				same++
				pa, pb := pageFigures(la, pk), pageFigures(lb, pk)
				if !reflect.DeepEqual(pa, pb) {
					t.Errorf("seed %d, %s: page %q %s changed although only hidden counts did", seed, what, pk.site, pk.p.Key())
					continue
				}
				if oa, ob := outputs(t, pa), outputs(t, pb); oa != ob {
					t.Errorf("seed %d, %s: outputs of %q %s differ", seed, what, pk.site, pk.p.Key())
				}
			}
		}
	}
	t.Logf("%d pages where only hidden counts changed (all identical), %d where a shown one did", same, changed)
	if same < 40 {
		t.Errorf("only %d pages tested", same)
	}
}

// outputs renders everything a page can give out.
func outputs(t testing.TB, f *Figures) string {
	t.Helper()
	var b bytes.Buffer
	exp := func(id, format string) string { return "/x/" + id + "." + format }
	if err := f.RenderPage(&b, PageOptions{Council: "Test", ExportURL: exp}); err != nil {
		t.Fatal(err)
	}
	if err := f.RenderReport(&b, ReportOptions{Council: "Test", Made: "today", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Charts() {
		if err := c.Table.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// countText is every way the outputs may write a count: a multiple of K
// of at least K (with thousands separators, or shortened as 52k), fewer
// than K, withheld, or not applicable.
func countOK(s string, k int) bool {
	s = strings.TrimSuffix(strings.TrimSpace(s), " (closed)")
	switch s {
	case fmt.Sprintf("fewer than %d", k), fmt.Sprintf("<%d", k), "withheld", "–", "", "no opening hours set":
		return true
	}
	if strings.HasSuffix(s, "k") || strings.HasSuffix(s, "m") {
		n, err := strconv.ParseFloat(strings.TrimRight(s, "km"), 64)
		return err == nil && n >= 10
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return err == nil && n >= k && n%k == 0
}

// TestNoSmallNumberInAnyOutput reads every output the way a person or a
// program would and checks every place a count is written: CSV count
// columns, JSON count objects, the page's and report's count cells and
// key figures, and the labels of the SVGs. None may hold a number under
// K, or a number that is not a multiple of K; and the sentences may only
// say "about N" of a shown count.
func TestNoSmallNumberInAnyOutput(t *testing.T) {
	checked := 0
	for seed := uint64(100); seed < 108; seed++ {
		in := smallCouncil(seed)
		for _, k := range []int{5, 3, 10} {
			b := lattice(t, in, k)
			for _, pk := range pagesOf(in) {
				f := pageFigures(b, pk)
				where := fmt.Sprintf("seed %d k %d %q %s", seed, k, pk.site, pk.p.Key())
				for _, c := range f.Charts() {
					var buf bytes.Buffer
					c.Table.WriteCSV(&buf)
					recs, err := csv.NewReader(&buf).ReadAll()
					if err != nil {
						t.Fatal(err)
					}
					for _, rec := range recs[1:] {
						for i, col := range c.Table.Columns {
							if col.Type == CountColumn {
								checked++
								if !countOK(rec[i], k) {
									t.Errorf("%s: CSV %s %s = %q", where, c.ID, col.Key, rec[i])
								}
							}
						}
					}
				}
				var js bytes.Buffer
				f.WriteJSON(&js)
				var doc struct {
					Charts []struct {
						ID      string
						Columns []struct{ Key, Type string }
						Rows    []map[string]json.RawMessage
					}
				}
				if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				for _, c := range doc.Charts {
					for _, row := range c.Rows {
						for _, col := range c.Columns {
							if col.Type != "count" {
								continue
							}
							checked++
							var v struct {
								Count     *int
								FewerThan *int `json:"fewer_than"`
								Withheld  *bool
							}
							raw := row[col.Key]
							if string(raw) == "null" {
								continue
							}
							if err := json.Unmarshal(raw, &v); err != nil || (v.Count == nil) == (v.FewerThan == nil && v.Withheld == nil) ||
								v.Count != nil && (*v.Count < k || *v.Count%k != 0) || v.FewerThan != nil && *v.FewerThan != k {
								t.Errorf("%s: JSON %s %s = %s", where, c.ID, col.Key, raw)
							}
						}
					}
				}
				for _, kind := range []string{"page", "report"} {
					var buf bytes.Buffer
					if kind == "page" {
						f.RenderPage(&buf, PageOptions{})
					} else {
						f.RenderReport(&buf, ReportOptions{})
					}
					doc, err := html.Parse(&buf)
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					walk(doc, func(e *html.Node) {
						cls := attr(e, "class")
						if hasClass(cls, "ak-count") || e.Data == "text" && hasClass(cls, "ak-n") {
							n++
							checked++
							if s := textOf(e); !countOK(s, k) {
								t.Errorf("%s: %s: count written %q", where, kind, s)
							}
						}
						if hasClass(cls, "ak-chart__summary") || hasClass(cls, "ak-report__paragraph") {
							for _, m := range aboutN.FindAllStringSubmatch(textOf(e), -1) {
								checked++
								if !countOK(m[1], k) {
									t.Errorf("%s: %s: sentence says %q", where, kind, m[0])
								}
							}
						}
					})
					if n < 7*10 {
						t.Errorf("%s: %s: only %d counts found", where, kind, n)
					}
				}
			}
		}
	}
	t.Logf("%d written counts checked", checked)
}

var aboutN = regexp.MustCompile(`about ([0-9][0-9,]*)`)

func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(cls, c string) bool {
	for _, x := range strings.Fields(cls) {
		if x == c {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
