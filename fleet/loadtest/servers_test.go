package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
)

// binDir holds the fleet binary built for the tests; TestMain removes it.
var binDir string

// fleetBinary builds bin/fleet from this tree once per test binary.
var fleetBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "loadtest-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "fleet")
	cmd := exec.Command("go", "build", "-o", bin, "accesskiosk/fleet/cmd/fleet")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build fleet: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is a server process the load test measures.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string
	sum  [32]byte // its certificate's SHA-256
	log  string   // its stderr, for a failure
	once sync.Once
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var fingerprintLine = regexp.MustCompile(`fingerprint ([0-9A-F:]{95})`)

// stop ends the process (SIGINT, then SIGKILL after 30 s); it may be
// called more than once.
func (p *proc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	})
}

// start runs cmd, waits for it to print its certificate's fingerprint
// and to answer /healthz, and stops it at cleanup at the latest.
func start(t testing.TB, name string, cmd *exec.Cmd, addr string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, url: "https://" + addr, log: filepath.Join(t.TempDir(), name+".log")}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		logf.Close()
	})
	fp := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := fingerprintLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case fp <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case f := <-fp:
		b, _ := hex.DecodeString(strings.ReplaceAll(f, ":", ""))
		copy(p.sum[:], b)
	case <-time.After(120 * time.Second):
		log, _ := os.ReadFile(p.log)
		t.Fatalf("%s printed no fingerprint in 2 minutes: %s", name, log)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: pinnedTLS(p.sum)}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(120 * time.Second)
	for {
		resp, err := client.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.log)
			t.Fatalf("%s did not answer /healthz in 2 minutes (%v): %s", name, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startFleet runs `fleet serve` on a free loopback port with the store
// in dataDir (SQLite) or at dsn (PostgreSQL).
func startFleet(t testing.TB, name, dataDir, dsn string, interval time.Duration) *proc {
	t.Helper()
	bin, err := fleetBinary()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("report_interval: %s\n", interval)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	args := []string{"serve", "--addr", addr, "--data", dataDir, "--config", cfg, "--mdns=false", "--log-level", "warn"}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	return start(t, name, exec.Command(bin, args...), addr)
}

// startBare runs this test binary as the bare server (TestMain) on a free port.
func startBare(t testing.TB) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), bareEnv+"="+addr)
	return start(t, "bare", cmd, addr)
}

// bareEnv, when set to an address, makes the test binary the bare server.
const bareEnv = "LOADTEST_BARE_ADDR"

// serveBare is the ratio's other side: net/http over the same TLS with
// the fleet server's timeouts, decoding the same JSON and answering every
// report accepted, storing nothing.
func serveBare(addr string) error {
	certPEM, keyPEM, err := tlscert.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	fmt.Printf("bare: TLS certificate SHA-256 fingerprint %s\n", tlscert.Fingerprint(cert.Certificate[0]))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("POST "+api.PathReport, func(w http.ResponseWriter, r *http.Request) {
		var b api.ReportBatch
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes)).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		resp := api.ReportResponse{Capability: api.CapabilityVersion}
		for _, rep := range b.Reports {
			resp.Accepted = append(resp.Accepted, rep.ID)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	hs := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 32 << 10,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	return hs.ListenAndServeTLS("", "")
}

// enrol makes n kiosks (numbered from base) straight through the store (the enrolment API is
// tested on its own; its limits would make this take hours), spread over
// sites of 50.
func enrol(t testing.TB, st *store.Store, base, n int) []*kiosk {
	t.Helper()
	ctx := context.Background()
	kiosks := make([]*kiosk, n)
	const perSite = 50
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	sem := make(chan struct{}, 8)
	for lo := 0; lo < n; lo += perSite {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			hi := min(lo+perSite, n)
			site := fmt.Sprintf("site%06d", (base+lo)/perSite)
			err := func() error {
				if _, err := st.CreateSite(ctx, site, "Library "+site); err != nil {
					return err
				}
				tok, err := st.CreateToken(ctx, site, "loadtest", time.Hour, hi-lo)
				if err != nil {
					return err
				}
				for i := lo; i < hi; i++ {
					e, err := st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: fmt.Sprintf("kiosk-%06d", base+i), Arch: "arm64", AgentVersion: "1.0.0", Capability: api.CapabilityVersion})
					if err != nil {
						return err
					}
					kiosks[i] = &kiosk{id: e.DeviceID, cred: e.Credential, local: localAddr(base + i)}
				}
				return nil
			}()
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatalf("enrol %d kiosks: %v", n, err)
	default:
	}
	return kiosks
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// procUsage is a process's CPU time so far and resident memory now and at
// its peak.
type procUsage struct {
	cpu       time.Duration
	rss, peak int64 // bytes
}

