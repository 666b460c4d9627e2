package insights

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// assets holds the compiled stylesheets (`make assets`): insights.css
// (GOV.UK Frontend and the charts, for the standalone page) and report.css
// (the same with print rules, inlined in the report). Only .gitkeep on a
// fresh clone.
//
//go:embed all:assets
var assetFS embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{"lower": strings.ToLower}).ParseFS(templateFS, "templates/*.html"))

// Stylesheet is the compiled stylesheet for the standalone page
// (RenderPage), and false when `make assets` has not been run. The
// console's own stylesheet gets the chart rules by using
// fleet/insights/scss/_charts.scss.
func Stylesheet() ([]byte, bool) {
	b, err := fs.ReadFile(assetFS, "assets/insights.css")
	return b, err == nil
}

func reportCSS() string {
	b, _ := fs.ReadFile(assetFS, "assets/report.css")
	return string(b)
}

// ReportCSP is a Content-Security-Policy for serving a report: the
// report's stylesheet is inline (so that a saved copy prints the same),
// allowed by its hash; nothing else loads.
func ReportCSP() string {
	sum := sha256.Sum256([]byte(reportCSS()))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// PageOptions says how RenderHTML and RenderPage link out.
type PageOptions struct {
	// ExportURL is the address of a chart's numbers as "csv" or "json";
	// nil leaves out the download links.
	ExportURL func(chartID, format string) string
	// Council is the council's name (page title and header).
	Council string
	// Stylesheet is where RenderPage's page loads Stylesheet() from
	// (default "insights.css").
	Stylesheet string
}

// ReportOptions says what the printable report says about itself.
type ReportOptions struct {
	Council string
	Made    string // when it was made, as people write it ("1 April 2026")
	Version string // the fleet server's version
}

type pair struct {
	Key, Label, Value string
	Count             bool
}

type keyView struct {
	ID, Title, Summary, CSV, JSON string
	Pairs                         []pair
}

type th struct {
	Text    string
	Numeric bool
}

type td struct {
	Text                           string
	Numeric, Header, Hidden, Count bool
	Lang                           string // a language's own name is marked as that language
}

type chartView struct {
	ID, Title, Summary, Caption, CSV, JSON string
	SVG                                    template.HTML
	Head                                   []th
	Rows                                   [][]td
	Notes                                  []string
}

type pageView struct {
	K                                     int
	Key                                   *keyView
	Demand, Sites, Usage                  *chartView
	Rankings, Time                        []chartView
	Where, SiteName, PeriodLabel, Council string
	Stylesheet                            string
	CSS                                   template.CSS
	Paragraph, Made, Version              string
}

func (f *Figures) view(exportURL func(string, string) string) pageView {
	v := pageView{K: f.K, Where: f.where(), SiteName: f.SiteName, PeriodLabel: f.PeriodLabel()}
	links := func(id string) (string, string) {
		if exportURL == nil {
			return "", ""
		}
		return exportURL(id, "csv"), exportURL(id, "json")
	}
	for _, c := range f.Charts() {
		csv, js := links(c.ID)
		if c.ID == SummaryChart {
			kv := &keyView{ID: "ak-" + c.ID, Title: c.Title, Summary: c.Summary, CSV: csv, JSON: js}
			for i, col := range c.Table.Columns {
				kv.Pairs = append(kv.Pairs, pair{col.Key, col.Label, cellText(col, c.Table.Rows[0][i]), col.Type == CountColumn})
			}
			v.Key = kv
			continue
		}
		cv := chartView{ID: "ak-" + c.ID, Title: c.Title, Summary: c.Summary, SVG: c.SVG, Notes: c.Table.Notes, CSV: csv, JSON: js,
			Caption: c.Title + ": " + f.where()}
		if c.heat != nil {
			c.heat.fill(&cv)
		} else if len(c.Table.Rows) > 0 {
			for _, col := range c.Table.Columns {
				if col.Key == "id" || col.Key == "site_id" || col.Key == "start" || col.Key == "end" {
					continue // the label says it; the exports carry them
				}
				cv.Head = append(cv.Head, th{col.Label, numericCol(col)})
			}
			for _, row := range c.Table.Rows {
				var r []td
				for i, col := range c.Table.Columns {
					if col.Key == "id" || col.Key == "site_id" || col.Key == "start" || col.Key == "end" {
						continue
					}
					cell := td{Text: cellText(col, row[i]), Numeric: numericCol(col), Header: len(r) == 0 && col.Type == TextColumn,
						Hidden: col.Type == CountColumn && row[i].Count.State() == Fewer, Count: col.Type == CountColumn}
					if c.ID == RankingChart(Languages) && col.Key == "label" {
						cell.Lang = row[1].Text // the language code
					}
					r = append(r, cell)
				}
				cv.Rows = append(cv.Rows, r)
			}
		}
		switch {
		case c.ID == DemandChart:
			v.Demand = &cv
		case c.ID == SitesChart:
			v.Sites = &cv
		case c.ID == UsageChart:
			v.Usage = &cv
		case strings.HasPrefix(c.ID, "ranking-"):
			v.Rankings = append(v.Rankings, cv)
		default:
			v.Time = append(v.Time, cv)
		}
	}
	return v
}

// fill lays the heat map's table out as the chart is: an hour per row, a
// day per column.
func (h *heatTable) fill(cv *chartView) {
	cv.Head = []th{{"Hour", false}}
	for _, d := range DayNames {
		cv.Head = append(cv.Head, th{d, true})
	}
	for _, hr := range h.hours {
		row := []td{{Text: hourRange(hr), Header: true}}
		for d := 0; d < 7; d++ {
			c := h.f.Heat[d][hr]
			t := c.String()
			if !h.f.Open[d][hr] {
				t += " (closed)"
			}
			row = append(row, td{Text: t, Numeric: true, Hidden: c.State() == Fewer, Count: true})
		}
		cv.Rows = append(cv.Rows, row)
	}
}

func numericCol(c Column) bool {
	switch c.Type {
	case CountColumn, PercentColumn, RateColumn, HoursColumn, RankColumn:
		return true
	}
	return false
}

// cellText is a value as the page writes it.
func cellText(c Column, v Value) string {
	switch c.Type {
	case CountColumn:
		if v.Count.State() == NotApplicable {
			return "no opening hours set"
		}
		return v.Count.String()
	case PercentColumn:
		if s := v.Rate.Percent(); s != "" {
			return s
		}
		return "no figure"
	case RateColumn:
		if s := v.Rate.Decimal(); s != "" {
			return s
		}
		return "no figure"
	case HoursColumn:
		if v.Num == 0 {
			return "not set"
		}
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v.Num), ".0")
	case DateColumn:
		return v.Date.String()
	case HourColumn:
		return hourRange(v.Int)
	case RankColumn:
		return fmt.Sprint(v.Int)
	case FlagColumn:
		if v.Flag {
			return "yes"
		}
		return "no"
	}
	return v.Text
}

