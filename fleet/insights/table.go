package insights

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ColumnType says how a column's values are written (see the README's
// export schema).
type ColumnType string

const (
	TextColumn    ColumnType = "text"    // a string
	CountColumn   ColumnType = "count"   // a protected Count
	PercentColumn ColumnType = "percent" // a share, from shown counts
	RateColumn    ColumnType = "rate"    // per opening hour, from shown counts
	HoursColumn   ColumnType = "hours"   // opening hours (not a count of people)
	DateColumn    ColumnType = "date"    // YYYY-MM-DD
	HourColumn    ColumnType = "hour"    // clock hour 0-23
	FlagColumn    ColumnType = "flag"    // yes / no
	RankColumn    ColumnType = "rank"    // 1, 2, 3 ...
)

// Column is one column of a Table.
type Column struct {
	Key   string     // stable identifier, used as the CSV header and JSON key
	Label string     // heading for people
	Type  ColumnType //
}

// Value is one cell; which field counts depends on the column's type.
type Value struct {
	Text  string  // text
	Count Count   // count
	Rate  Rate    // percent, rate
	Num   float64 // hours
	Date  Date    // date
	Int   int     // hour, rank
	Flag  bool    // flag
}

// Table is a chart's numbers: what the page shows behind "Show the
// numbers", and what the CSV and JSON exports carry.
type Table struct {
	Columns []Column
	Rows    [][]Value
	// Notes say what a reader must know to read the table right
	// (rounding, what is left out).
	Notes []string
}

// csvText is how a value is written in a CSV cell.
func csvText(c Column, v Value) string {
	switch c.Type {
	case CountColumn:
		switch v.Count.st {
		case Shown:
			return strconv.Itoa(v.Count.v)
		case Fewer:
			return "<" + strconv.Itoa(v.Count.k)
		case Withheld:
			return "withheld"
		}
		return ""
	case PercentColumn, RateColumn:
		prec := 0
		if c.Type == RateColumn {
			prec = 1
		}
		switch v.Rate.st {
		case Exact:
			return strconv.FormatFloat(v.Rate.v, 'f', prec, 64)
		case Under:
			return "<" + strconv.FormatFloat(v.Rate.v, 'f', prec, 64)
		}
		return ""
	case HoursColumn:
		return strconv.FormatFloat(v.Num, 'f', 1, 64)
	case DateColumn:
		return v.Date.String()
	case HourColumn, RankColumn:
		return strconv.Itoa(v.Int)
	case FlagColumn:
		if v.Flag {
			return "yes"
		}
		return "no"
	}
	return CSVSafe(v.Text)
}

// CSVSafe stops a spreadsheet from reading a cell as a formula: a cell
// whose first non-space character is one of = + - @ (or their full-width
// forms), or that starts with a tab, carriage return or line feed, gets a
// leading apostrophe, as OWASP recommends. Control characters are dropped.
func CSVSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r != '\t' && r != '\r' && r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(s)
	if first == '\t' || first == '\r' || first == '\n' {
		return "'" + s
	}
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	if t == "" {
		return s
	}
	first, _ = utf8.DecodeRuneInString(t)
	if strings.ContainsRune("=+-@＝＋－＠", first) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the table as CSV (RFC 4180): a header of column keys,