func usage(pid int) procUsage {
	var u procUsage
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			sy, _ := strconv.ParseInt(f[12], 10, 64)
			u.cpu = time.Duration(ut+sy) * 10 * time.Millisecond
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				u.rss = kb << 10
			case "VmHWM":
				u.peak = kb << 10
			}
		}
	}
	return u
}

// pss is the proportional resident memory of processes (shared pages
// counted once overall): PostgreSQL's postmaster and backends share its
// buffers.
func pss(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "Pss" {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

// loadavg is the machine's load averages (1, 5, 15 min) as /proc says.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return f[0] + " " + f[1] + " " + f[2]
}

// histogram is a Prometheus histogram read from a fleet's /metrics:
// cumulative counts by upper bound (+Inf as 1e9).
type histogram map[float64]float64

var (
	bucketLine = regexp.MustCompile(`^([a-z_]+)_bucket\{(.*)\} ([0-9.e+]+)$`)
	leLabel    = regexp.MustCompile(`le="([^"]+)"`)
)

// metricsHistograms reads a fleet's request latency on the report route
// and its group-commit times from /metrics (both empty for a server
// without them).
func metricsHistograms(p *proc) (requests, commits histogram) {
	requests, commits = histogram{}, histogram{}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: pinnedTLS(p.sum)}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(p.url + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := bucketLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var h histogram
		switch {
		case m[1] == "fleet_http_request_duration_seconds" && strings.Contains(m[2], `route="`+api.PathReport+`"`):
			h = requests
		case m[1] == "fleet_ingest_commit_seconds":
			h = commits
		default:
			continue
		}
		le := leLabel.FindStringSubmatch(m[2])
		if le == nil {
			continue
		}
		bound, err := strconv.ParseFloat(le[1], 64)
		if le[1] == "+Inf" {
			bound, err = 1e9, nil
		}
		n, err2 := strconv.ParseFloat(m[3], 64)
		if err == nil && err2 == nil {
			h[bound] += n
		}
	}
	return
}

// quantileBound is the smallest bucket bound holding fraction q of the
// requests counted between two histograms: the server's own latency,
// to bucket resolution (0 when nothing was counted).
func quantileBound(before, after histogram, q float64) time.Duration {
	var bounds []float64
	for b := range after {
		bounds = append(bounds, b)
	}
	if len(bounds) == 0 {
		return 0
	}
	sortFloats(bounds)
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0
	}
	finite := 0.0 // the largest bound short of +Inf
	for _, b := range bounds {
		if math.IsInf(b, 1) {
			// Past every bucket: minus the largest finite bound ("over").
			return -time.Duration(finite * float64(time.Second))
		}
		finite = b
		if after[b]-before[b] >= q*total {
			return time.Duration(b * float64(time.Second))
		}
	}
	return time.Duration(finite * float64(time.Second))
}

// boundText writes a quantileBound: "<= 25.0 ms", or "> 10000.0 ms" past
// the histogram's largest bucket.
func boundText(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("> %.1f ms", ms(-d))
	}
	return fmt.Sprintf("<= %.1f ms", ms(d))
}

func sortFloats(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// cpuTimes is the machine's CPU time so far from /proc/stat: all of it,
// and idle (idle and iowait), in clock ticks.
func cpuTimes() (total, idle int64) {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return total, idle
}

// fsyncLatency writes and syncs 4 KiB 40 times in dir and returns the
// median and the worst: what a commit or checkpoint waits for on this disk.
func fsyncLatency(dir string) (p50, worst time.Duration) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, 0
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	var d []time.Duration
	for range 40 {
		f.Write(buf)
		t0 := time.Now()
		f.Sync()
		d = append(d, time.Since(t0))
		time.Sleep(10 * time.Millisecond)
	}
	return percentile(d, 50), percentile(d, 100)
}

// TestQuantileBound: the bucket holding the quantile, and "past the
// largest" when only +Inf holds it.
func TestQuantileBound(t *testing.T) {
	before := histogram{0.025: 0, 0.1: 0, 10: 0, math.Inf(1): 0}
	after := histogram{0.025: 90, 0.1: 99, 10: 99, math.Inf(1): 100}
	if got := quantileBound(before, after, 0.5); got != 25*time.Millisecond || boundText(got) != "<= 25.0 ms" {
		t.Errorf("p50 %v %q", got, boundText(got))
	}
	if got := quantileBound(before, after, 0.99); got != 100*time.Millisecond {
		t.Errorf("p99 %v", got)
	}
	if got := quantileBound(before, after, 0.995); got != -10*time.Second || boundText(got) != "> 10000.0 ms" {
		t.Errorf("p99.5 %v %q", got, boundText(got))
	}
}