// RenderHTML writes every chart as HTML to go inside a page of the
// console (after its own h1): key figures, then each chart with its
// summary sentence, SVG, numbers behind a <details> element and download
// links. It needs the chart rules of scss/_charts.scss in the page's
// stylesheet.
func (f *Figures) RenderHTML(w io.Writer, opt PageOptions) error {
	return tmpl.ExecuteTemplate(w, "figures", f.view(opt.ExportURL))
}

// RenderPage writes a standalone page with every chart (for previews and
// tests); it loads opt.Stylesheet.
func (f *Figures) RenderPage(w io.Writer, opt PageOptions) error {
	v := f.view(opt.ExportURL)
	v.Council, v.Stylesheet = opt.Council, opt.Stylesheet
	if v.Stylesheet == "" {
		v.Stylesheet = "insights.css"
	}
	return tmpl.ExecuteTemplate(w, "page", v)
}

// RenderReport writes the printable report: one self-contained HTML
// document (its stylesheet inline; serve it with ReportCSP) with a
// paragraph of the main figures, the key figures, then every chart with
// its summary (each chart writes its values on it; the tables stay behind
// "Show the numbers" on screen and are left out on paper), laid out for
// A4. Printing it (or "Save as PDF" in a browser) gives the PDF; the
// server itself makes no PDF.
func (f *Figures) RenderReport(w io.Writer, opt ReportOptions) error {
	v := f.view(nil)
	v.Council, v.Made, v.Version = opt.Council, opt.Made, opt.Version
	v.CSS = template.CSS(reportCSS())
	v.Paragraph = f.Paragraph()
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "report", v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
