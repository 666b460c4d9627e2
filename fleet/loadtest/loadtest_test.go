package loadtest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestMain makes the test binary the bare server when bareEnv is set, and
// otherwise raises the open-file limit: every kiosk holds a connection,
// in this process and in the server's.
func TestMain(m *testing.M) {
	if addr := os.Getenv(bareEnv); addr != "" {
		if err := serveBare(addr); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	lim := syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		keepCap = int(lim.Max) - 2000
		fmt.Fprintf(os.Stderr, "loadtest: the open-file limit is %d and cannot be raised here (%v): at most %d kiosks keep their connection open, the rest reconnect for each report\n",
			lim.Max, err, keepCap)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// connectRate is how many kiosks a second start (open their connection
// and first report) while a run ramps up: LOADTEST_CONNECT_RATE, 400.
var connectRate = 400

// keepCap is how many kiosks may keep a connection open: every one is an
// open file in this process and in a server's (fleet.service gives the
// fleet 65,536). Kiosks beyond it reconnect for each report.
var keepCap = 1 << 30

// setup is a fleet (or the bare server) the kiosks of a run talk to.
type setup struct {
	name string
	// enrolled kiosks so far (a run uses the first n); nil for bare
	kiosks []*kiosk
	// open starts the servers for a run; stored counts the reports the
	// database holds (nil for bare).
	open   func(t testing.TB) []*proc
	stored func(t testing.TB) int64
	more   func(t testing.TB, n int) // enrols kiosks up to n
	dsn    string                    // PostgreSQL's, for its CPU and memory
}

// result is one run's figures.
type result struct {
	setup, load            string
	kiosks                 int
	interval, window       time.Duration
	offered, got           float64 // reports/s
	p50, p99               time.Duration
	serverP99, commitP99   time.Duration // the fleet's own, to its histogram's bucket (0: none; < 0: past the largest)
	made, accepted, stored int64         // stored: -1 without a database
	s5xx, s429, other, err int64
	rss, peak              int64   // servers, bytes
	cpu                    float64 // servers, cores over the window
	dbCPU                  float64 // PostgreSQL, cores
	dbPSS                  int64
	genCPU                 float64 // this process (the kiosks), cores
	machine                float64 // every process on the machine, cores busy
	fsync50, fsyncMax      time.Duration
	reconnecting           int // kiosks that reconnect for each report
	examples               map[string]string
}

func (r result) lost() int64 { return r.made - r.accepted }

// holds says whether the fleet kept up: p99 under 100 ms, nothing lost,
// no 5xx, no errors, and at least 97% of the reports offered per second.
func (r result) holds() bool {
	return r.p99 < 100*time.Millisecond && r.lost() == 0 && r.s5xx == 0 && r.err == 0 && r.other == 0 && r.s429 == 0 && r.got >= 0.97*r.offered
}

func (r result) String() string {
	stored := "n/a"
	if r.stored >= 0 {
		stored = strconv.FormatInt(r.stored, 10)
	}
	db := ""
	if r.dbPSS > 0 {
		db = fmt.Sprintf(", PostgreSQL %.2f cores %s", r.dbCPU, mib(r.dbPSS))
	}
	keep := ""
	if r.reconnecting > 0 {
		keep = fmt.Sprintf(" (%d reconnecting each report)", r.reconnecting)
	}
	srv := ""
	if r.serverP99 != 0 {
		srv = fmt.Sprintf(" (the server's own p99 %s, its group commits' p99 %s)", boundText(r.serverP99), boundText(r.commitP99))
	}
	return fmt.Sprintf("%-13s %6d kiosks%s / %s: %7.1f of %7.1f reports/s, p50 %6.1f ms, p99 %7.1f ms%s, lost %d (made %d, stored %s), 5xx %d, 429 %d, other %d, errors %d; "+
		"server RSS %s (peak %s), CPU %.2f cores%s; load generator %.2f cores; the whole machine %.2f of 2 cores busy, load %s, fsync p50 %.1f ms worst %.0f ms",
		r.setup, r.kiosks, keep, r.interval, r.got, r.offered, ms(r.p50), ms(r.p99), srv, r.lost(), r.made, stored, r.s5xx, r.s429, r.other, r.err,
		mib(r.rss), mib(r.peak), r.cpu, db, r.genCPU, r.machine, r.load, ms(r.fsync50), ms(r.fsyncMax))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(b int64) string         { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// run drives n kiosks of s for one interval to connect and warm up, then
// window, and measures.
func run(t testing.TB, s *setup, n int, interval, window time.Duration) result {
	t.Helper()
	if s.more != nil {
		s.more(t, n)
	}
	r := result{setup: s.name, kiosks: n, interval: interval, window: window, stored: -1, offered: float64(n) / interval.Seconds(),
		reconnecting: max(0, n-keepCap)}
	var before int64
	if s.stored != nil {
		before = s.stored(t)
	}
	procs := s.open(t)
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	kiosks := make([]*kiosk, n)
	for i := range kiosks {
		var k *kiosk
		if s.kiosks != nil {
			k = s.kiosks[i]
		} else {
			k = &kiosk{id: fmt.Sprintf("bare%06d", i), cred: "bare.x", local: localAddr(i)}
		}
		k.url, k.queue = procs[i%len(procs)].url, nil // seq goes on: report ids stay new
		k.reconnect = i >= keepCap
		kiosks[i] = k
	}
	tlsCfg := pinnedTLS(procs[0].sum)
	for _, p := range procs[1:] {
		if p.sum != procs[0].sum {
			t.Fatalf("%s: replicas serve different certificates", s.name)
		}
	}
	r.fsync50, r.fsyncMax = fsyncLatency(os.TempDir())
	loadBefore := loadavg()
	// Kiosks connect over the ramp (at most connectRate new TLS
	// connections a second, at least one interval), then report for one
	// more interval before the window opens.
	ramp := max(interval, time.Duration(float64(n)/float64(connectRate)*float64(time.Second)))
	windowStart := time.Now().Add(ramp + interval)
	windowEnd := windowStart.Add(window)
	// Snapshots of the servers' and this process's CPU at the window's ends.
	type snap struct {
		at          time.Time
		cpu, gen    time.Duration
		db          time.Duration
		hist, comm  histogram
		total, idle int64
	}
	take := func() snap {
		sn := snap{at: time.Now(), gen: selfCPU(), hist: histogram{}, comm: histogram{}}
		sn.total, sn.idle = cpuTimes()
		for _, p := range procs {
			sn.cpu += usage(p.cmd.Process.Pid).cpu
			req, comm := metricsHistograms(p)
			for b, n := range req {
				sn.hist[b] += n
			}
			for b, n := range comm {
				sn.comm[b] += n
			}
		}
		if s.dsn != "" {
			sn.db = storetest.ServerCPU(t, s.dsn)
		}
		return sn
	}
	snaps := make(chan snap, 2)
	go func() {
		time.Sleep(time.Until(windowStart))
		snaps <- take()
		time.Sleep(time.Until(windowEnd))
		end := take()
		for _, p := range procs {
			u := usage(p.cmd.Process.Pid)
			r.rss += u.rss
			r.peak += u.peak
		}
		if s.dsn != "" {
			r.dbPSS = pss(storetest.ServerProcesses(t, s.dsn))
		}
		snaps <- end
	}()
	ctx, cancel := context.WithTimeout(context.Background(), ramp+interval+window+5*time.Minute)
	defer cancel()
	c := drive(ctx, kiosks, tlsCfg, interval, ramp, windowStart, windowEnd)
	a, b := <-snaps, <-snaps
	el := b.at.Sub(a.at).Seconds()
	r.cpu, r.genCPU, r.dbCPU = (b.cpu-a.cpu).Seconds()/el, (b.gen-a.gen).Seconds()/el, (b.db-a.db).Seconds()/el
	r.machine = float64((b.total-a.total)-(b.idle-a.idle)) / 100 / el
	r.load = loadBefore + " → " + loadavg()
	r.made, r.accepted = c.made.Load(), c.accepted.Load()
	r.got = float64(c.inWindow.Load()) / window.Seconds()
	r.s5xx, r.s429, r.other, r.err = c.status5xx.Load(), c.st429.Load(), c.otherStatus.Load(), c.errs.Load()
	r.p50, r.p99 = percentile(c.lat, 50), percentile(c.lat, 99)
	r.serverP99, r.commitP99 = quantileBound(a.hist, b.hist, 0.99), quantileBound(a.comm, b.comm, 0.99)
	if os.Getenv("LOADTEST_HIST") != "" {
		for _, q := range []float64{0.5, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999} {
			t.Logf("%s: q%.3f: request %s, group commit %s", s.name, q, boundText(quantileBound(a.hist, b.hist, q)), boundText(quantileBound(a.comm, b.comm, q)))
		}
	}
	r.examples = c.firstErr
	for _, p := range procs {
		p.stop()
	}
	if s.stored != nil {
		r.stored = s.stored(t) - before
		// Every report acknowledged is stored, none twice; more may be
		// stored than acknowledged when an answer never reached its kiosk
		// (it keeps the report and sends it again under the same id).
		if r.stored < r.accepted || r.stored > r.made {
			t.Errorf("%s at %d kiosks: the database holds %d new reports, the kiosks were told %d were accepted and made %d", s.name, n, r.stored, r.accepted, r.made)
		}
	}
	for kind, ex := range r.examples {
		t.Logf("%s at %d kiosks: first %s: %s", s.name, n, kind, ex)
	}
	return r
}

// sqliteSetup is one `fleet serve` on SQLite in a data directory that
// lasts the test; its kiosks are enrolled as runs need them.
func sqliteSetup(t testing.TB, interval time.Duration) *setup {
	dir := t.TempDir()
	if d := os.Getenv("LOADTEST_DIR"); d != "" {
		// Where the SQLite file goes (a test of the disk's part).
		var err error
		if dir, err = os.MkdirTemp(d, "loadtest-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	s := &setup{name: "sqlite"}
	openStore := func() *store.Store {
		st, err := store.Open(context.Background(), store.Config{Dialect: store.SQLite, Path: filepath.Join(dir, "fleet.db")}, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	s.more = func(t testing.TB, n int) {
		if n <= len(s.kiosks) {
			return
		}
		st := openStore()
		defer st.Close()
		t0 := time.Now()
		more := enrol(t, st, len(s.kiosks), n-len(s.kiosks))
		s.kiosks = append(s.kiosks, more...)
		t.Logf("sqlite: enrolled %d kiosks in %s", len(more), time.Since(t0).Round(time.Second))
	}
	s.stored = func(t testing.TB) int64 {
		st := openStore()
		defer st.Close()
		n, err := st.ReportCount(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	s.open = func(t testing.TB) []*proc { return []*proc{startFleet(t, "fleet-sqlite", dir, "", interval)} }
	return s
}

// postgresSetup is two `fleet serve` replicas on one PostgreSQL 15 (with
// its durable defaults) started by the test; kiosks alternate between them.
func postgresSetup(t testing.TB, interval time.Duration) *setup {
	dsn := storetest.PostgresDurable(t)
	s := &setup{name: "postgres x2", dsn: dsn}
	st, err := store.Open(context.Background(), store.Config{Dialect: store.Postgres, DSN: dsn}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.more = func(t testing.TB, n int) {
		if n <= len(s.kiosks) {
			return
		}
		t0 := time.Now()
		more := enrol(t, st, len(s.kiosks), n-len(s.kiosks))
		s.kiosks = append(s.kiosks, more...)
		t.Logf("postgres: enrolled %d kiosks in %s", len(more), time.Since(t0).Round(time.Second))
	}
	s.stored = func(t testing.TB) int64 {
		n, err := st.ReportCount(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	s.open = func(t testing.TB) []*proc {
		dirA, dirB := t.TempDir(), t.TempDir()
		return []*proc{startFleet(t, "fleet-pg-a", dirA, dsn, interval), startFleet(t, "fleet-pg-b", dirB, dsn, interval)}
	}
	return s
}

func bareSetup() *setup {
	return &setup{name: "bare net/http", open: func(t testing.TB) []*proc { return []*proc{startBare(t)} }}
}

func envInt(t testing.TB, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", key, v)
	}
	return n
}

func envDuration(t testing.TB, key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration", key, v)
	}
	return d
}

// TestLoad is `make loadtest`: LOADTEST_KIOSKS (20,000) kiosks every
// LOADTEST_INTERVAL (30 s) on SQLite, the same against the bare handler,
// then more kiosks on SQLite in steps of LOADTEST_STEP (10,000) up to
// LOADTEST_MAX (60,000) until it no longer holds (the knee), then the
// PostgreSQL pair at LOADTEST_KIOSKS; each measured over LOADTEST_WINDOW
// (60 s) after one interval of warming up. It prints a table and the
// projection for 100,000 kiosks.
func TestLoad(t *testing.T) {
	if os.Getenv("LOADTEST") == "" {
		t.Skip("LOADTEST unset: `make loadtest` runs it")
	}
	n := envInt(t, "LOADTEST_KIOSKS", 20_000)
	connectRate = max(1, envInt(t, "LOADTEST_CONNECT_RATE", connectRate))
	interval := envDuration(t, "LOADTEST_INTERVAL", 30*time.Second)
	window := envDuration(t, "LOADTEST_WINDOW", 60*time.Second)
	step := envInt(t, "LOADTEST_STEP", 10_000)
	maxN := envInt(t, "LOADTEST_MAX", 60_000)
	var results []result
	report := func(r result) {
		results = append(results, r)
		fmt.Fprintln(os.Stderr, "loadtest:", r)
	}

	sq := sqliteSetup(t, interval)
	first := run(t, sq, n, interval, window)
	report(first)
	bare := run(t, bareSetup(), n, interval, window)
	report(bare)
	knee := result{}
	if first.holds() {
		knee = first
		for k := n + step; step > 0 && k <= maxN; k += step {
			r := run(t, sq, k, interval, window)
			report(r)
			if !r.holds() {
				break
			}
			knee = r
		}
	}
	if os.Getenv("LOADTEST_POSTGRES") != "0" {
		report(run(t, postgresSetup(t, interval), n, interval, window))
	}
	summary(os.Stderr, results, first, bare, knee)
	if !first.holds() {
		t.Errorf("%d kiosks every %s on SQLite did not hold (p99 < 100 ms, 0 lost, 0 5xx): %s", n, interval, first)
	}
}

// BenchmarkLoad is the short form for `make bench`: 2,000 kiosks every
// 5 s (400 reports/s) on SQLite and against the bare handler, 15 s each.
func BenchmarkLoad(b *testing.B) {
	const n, interval, window = 2000, 5 * time.Second, 15 * time.Second
	var fleet, bare result
	for i := 0; i < b.N; i++ {
		fleet = run(b, sqliteSetup(b, interval), n, interval, window)
		bare = run(b, bareSetup(), n, interval, window)
	}
	fmt.Println("BenchmarkLoad:", fleet)
	fmt.Println("BenchmarkLoad:", bare)
	fmt.Printf("BenchmarkLoad: fleet/bare: CPU per report %.1fx, p99 %.1fx, RSS %.1fx (`make loadtest` for 20,000 kiosks, the knee and PostgreSQL)\n",
		(fleet.cpu/fleet.got)/(bare.cpu/bare.got), float64(fleet.p99)/float64(bare.p99), float64(fleet.rss)/float64(bare.rss))
	b.ReportMetric(fleet.got, "reports/s")
	b.ReportMetric(ms(fleet.p99), "p99-ms")
	b.ReportMetric(float64(fleet.rss)/(1<<20), "rss-MiB")
	b.ReportMetric(fleet.cpu, "cores")
}

// summary prints the table, the ratios to the bare handler and the
// projection for 100,000 kiosks every 30 s from the knee.
func summary(w *os.File, results []result, first, bare, knee result) {
	fmt.Fprintln(w, "\nloadtest summary (2-core machine shared with other work: see the load averages)")
	fmt.Fprintf(w, "%-13s %7s %9s %9s %7s %8s %6s %5s %5s %5s %8s %6s %5s %8s %10s  %s\n", "setup", "kiosks", "offered/s", "got/s", "p50 ms", "p99 ms", "lost", "5xx", "429", "err",
		"RSS MiB", "cores", "gen", "machine", "fsync ms", "load before → after")
	for _, r := range results {
		fmt.Fprintf(w, "%-13s %7d %9.1f %9.1f %7.1f %8.1f %6d %5d %5d %5d %8.0f %6.2f %5.2f %8.2f %4.1f/%-5.0f  %s\n", r.setup, r.kiosks, r.offered, r.got, ms(r.p50), ms(r.p99),
			r.lost(), r.s5xx, r.s429, r.err+r.other, float64(r.rss+r.dbPSS)/(1<<20), r.cpu+r.dbCPU, r.genCPU, r.machine, ms(r.fsync50), ms(r.fsyncMax), r.load)
	}
	fmt.Fprintln(w, "(cores: the fleet's processes and PostgreSQL over the window; gen: the simulated kiosks; machine: every process; fsync: median/worst of 40 probes before the run)")
	perReport := func(r result) float64 { return (r.cpu + r.dbCPU) / math.Max(r.got, 1) }
	if bare.got > 0 && first.got > 0 {
		fmt.Fprintf(w, "fleet on SQLite / bare net/http at %d kiosks: CPU per report %.1fx (%.2f ms vs %.2f ms), p99 %.1fx, RSS %.1fx\n",
			first.kiosks, perReport(first)/perReport(bare), 1000*perReport(first), 1000*perReport(bare),
			float64(first.p99)/math.Max(float64(bare.p99), 1), float64(first.rss)/math.Max(float64(bare.rss), 1))
	}
	if bare.got > 0 && !first.holds() && !bare.holds() {
		fmt.Fprintf(w, "the bare net/http handler did not hold %d kiosks either (p99 %.1f ms, errors %d): on this machine at this load the limit is the machine's, not the fleet's\n",
			bare.kiosks, ms(bare.p99), bare.err+bare.other)
	}
	if knee.kiosks == 0 {
		fmt.Fprintln(w, "knee: none: the first run did not hold, so nothing is projected (a lower LOADTEST_KIOSKS finds it)")
		return
	}
	fmt.Fprintf(w, "knee on SQLite: %d kiosks every %s held (p99 %.1f ms); ", knee.kiosks, knee.interval, ms(knee.p99))
	var above *result // the SQLite run that did not hold, past the knee
	for i := range results {
		if r := &results[i]; r.setup == "sqlite" && r.kiosks > knee.kiosks && !r.holds() {
			above = r
			break
		}
	}
	if above != nil {
		fmt.Fprintf(w, "%d did not (p99 %.1f ms, lost %d, 5xx %d, %0.f of %.0f reports/s)\n", above.kiosks, ms(above.p99), above.lost(), above.s5xx, above.got, above.offered)
	} else {
		fmt.Fprintln(w, "no step above it was tried")
	}
	const target, every = 100_000, 30 * time.Second
	rate := float64(target) / every.Seconds()
	cores := perReport(knee) * rate
	gen := knee.genCPU / math.Max(knee.got, 1) * rate
	// Memory a kiosk adds: the slope between the first run and the knee
	// (a server's own base memory left out), or the average at one point.
	perKiosk := float64(knee.rss) / float64(knee.kiosks)
	if knee.kiosks > first.kiosks && knee.rss > first.rss {
		perKiosk = float64(knee.rss-first.rss) / float64(knee.kiosks-first.kiosks)
	}
	fmt.Fprintf(w, "projection, %d kiosks every %s (%.0f reports/s), from the knee: fleet %.2f cores (%.2f ms CPU a report), RSS %.1f GiB (%.0f KiB a kiosk, mostly its open TLS connection); the kiosks' side %.2f cores more\n",
		target, every, rate, cores, 1000*perReport(knee), (float64(first.rss)+perKiosk*float64(target-first.kiosks))/(1<<30), perKiosk/1024, gen)
	fmt.Fprintf(w, "what would reach it: the fleet alone needs %.1f cores at full use, so a box of %d cores kept under 60%% busy "+
		"(this 2-core machine shares its cores with the load generator and other work); or PostgreSQL with %d replicas of 2 cores each behind a TCP load balancer, "+
		"each holding %d kiosks' connections (fleet.service allows 65,536 open files); and %.1f GiB of memory for the connections (a shorter keep-alive would trade memory for TLS handshakes)\n",
		cores, int(math.Ceil(cores/0.6)), int(math.Ceil(cores/(2*0.6))), target/max(1, int(math.Ceil(cores/(2*0.6)))), perKiosk*target/(1<<30))
}
