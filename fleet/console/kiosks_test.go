package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// bigFleet is a console over a store seeded with many kiosks, reached
// through its handler with a signed-in admin's cookie.
type bigFleet struct {
	st     *store.Store
	dsn    string // PostgreSQL's, "" for SQLite
	h      http.Handler
	cookie string
	now    time.Time
}

// cpu is the CPU time used so far by this process and the database server.
func (f *bigFleet) cpu(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	d := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if f.dsn != "" {
		d += storetest.ServerCPU(tb, f.dsn)
	}
	return d
}

// kioskKind is what seeded kiosk i is doing: every tenth never reported,
// one offline, one online with the kiosk program gone (critical), one
// online with an open alert, three in a session, three idle.
func kioskKind(i int) string {
	switch i % 10 {
	case 0:
		return store.StateNever
	case 1:
		return store.StateOffline
	case 2, 3:
		return store.StateAttention
	case 4, 5, 6:
		return store.StateInSession
	}
	return store.StateOnline
}

// seedBigFleet enrols n kiosks over n/50+1 sites through the store and
// stores a report for each (but the never-reported), in groups as the
// server's group commit does.
func seedBigFleet(tb testing.TB, dialect string, n int) *bigFleet {
	tb.Helper()
	ctx := context.Background()
	var st *store.Store
	f := &bigFleet{now: time.Now()}
	if dialect == store.Postgres {
		f.dsn = storetest.Postgres(tb)
		var err error
		if st, err = store.Open(ctx, store.Config{Dialect: store.Postgres, DSN: f.dsn}, storetest.Logger(tb)); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
	} else {
		st = storetest.SQLite(tb)
	}
	f.st = st
	now := f.now
	sites := n/50 + 1
	for s := range sites {
		if _, err := st.CreateSite(ctx, fmt.Sprintf("site%03d", s), fmt.Sprintf("Library %03d", s)); err != nil {
			tb.Fatal(err)
		}
	}
	type dev struct{ id, site string }
	devs := make([]dev, n)
	for s := range sites {
		site := fmt.Sprintf("site%03d", s)
		count := 0
		for i := s; i < n; i += sites {
			count++
		}
		if count == 0 {
			continue
		}
		tok, err := st.CreateToken(ctx, site, "seed", time.Hour, count)
		if err != nil {
			tb.Fatal(err)
		}
		for i := s; i < n; i += sites {
			e, err := st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: fmt.Sprintf("kiosk-%05d", i), Arch: "arm64", AgentVersion: "1.0.0", KioskVersion: "1.0.0", Capability: 2})
			if err != nil {
				tb.Fatal(err)
			}
			devs[i] = dev{e.DeviceID, site}
		}
	}
	ingest := func(at time.Time, items []store.IngestItem) {
		st.SetClock(func() time.Time { return at })
		defer st.SetClock(time.Now)
		for lo := 0; lo < len(items); lo += 250 {
			if _, err := st.Ingest(ctx, items[lo:min(lo+250, len(items))]); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var online, offline []store.IngestItem
	for i, d := range devs {
		kind := kioskKind(i)
		if kind == store.StateNever {
			continue
		}
		state := "idle"
		switch {
		case kind == store.StateInSession:
			state = "in_session"
		case i%10 == 2:
			state = "gone"
		}
		r := api.Report{ID: fmt.Sprintf("r%d", i), Seq: 1, Health: api.Health{AgentVersion: "1.0.0", KioskVersion: "1.0.0", KioskState: state,
			MemTotalBytes: 4 << 30, MemAvailBytes: 2 << 30, DiskTotalBytes: 32 << 30, DiskFreeBytes: 20 << 30, NetworkUp: true}}
		it := store.IngestItem{DeviceID: d.id, SiteID: d.site, Batch: &api.ReportBatch{Capability: 2, Reports: []api.Report{r}}}
		if kind == store.StateOffline {
			r.CreatedUnixMs = now.Add(-time.Hour).UnixMilli()
			it.Batch.Reports[0] = r
			offline = append(offline, it)
			continue
		}
		r.CreatedUnixMs = now.UnixMilli()
		it.Batch.Reports[0] = r
		online = append(online, it)
		if i%10 == 3 {
			if _, err := st.OpenAlert(ctx, store.AlertRow{DeviceID: d.id, Kind: "disk_low", OpenedUnixMs: now.UnixMilli(), Detail: "seeded"}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ingest(now.Add(-time.Hour), offline)
	ingest(now, online)

	con, err := console.New(console.Config{Store: st, Log: storetest.Logger(tb), Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	f.h = con
	if err := st.CreateUser(ctx, "alice", store.RoleAdmin, "not-a-hash"); err != nil {
		tb.Fatal(err)
	}
	if f.cookie, err = st.CreateWebSession(ctx, "alice", time.Hour); err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *bigFleet) get(tb testing.TB, path string) string {
	tb.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(&http.Cookie{Name: "ak_session", Value: f.cookie})
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	if w.Code != 200 {
		tb.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
	}
	return w.Body.String()
}

// kioskTable is the kiosks page read back: its rows (hostname, site,
// state text), the count line and the pagination links.
type kioskTable struct {
	rows  [][3]string
	count string
	pages []string // hrefs in the pagination, in order
	next  string
	prev  string
}

func readKiosks(tb testing.TB, body string) kioskTable {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	var kt kioskTable
	var walk func(n *html.Node, inTable, inNav bool)
	walk = func(n *html.Node, inTable, inNav bool) {
		if n.Type == html.ElementNode {
			id := attr(n, "id")
			inTable = inTable || n.Data == "table" && id == "kiosks"
			inNav = inNav || n.Data == "nav" && id == "kiosks-pages"
			if id == "kiosks-count" {
				kt.count = strings.TrimSpace(textOf(n))
			}
			if inTable && n.Data == "tr" && n.Parent != nil && n.Parent.Data == "tbody" {
				var cells []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && c.Data == "td" {
						cells = append(cells, strings.TrimSpace(textOf(c)))
					}
				}
				host, _, _ := strings.Cut(cells[0], "\n")
				kt.rows = append(kt.rows, [3]string{strings.TrimSpace(host), cells[1], cells[2]})
			}
			if inNav && n.Data == "a" {
				switch attr(n, "rel") {
				case "next":
					kt.next = attr(n, "href")
				case "prev":
					kt.prev = attr(n, "href")
				default:
					kt.pages = append(kt.pages, attr(n, "href"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inTable, inNav)
		}
	}
	walk(doc, false, false)
	return kt
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	if n.Type == html.ElementNode && n.Data == "br" {
		return "\n"
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// TestKiosksPaged: the kiosks list is cut into pages of 50 by the
// database, on SQLite and PostgreSQL; filters, sorting and the counts
// work on the whole fleet, not on the page; the overview's counts come
// from the database too.
func TestKiosksPaged(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			const n = 130
			f := seedBigFleet(t, dialect, n)
			p1 := readKiosks(t, f.get(t, "/kiosks"))
			if len(p1.rows) != 50 || p1.count != "Showing 1 to 50 of 130 kiosks." {
				t.Fatalf("first page: %d rows, %q; want 50 and 'Showing 1 to 50 of 130 kiosks.'", len(p1.rows), p1.count)
			}
			if p1.prev != "" || p1.next != "/kiosks?page=2" || !slices.Equal(p1.pages, []string{"/kiosks", "/kiosks?page=2", "/kiosks?page=3"}) {
				t.Errorf("first page's pagination: prev %q next %q pages %v", p1.prev, p1.next, p1.pages)
			}
			// Default order: site name, then host name.
			if !slices.IsSortedFunc(p1.rows, func(a, b [3]string) int { return strings.Compare(a[1]+a[0], b[1]+b[0]) }) {
				t.Errorf("first page not in site, host order: %v", p1.rows[:5])
			}
			p3 := readKiosks(t, f.get(t, p1.pages[2]))
			if len(p3.rows) != 30 || p3.count != "Showing 101 to 130 of 130 kiosks." || p3.next != "" || p3.prev != "/kiosks?page=2" {
				t.Errorf("last page: %d rows, %q, next %q prev %q", len(p3.rows), p3.count, p3.next, p3.prev)
			}
			past := readKiosks(t, f.get(t, "/kiosks?page=99"))
			if past.count != p3.count {
				t.Errorf("a page past the last shows %q, want the last page", past.count)
			}
			seen := map[string]bool{}
			for _, p := range []string{"/kiosks", "/kiosks?page=2", "/kiosks?page=3"} {
				for _, r := range readKiosks(t, f.get(t, p)).rows {
					if seen[r[0]] {
						t.Errorf("kiosk %s on two pages", r[0])
					}
					seen[r[0]] = true
				}
			}
			if len(seen) != n {
				t.Errorf("the three pages show %d kiosks, want all %d", len(seen), n)
			}

			// Each state filter counts the whole fleet.
			wantText := map[string]string{store.StateNever: "Never reported", store.StateOffline: "Offline", store.StateAttention: "Needs attention",
				store.StateInSession: "In session", store.StateOnline: "Online"}
			for state, text := range wantText {
				want := 0
				for i := range n {
					if kioskKind(i) == state {
						want++
					}
				}
				kt := readKiosks(t, f.get(t, "/kiosks?state="+state))
				if !strings.HasSuffix(kt.count, fmt.Sprintf(" of %d kiosks.", want)) {
					t.Errorf("state %s: %q, want %d kiosks", state, kt.count, want)
				}
				for _, r := range kt.rows {
					if r[2] != text {
						t.Errorf("state %s lists %s as %q", state, r[0], r[2])
						break
					}
				}
			}
			// Sorting by name, backwards, over every page.
			byName := readKiosks(t, f.get(t, "/kiosks?sort=name&dir=desc"))
			if byName.rows[0][0] != fmt.Sprintf("kiosk-%05d", n-1) || byName.next != "/kiosks?dir=desc&page=2&sort=name" {
				t.Errorf("sorted by name descending: first %q, next %q", byName.rows[0][0], byName.next)
			}
			byState := readKiosks(t, f.get(t, "/kiosks?sort=state"))
			if byState.rows[0][2] != "Needs attention" {
				t.Errorf("sorted by state: first row is %q, want a kiosk needing attention", byState.rows[0][2])
			}
			// Filters combine and carry into the pagination.
			one := readKiosks(t, f.get(t, "/kiosks?q=kiosk-0012&state=offline"))
			if len(one.rows) != 1 || one.rows[0][0] != "kiosk-00121" {
				t.Errorf("search kiosk-0012 and offline: %v, want kiosk-00121 only", one.rows)
			}
			site := readKiosks(t, f.get(t, "/kiosks?site=site000"))
			if !strings.HasSuffix(site.count, " of 44 kiosks.") {
				t.Errorf("site000: %q, want 44 kiosks", site.count)
			}
			for _, bad := range []string{"/kiosks?state=%27;drop", "/kiosks?sort=hostname;--", "/kiosks?page=-3", "/kiosks?page=abc"} {
				if kt := readKiosks(t, f.get(t, bad)); len(kt.rows) == 0 {
					t.Errorf("%s: no rows (an unknown value should give the default list)", bad)
				}
			}

			// The overview's tiles, from the database.
			ov := f.get(t, "/")
			for id, want := range map[string]int{"count-online": 104, "count-offline": 13, "count-attention": 26, "count-session": 39} {
				if !strings.Contains(ov, fmt.Sprintf(`id="%s">%d<`, id, want)) {
					t.Errorf("overview %s: want %d", id, want)
				}
			}
		})
	}
}

// BenchmarkConsole10k times the console's pages at 10,000 kiosks on SQLite
// and PostgreSQL (the bound: each page under 200 ms). Beside the
// time per page it reports the CPU the page cost (this process and the
// database server): on a busy shared machine the time is mostly waiting
// for a core, the CPU is what the page needs. The seeded fleet is built
// once per database.
func BenchmarkConsole10k(b *testing.B) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		b.Run(dialect, func(b *testing.B) {
			f := seedBigFleet(b, dialect, 10_000)
			for _, p := range []struct{ name, path string }{
				{"overview", "/"},
				{"kiosks", "/kiosks"},
				{"kiosks-last-page", "/kiosks?page=200"},
				{"kiosks-attention", "/kiosks?state=attention&sort=state"},
				{"kiosks-search", "/kiosks?q=kiosk-09"},
				{"kiosks-by-seen-desc", "/kiosks?sort=seen&dir=desc&page=50"},
			} {
				b.Run(p.name, func(b *testing.B) {
					var worst time.Duration
					f.get(b, p.path) // warm
					cpu0 := f.cpu(b)
					for b.Loop() {
						t0 := time.Now()
						body := f.get(b, p.path)
						worst = max(worst, time.Since(t0))
						if len(body) > 400_000 {
							b.Fatalf("%s is %d bytes", p.path, len(body))
						}
					}
					b.ReportMetric(float64((f.cpu(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
					b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
					b.ReportMetric(load1(), "load1")
				})
			}
		})
	}
}

// load1 is the machine's one-minute load average.
func load1() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	v, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return v
}
