package printing

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDayCountSurvivesRestartAndRollsOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "print-count.json")
	day1 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.Local)

	d, err := OpenDayCount(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, left, err := d.Reserve(day1, 7, 10); !ok || left != 10 || err != nil {
		t.Fatalf("Reserve 7 of 10: ok %v left %d err %v", ok, left, err)
	}
	if ok, left, _ := d.Reserve(day1, 4, 10); ok || left != 3 {
		t.Fatalf("Reserve 4 more: ok %v left %d, want refused with 3 left", ok, left)
	}

	// A restart (a new DayCount from the same file) keeps the day's count.
	d, err = OpenDayCount(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Used(day1.Add(8 * time.Hour)); got != 7 {
		t.Fatalf("after restart: used %d, want 7", got)
	}
	data, _ := os.ReadFile(path)
	if string(data) != `{"date":"2026-03-02","pages":7}`+"\n" {
		t.Errorf("file holds %q: a date and a count only", data)
	}
	if err := d.Refund(day1, 2); err != nil || d.Used(day1) != 5 {
		t.Fatalf("Refund 2: err %v used %d, want 5", err, d.Used(day1))
	}

	// The next day starts from zero, and yesterday's refunds do not reach it.
	day2 := day1.Add(24 * time.Hour)
	if got := d.Used(day2); got != 0 {
		t.Fatalf("next day: used %d, want 0", got)
	}
	if ok, _, _ := d.Reserve(day2, 10, 10); !ok {
		t.Fatal("next day: 10 of 10 refused")
	}
	d.Refund(day1, 5)
	if got := d.Used(day2); got != 10 {
		t.Errorf("a refund for yesterday changed today: used %d", got)
	}
}

func TestDayCountDamagedFile(t *testing.T) {
	for name, content := range map[string]string{
		"not json":  "pages=3",
		"bad date":  `{"date":"yesterday","pages":3}`,
		"negative":  `{"date":"2026-03-02","pages":-4}`,
		"truncated": `{"date":"2026-03-02","pa`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "print-count.json")
			os.WriteFile(path, []byte(content), 0o644)
			d, err := OpenDayCount(path)
			if !errors.Is(err, ErrCountFile) {
				t.Fatalf("err %v, want ErrCountFile", err)
			}
			if d == nil {
				t.Fatal("no usable DayCount with the error")
			}
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.Local)
			if ok, _, err := d.Reserve(now, 1, 10); !ok || err != nil {
				t.Fatalf("Reserve after a damaged file: ok %v err %v", ok, err)
			}
			if _, err := OpenDayCount(path); err != nil {
				t.Errorf("the file was not replaced by a good one: %v", err)
			}
		})
	}
}

func TestRateLimitSlidingWindow(t *testing.T) {
	r := newRateLimit(3, time.Minute)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if ok, _ := r.take(t0.Add(time.Duration(i) * 10 * time.Second)); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	ok, after := r.take(t0.Add(30 * time.Second))
	if ok || after != 30*time.Second {
		t.Fatalf("4th in the minute: ok %v retry after %v, want refused for 30s", ok, after)
	}
	if ok, _ := r.take(t0.Add(60 * time.Second)); !ok {
		t.Fatal("a minute after the first, one more should go")
	}
	if ok, _ := r.take(t0.Add(65 * time.Second)); ok {
		t.Fatal("the window holds 3 again (10s, 20s, 60s)")
	}
}
