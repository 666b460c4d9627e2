package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"accesskiosk/fleet/api"
)

// kiosk is one simulated kiosk: its credential, its own connection to
// the fleet, and the agent's queue of reports not yet accepted.
type kiosk struct {
	id, cred string
	url      string // https://HOST:PORT of the replica it talks to
	local    net.IP // source address (many kiosks need many ports)
	seq      uint64
	queue    []api.Report
	conn     *tls.Conn
	// reconnect: the kiosk does not keep its connection between reports
	// (Connection: close), as an agent whose idle connection a NAT or
	// proxy drops: each report pays a TCP connect and a resumed TLS
	// handshake. Used beyond the open-file limit of this machine.
	reconnect bool
}

// counters are what the kiosks of one run saw.
type counters struct {
	made, accepted    atomic.Int64 // reports
	requests          atomic.Int64
	status5xx, st429  atomic.Int64
	otherStatus, errs atomic.Int64
	inWindow          atomic.Int64 // reports accepted by requests that started in the window

	mu  sync.Mutex
	lat []time.Duration // requests that started in the window
	// firstErr keeps one example of each kind of failure, for the log.
	firstErr map[string]string
}

func (c *counters) fail(kind, detail string) {
	c.mu.Lock()
	if c.firstErr == nil {
		c.firstErr = map[string]string{}
	}
	if _, ok := c.firstErr[kind]; !ok {
		c.firstErr[kind] = detail
	}
	c.mu.Unlock()
}

// brPool holds the response readers: a kiosk needs one only while it
// reads an answer.
var brPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// report is what an agent sends every interval: health, session counts,
// a warning, and every other time a wipe receipt.
func (k *kiosk) report(now time.Time) api.Report {
	k.seq++
	r := api.Report{
		ID: k.id + "-" + strconv.FormatUint(k.seq, 10), Seq: k.seq, CreatedUnixMs: now.UnixMilli(),
		Health: api.Health{AgentVersion: "1.0.0", KioskVersion: "1.0.0", OSRelease: "Debian GNU/Linux 12 (bookworm)",
			UptimeSeconds: 86400 + int64(k.seq)*30, Load1: 0.42, TempCelsius: 51.5, MemTotalBytes: 4 << 30, MemAvailBytes: 2 << 30,
			DiskTotalBytes: 32 << 30, DiskFreeBytes: 20 << 30, KioskState: "in_session", KioskUnit: "active", NetworkUp: true},
		Sessions: api.SessionCounts{Ended: 1, TotalMs: 754000, MedianMs: 754000, ResetMedianMs: 142, ResetMaxMs: 142},
		Warnings: []api.Warning{{Code: "clock_unsynchronised", Severity: "info", Text: "NTP has not synchronised yet"}},
	}
	if k.seq%2 == 0 {
		r.Receipts = []api.Receipt{{Reason: "idle_timeout", Cleared: []string{"cookies", "cache", "local_storage", "downloads", "clipboard"},
			ResetMs: 142, SessionMs: 754000, EndedUnixMs: now.UnixMilli(), Assisted: true, Category: "benefits", Outcome: "completed"}}
	}
	return r
}

// send posts the kiosk's queue (at most a batch) and drops what the fleet
// accepted; a failure keeps the queue for next time, as the agent does.
func (k *kiosk) send(ctx context.Context, tlsCfg *tls.Config, c *counters, inWindow bool) {
	if len(k.queue) == 0 {
		return
	}
	batch := api.ReportBatch{Capability: api.CapabilityVersion, Reports: k.queue[:min(len(k.queue), api.MaxReportsPerBatch)]}
	body, _ := json.Marshal(batch)
	t0 := time.Now()
	status, answer, err := k.post(ctx, tlsCfg, body)
	took := time.Since(t0)
	c.requests.Add(1)
	if inWindow {
		c.mu.Lock()
		c.lat = append(c.lat, took)
		c.mu.Unlock()
	}
	switch {
	case err != nil:
		c.errs.Add(1)
		c.fail("error", err.Error())
		return
	case status >= 500:
		c.status5xx.Add(1)
		c.fail("5xx", fmt.Sprintf("%d %s", status, answer))
		return
	case status == http.StatusTooManyRequests:
		c.st429.Add(1)
		c.fail("429", string(answer))
		return
	case status != http.StatusOK:
		c.otherStatus.Add(1)
		c.fail(strconv.Itoa(status), string(answer))
		return
	}
	var rr api.ReportResponse
	if err := json.Unmarshal(answer, &rr); err != nil {
		c.errs.Add(1)
		c.fail("answer", err.Error())
		return
	}
	n := 0
	k.queue = slices.DeleteFunc(k.queue, func(r api.Report) bool {
		if slices.Contains(rr.Accepted, r.ID) {
			n++
			return true
		}
		return false
	})
	c.accepted.Add(int64(n))
	if inWindow {
		c.inWindow.Add(int64(n))
	}
}

