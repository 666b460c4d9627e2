package queue

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"accesskiosk/internal/atomicfile"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func open(t testing.TB, dir string, lim Limits) *Queue {
	t.Helper()
	q, err := Open(dir, lim)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func push(t testing.TB, q *Queue, now time.Time, payload string) uint64 {
	t.Helper()
	seq, err := q.Push(now, func(seq uint64) ([]byte, error) {
		return []byte(fmt.Sprintf("%d:%s", seq, payload)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func seqs(items []Item) []uint64 {
	var out []uint64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}

func TestOrderAndReopen(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Limits{})
	for i := range 5 {
		if got := push(t, q, t0.Add(time.Duration(i)*time.Second), "r"); got != uint64(i+1) {
			t.Fatalf("push %d: seq = %d", i, got)
		}
	}
	if err := q.Remove(1, 2); err != nil {
		t.Fatal(err)
	}
	q = open(t, dir, Limits{}) // as after a restart
	items := q.Peek(t0, 10, 1<<20)
	if got, want := fmt.Sprint(seqs(items)), "[3 4 5]"; got != want {
		t.Fatalf("after reopen: seqs = %s, want %s", got, want)
	}
	if got, want := string(items[0].Data), "3:r"; got != want {
		t.Errorf("data = %q, want %q", got, want)
	}
	q.Remove(3, 4, 5)
	q = open(t, dir, Limits{})
	if got := push(t, q, t0, "r"); got != 6 {
		t.Errorf("seq after emptied queue and reopen = %d, want 6 (never reused)", got)
	}
}

func TestPeekLimits(t *testing.T) {
	q := open(t, t.TempDir(), Limits{})
	for range 10 {
		push(t, q, t0, strings.Repeat("x", 100))
	}
	for _, tc := range []struct {
		n        int
		maxBytes int64
		want     int
	}{
		{n: 3, maxBytes: 1 << 20, want: 3},
		{n: 100, maxBytes: 1 << 20, want: 10},
		{n: 100, maxBytes: 250, want: 2},
		{n: 100, maxBytes: 10, want: 1}, // always at least one
	} {
		if got := len(q.Peek(t0, tc.n, tc.maxBytes)); got != tc.want {
			t.Errorf("Peek(%d, %d) = %d items, want %d", tc.n, tc.maxBytes, got, tc.want)
		}
	}
}

func TestBounds(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		q := open(t, t.TempDir(), Limits{MaxBytes: 1000})
		for range 30 {
			push(t, q, t0, strings.Repeat("x", 100))
		}
		st := q.Stats()
		if st.Bytes > 1000 {
			t.Errorf("bytes = %d, want <= 1000", st.Bytes)
		}
		if got := uint64(st.Len) + st.Dropped; got != 30 {
			t.Errorf("len %d + dropped %d = %d, want 30", st.Len, st.Dropped, got)
		}
		items := q.Peek(t0, 100, 1<<20)
		if last := items[len(items)-1].Seq; last != 30 {
			t.Errorf("newest = %d, want 30 (only the oldest are dropped)", last)
		}
	})
	t.Run("age", func(t *testing.T) {
		dir := t.TempDir()
		q := open(t, dir, Limits{MaxAge: time.Hour})
		push(t, q, t0, "old")
		push(t, q, t0.Add(30*time.Minute), "mid")
		items := q.Peek(t0.Add(90*time.Minute), 10, 1<<20)
		if got, want := fmt.Sprint(seqs(items)), "[2]"; got != want {
			t.Errorf("seqs = %s, want %s", got, want)
		}
		q = open(t, dir, Limits{MaxAge: time.Hour})
		if got := q.Stats().Dropped; got != 1 {
			t.Errorf("dropped after reopen = %d, want 1 (persisted)", got)
		}
	})
}

func TestCorruptFileIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Limits{})
	for range 3 {
		push(t, q, t0, "payload")
	}
	// Flip a byte in the middle entry, as a failing SD card would.
	name := filepath.Join(dir, fileName(2, t0))
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "junk.txt"), []byte("x"), 0o600)
	leftover := "." + fileName(4, t0) + ".tmp-123" // as internal/atomicfile names it
	os.WriteFile(filepath.Join(dir, leftover), []byte("half"), 0o600)

	q = open(t, dir, Limits{})
	items := q.Peek(t0, 10, 1<<20)
	if got, want := fmt.Sprint(seqs(items)), "[1 3]"; got != want {
		t.Errorf("seqs = %s, want %s", got, want)
	}
	if got := q.Stats().Corrupt; got != 1 {
		t.Errorf("corrupt = %d, want 1", got)
	}
	if _, err := os.Stat(filepath.Join(dir, corruptDir, fileName(2, t0))); err != nil {
		t.Errorf("damaged file not kept in corrupt/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, leftover)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp file left behind: %v", err)
	}
}

