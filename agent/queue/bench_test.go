package queue

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"accesskiosk/fleet/api"

	_ "modernc.org/sqlite"
)

// A realistic report body (about 1 KiB of JSON).
func sampleReport(seq uint64) []byte {
	r := api.Report{
		ID: fmt.Sprintf("%032x", seq), Seq: seq, CreatedUnixMs: time.Now().UnixMilli(),
		Health: api.Health{AgentVersion: "1.0.0", KioskVersion: "1.0.0", OSRelease: "Debian GNU/Linux 12 (bookworm)",
			UptimeSeconds: 86400, Load1: 0.42, TempCelsius: 51.5, MemTotalBytes: 4 << 30, MemAvailBytes: 3 << 30,
			DiskTotalBytes: 32 << 30, DiskFreeBytes: 20 << 30, KioskState: "idle", KioskUnit: "active", NetworkUp: true},
		Sessions: api.SessionCounts{Ended: 2, TotalMs: 1_200_000, MedianMs: 600_000, ResetMedianMs: 350, ResetMaxMs: 410},
		Receipts: []api.Receipt{
			{Reason: "idle_timeout", Cleared: []string{"web_view", "website_data", "clipboard", "downloads", "settings", "history"}, ResetMs: 350, SessionMs: 500_000},
			{Reason: "toolbar", Cleared: []string{"web_view", "website_data", "clipboard", "downloads", "settings", "history"}, ResetMs: 410, SessionMs: 700_000},
		},
		Warnings: []api.Warning{{Code: "hot", Severity: "warning", Text: "CPU at 81°C"}},
	}
	b, _ := json.Marshal(r)
	return b
}

// BenchmarkQueue measures reports through the queue as the agent uses it:
// push durably one by one (as reports are made), then peek a batch of 100
// and remove it (as the fleet accepts it). It runs this package's
// file-per-report design side by side with what most people would reach
// for: a SQLite table (modernc.org/sqlite, WAL, synchronous=FULL, so
// that it is as durable). Both fsync every push, so the figures are bounded
// by the disk, as they are on an SD card. An agent needs 1 report per 30 s.
func BenchmarkQueue(b *testing.B) {
	const batch = 100
	var rate [2]float64
	b.Run("files", func(b *testing.B) {
		q, err := Open(b.TempDir(), Limits{MaxBytes: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for b.Loop() {
			for range batch {
				if _, err := q.Push(time.Now(), func(seq uint64) ([]byte, error) { return sampleReport(seq), nil }); err != nil {
					b.Fatal(err)
				}
			}
			items := q.Peek(time.Now(), batch, 1<<30)
			if len(items) != batch {
				b.Fatalf("peek %d", len(items))
			}
			seqs := make([]uint64, len(items))
			for i, it := range items {
				seqs[i] = it.Seq
			}
			if err := q.Remove(seqs...); err != nil {
				b.Fatal(err)
			}
		}
		rate[0] = float64(b.N*batch) / time.Since(start).Seconds()
		b.ReportMetric(rate[0], "reports/s")
	})
	b.Run("sqlite", func(b *testing.B) {
		db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "q.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.Exec(`CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT, created INTEGER, data BLOB)`); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var n uint64
		for b.Loop() {
			for range batch {
				n++
				if _, err := db.Exec(`INSERT INTO q (created, data) VALUES (?, ?)`, time.Now().UnixMilli(), sampleReport(n)); err != nil {
					b.Fatal(err)
				}
			}
			rows, err := db.Query(`SELECT seq, data FROM q ORDER BY seq LIMIT ?`, batch)
			if err != nil {
				b.Fatal(err)
			}
			var last int64
			got := 0
			for rows.Next() {
				var data []byte
				if err := rows.Scan(&last, &data); err != nil {
					b.Fatal(err)
				}
				got++
			}
			rows.Close()
			if got != batch {
				b.Fatalf("select %d", got)
			}
			if _, err := db.Exec(`DELETE FROM q WHERE seq <= ?`, last); err != nil {
				b.Fatal(err)
			}
		}
		rate[1] = float64(b.N*batch) / time.Since(start).Seconds()
		b.ReportMetric(rate[1], "reports/s")
	})
	if rate[0] > 0 && rate[1] > 0 {
		fmt.Printf("agent queue throughput (durable push, batch of %d sent): files %.0f reports/s, sqlite %.0f reports/s; files/sqlite = %.2f; need: 0.033 reports/s\n",
			batch, rate[0], rate[1], rate[0]/rate[1])
	}
}