// post sends one report request on the kiosk's connection (opening it
// when there is none) and reads the answer.
func (k *kiosk) post(ctx context.Context, tlsCfg *tls.Config, body []byte) (int, []byte, error) {
	if k.conn == nil {
		d := &net.Dialer{Timeout: 20 * time.Second, LocalAddr: &net.TCPAddr{IP: k.local}}
		raw, err := d.DialContext(ctx, "tcp", k.url[len("https://"):])
		if err != nil {
			return 0, nil, err
		}
		tc := tls.Client(raw, tlsCfg)
		hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return 0, nil, fmt.Errorf("handshake: %w", err)
		}
		k.conn = tc
	}
	var req bytes.Buffer
	req.Grow(len(body) + 256)
	conn := ""
	if k.reconnect {
		conn = "Connection: close\r\n"
	}
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: fleet\r\nUser-Agent: accesskiosk-agent/loadtest\r\nContent-Type: application/json\r\n%sAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
		api.PathReport, conn, k.cred, len(body))
	req.Write(body)
	k.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := k.conn.Write(req.Bytes()); err != nil {
		k.close()
		return 0, nil, err
	}
	br := brPool.Get().(*bufio.Reader)
	br.Reset(k.conn)
	defer func() {
		br.Reset(nil)
		brPool.Put(br)
	}()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		k.close()
		return 0, nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close || k.reconnect || br.Buffered() > 0 {
		k.close()
	}
	if err != nil {
		return 0, nil, err
	}
	if k.conn != nil {
		k.conn.SetDeadline(time.Time{})
	}
	return resp.StatusCode, answer, nil
}

func (k *kiosk) close() {
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}

// pinnedTLS trusts exactly the certificate with the given SHA-256, as an
// agent does, and resumes sessions when a kiosk reconnects.
func pinnedTLS(sum [32]byte) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // the pin replaces the chain
		ClientSessionCache: tls.NewLRUClientSessionCache(1 << 16),
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || sha256.Sum256(cs.PeerCertificates[0].Raw) != sum {
				return errors.New("not the pinned certificate")
			}
			return nil
		},
	}
}

// localAddr spreads kiosks over source addresses 127.0.0.1 to
// 127.0.0.16, so that many kiosks (and the connections of reconnecting
// ones waiting out TIME_WAIT) do not run out of ports on one.
func localAddr(i int) net.IP { return net.IPv4(127, 0, 0, byte(1+i%16)) }

// drive runs the kiosks: each makes a report every interval (the first
// at a random moment of the ramp, at least one interval, as kiosks
// switched on over time), sends its queue and keeps what was not
// accepted. Requests that start in [windowStart, windowEnd) are timed. At
// windowEnd the kiosks stop making reports and send what they still hold
// (a few tries).
func drive(ctx context.Context, kiosks []*kiosk, tlsCfg *tls.Config, interval, ramp time.Duration, windowStart, windowEnd time.Time) *counters {
	c := &counters{}
	var wg sync.WaitGroup
	start := time.Now()
	for _, k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer k.close()
			next := start.Add(rand.N(max(interval, ramp)))
			for {
				wait := time.Until(next)
				if !next.Before(windowEnd) {
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				now := time.Now()
				k.queue = append(k.queue, k.report(now))
				c.made.Add(1)
				k.send(ctx, tlsCfg, c, !now.Before(windowStart) && now.Before(windowEnd))
				next = next.Add(interval)
			}
			for try := 0; try < 5 && len(k.queue) > 0 && ctx.Err() == nil; try++ {
				if try > 0 {
					time.Sleep(time.Duration(try) * time.Second)
				}
				k.send(ctx, tlsCfg, c, false)
			}
		}()
	}
	wg.Wait()
	return c
}

// percentile returns the p-th percentile of v (sorted in place).
func percentile(v []time.Duration, p float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(len(v)-1, int(float64(len(v))*p/100))]
}