// then a row per table row. Counts under K are "<5", percentages and
// rates that are upper bounds "<3", values that do not exist are empty.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.Key
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, c := range t.Columns {
			rec[i] = csvText(c, row[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonValue is how a value is written in JSON.
func jsonValue(c Column, v Value) any {
	switch c.Type {
	case CountColumn:
		switch v.Count.st {
		case Shown:
			return map[string]int{"count": v.Count.v}
		case Fewer:
			return map[string]int{"fewer_than": v.Count.k}
		case Withheld:
			return map[string]bool{"withheld": true}
		}
		return nil
	case PercentColumn:
		switch v.Rate.st {
		case Exact:
			return map[string]float64{"percent": v.Rate.v}
		case Under:
			return map[string]float64{"under_percent": v.Rate.v}
		}
		return nil
	case RateColumn:
		switch v.Rate.st {
		case Exact:
			return map[string]float64{"per_hour": v.Rate.v}
		case Under:
			return map[string]float64{"under_per_hour": v.Rate.v}
		}
		return nil
	case HoursColumn:
		return v.Num
	case DateColumn:
		return v.Date.String()
	case HourColumn, RankColumn:
		return v.Int
	case FlagColumn:
		return v.Flag
	}
	return v.Text
}

// SchemaVersion is the export schema's version: it changes only when a
// key is removed or its meaning changes (new keys may appear without it).
const SchemaVersion = 1

// Schema names the export format in every JSON document.
const Schema = "accesskiosk.insights"

type jsonColumn struct {
	Key   string     `json:"key"`
	Label string     `json:"label"`
	Type  ColumnType `json:"type"`
}

type jsonChart struct {
	ID      string           `json:"id"`
	Title   string           `json:"title"`
	Summary string           `json:"summary"`
	Columns []jsonColumn     `json:"columns"`
	Rows    []map[string]any `json:"rows"`
	Notes   []string         `json:"notes"`
}

type jsonPeriod struct {
	Key     string   `json:"key"`
	Kind    string   `json:"kind"`
	Label   string   `json:"label"`
	Start   string   `json:"start"`
	End     string   `json:"end"` // last day
	Months  []string `json:"months"`
	Partial bool     `json:"partial"`
}

type jsonDoc struct {
	Schema      string      `json:"schema"`
	Version     int         `json:"version"`
	Site        *string     `json:"site"`
	SiteName    string      `json:"site_name"`
	Period      jsonPeriod  `json:"period"`
	Suppression jsonRule    `json:"suppression"`
	Charts      []jsonChart `json:"charts"`
}

type jsonRule struct {
	K        int    `json:"k"`
	Rounding string `json:"rounding"`
}

func (c Chart) json() jsonChart {
	j := jsonChart{ID: c.ID, Title: c.Title, Summary: c.Summary, Rows: []map[string]any{}, Notes: c.Table.Notes}
	if j.Notes == nil {
		j.Notes = []string{}
	}
	for _, col := range c.Table.Columns {
		j.Columns = append(j.Columns, jsonColumn(col))
	}
	for _, row := range c.Table.Rows {
		m := make(map[string]any, len(row))
		for i, col := range c.Table.Columns {
			m[col.Key] = jsonValue(col, row[i])
		}
		j.Rows = append(j.Rows, m)
	}
	return j
}

var kindNames = map[PeriodKind]string{MonthPeriod: "month", QuarterPeriod: "quarter", YearPeriod: "year"}

// WriteJSON writes the figures' charts (all of them, or those with the
// ids given) as one JSON document of the schema in the README.
func (f *Figures) WriteJSON(w io.Writer, ids ...string) error {
	doc := jsonDoc{Schema: Schema, Version: SchemaVersion, SiteName: f.SiteName,
		Suppression: jsonRule{K: f.K, Rounding: roundingNote(f.K)}, Charts: []jsonChart{}}
	if f.Site != "" {
		doc.Site = &f.Site
	}
	p := f.Period
	doc.Period = jsonPeriod{Key: p.Key(), Kind: kindNames[p.kind], Label: f.PeriodLabel(), Start: p.Start().String(),
		End: p.End().AddDays(-1).String(), Partial: f.Partial}
	for _, m := range f.Months {
		doc.Period.Months = append(doc.Period.Months, m.Key())
	}
	for _, c := range f.Charts() {
		if len(ids) == 0 || contains(ids, c.ID) {
			doc.Charts = append(doc.Charts, c.json())
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func roundingNote(k int) string {
	return "Counts under " + strconv.Itoa(k) + " are not shown (fewer_than). Every count shown is rounded to a multiple of " +
		strconv.Itoa(k) + ", so figures may not add up exactly. Percentages and rates are worked out from the rounded counts."
}