// TestSIGKILLMidWrite kills a process that is pushing as fast as it can,
// many times, at random moments, and checks after each kill that the
// queue opens cleanly, nothing is corrupt, sequence numbers only grow, and
// every push the child saw succeed is still there.
func TestSIGKILLMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const kills = 60
	confirmed := map[uint64]bool{} // pushes the child saw succeed and has not removed
	var maxSeen uint64             // highest sequence number ever confirmed
	midWrite := 0                  // kills that left a half-written temp file
	read := func(line string) {
		kind, num, _ := strings.Cut(strings.TrimSpace(line), " ")
		seq, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return
		}
		switch kind {
		case "P":
			confirmed[seq] = true
			maxSeen = max(maxSeen, seq)
		case "R", "r":
			for s := range confirmed {
				if s <= seq {
					delete(confirmed, s)
				}
			}
		}
	}
	for i := range kills {
		cmd := exec.Command(exe, "-test.run=^TestHelperPusher$")
		cmd.Env = append(os.Environ(), "QUEUE_HELPER_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		// Wait for the child to be busy, then kill it at a random moment.
		want := 3 + rand.IntN(20)
		for n := 0; n < want && sc.Scan(); n++ {
			read(sc.Text())
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() { // lines written before the kill still count
			read(sc.Text())
		}
		cmd.Wait()
		if des, _ := os.ReadDir(dir); true {
			for _, de := range des {
				if atomicfile.IsTemp(de.Name()) {
					midWrite++
					break
				}
			}
		}

		q, err := Open(dir, Limits{MaxBytes: 1 << 30})
		if err != nil {
			t.Fatalf("kill %d: open: %v", i, err)
		}
		items := q.Peek(time.Now(), 1<<20, 1<<40)
		if st := q.Stats(); st.Corrupt != 0 {
			t.Fatalf("kill %d: %d corrupt entries", i, st.Corrupt)
		}
		have := map[uint64]bool{}
		var prev uint64
		for _, it := range items {
			if it.Seq <= prev {
				t.Fatalf("kill %d: seq %d after %d", i, it.Seq, prev)
			}
			prev = it.Seq
			have[it.Seq] = true
			if want := fmt.Sprintf("report %d ", it.Seq); !bytes.HasPrefix(it.Data, []byte(want)) {
				t.Fatalf("kill %d: entry %d holds %.20q", i, it.Seq, it.Data)
			}
		}
		for seq := range confirmed {
			if !have[seq] {
				t.Fatalf("kill %d: seq %d was confirmed written, never removed, but is gone", i, seq)
			}
		}
		// The next number must be new even if the queue was emptied just
		// before the kill: sequence numbers are never reused.
		next, err := q.Push(time.Now(), func(seq uint64) ([]byte, error) { return []byte(fmt.Sprintf("report %d probe", seq)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if next <= maxSeen {
			t.Fatalf("kill %d: next seq %d reuses a number already confirmed (max %d)", i, next, maxSeen)
		}
		maxSeen = next
		q.Remove(next)
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if atomicfile.IsTemp(de.Name()) {
				t.Fatalf("kill %d: Open left temp file %s", i, de.Name())
			}
		}
	}
	t.Logf("%d kills (%d caught mid-write), %d entries confirmed and intact at the end, max seq %d", kills, midWrite, len(confirmed), maxSeen)
	if midWrite == 0 {
		t.Errorf("no kill landed mid-write: the test proved nothing")
	}
}

// TestHelperPusher is the child of TestSIGKILLMidWrite. It pushes reports
// and now and then removes everything queued (as after a send), so that
// kills also land in removals and in the state file's rewrite. It prints
// "P seq" after each push, "r seq" before removing up to seq and "R seq"
// after.
func TestHelperPusher(t *testing.T) {
	dir := os.Getenv("QUEUE_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	q, err := Open(dir, Limits{MaxBytes: 1 << 30})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB widens the write window
	for i := range 10000 {
		seq, err := q.Push(time.Now(), func(seq uint64) ([]byte, error) {
			return append([]byte(fmt.Sprintf("report %d ", seq)), body...), nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("P %d\n", seq)
		if i%4 == 3 {
			items := q.Peek(time.Now(), 1000, 1<<40)
			var all []uint64
			for _, it := range items {
				all = append(all, it.Seq)
			}
			fmt.Printf("r %d\n", seq) // removing: these may vanish if killed now
			if err := q.Remove(all...); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Printf("R %d\n", seq)
		}
	}
	os.Exit(0)
}

// TestDiskFull fills a tiny tmpfs: pushes keep working (in memory), the
// error is reported in Stats and by Push, and once space is back entries go
// to disk again. Nothing panics, nothing is lost beyond the memory bound.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs (tests run as root under CI): %v", err)
		}
		t.Skipf("cannot mount a tmpfs (not root?): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	qdir := filepath.Join(dir, "queue")
	q := open(t, qdir, Limits{MemFallback: 8})
	body := strings.Repeat("y", 10<<10)
	var fullErrs int
	for i := range 20 {
		_, err := q.Push(t0, func(seq uint64) ([]byte, error) { return []byte(body), nil })
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("push %d: err = %v, want ENOSPC", i, err)
			}
			fullErrs++
		}
	}
	st := q.Stats()
	if fullErrs == 0 || st.LastErr == "" || !strings.Contains(st.LastErr, "no space") {
		t.Fatalf("disk full not reported: errs %d, stats %+v", fullErrs, st)
	}
	if st.InMem != 8 {
		t.Errorf("in memory = %d, want 8 (the bound)", st.InMem)
	}
	if got := uint64(st.Len) + st.Dropped; got != 20 {
		t.Errorf("len %d + dropped %d != 20", st.Len, st.Dropped)
	}
	items := q.Peek(t0, 100, 1<<30)
	var prev uint64
	for _, it := range items {
		if it.Seq <= prev {
			t.Fatalf("order broken: %d after %d", it.Seq, prev)
		}
		prev = it.Seq
	}
	if prev != 20 {
		t.Errorf("newest = %d, want 20", prev)
	}
	// Free the disk: the queue recovers by itself.
	if err := q.Remove(seqs(items)...); err != nil {
		t.Fatal(err)
	}
	push(t, q, t0, "after")
	if st := q.Stats(); st.LastErr != "" || st.InMem != 0 {
		t.Errorf("after space freed: %+v", st)
	}
}
