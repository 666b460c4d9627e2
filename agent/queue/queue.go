// Package queue is the agent's on-disk report queue: reports wait here,
// oldest first, until the fleet has them, through network outages of hours
// and through power cuts and SIGKILL.
//
// Each entry is one file, written crash-safely: a temp file in the same
// directory, fsync, close, rename to its final name, fsync of the directory.
// A crash leaves at worst a temp file, which Open deletes; a file under its
// final name is always whole. Each file also starts with a header holding
// the length and CRC-32C of the payload, so that a file damaged on disk (bad
// SD card) is detected, moved to corrupt/ and counted instead of being sent
// or crashing the agent.
//
// The file name carries the sequence number and creation time
// ("00000000000000000042-1700000000000.rep"), so ordering and the age bound
// need no reads. The queue is bounded in bytes and in age; when a bound is
// hit the oldest entries are dropped and counted (Stats.Dropped).
//
// When the disk cannot take a write (full, read-only, I/O error) the entry
// is kept in memory instead (at most MemFallback entries) and Stats.LastErr
// says why, so a full disk is reported to the fleet rather than being fatal.
package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"accesskiosk/internal/atomicfile"
)

// Limits bound the queue. Zero values mean the defaults.
type Limits struct {
	MaxBytes    int64         // total payload bytes on disk; 0: 16 MiB
	MaxAge      time.Duration // entries older than this are dropped; 0: 7 days
	MemFallback int           // entries kept in memory when the disk refuses writes; 0: 64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 16 << 20
	}
	if l.MaxAge <= 0 {
		l.MaxAge = 7 * 24 * time.Hour
	}
	if l.MemFallback <= 0 {
		l.MemFallback = 64
	}
	return l
}

// Item is one queued entry.
type Item struct {
	Seq     uint64
	Created time.Time
	Data    []byte
}

// Stats describe the queue for the health report.
type Stats struct {
	Len     int    // entries waiting (disk and memory)
	Bytes   int64  // payload bytes waiting
	InMem   int    // entries held in memory because the disk refused them
	Dropped uint64 // entries dropped by the bounds since the queue directory was made
	Corrupt uint64 // damaged files moved to corrupt/ since the queue directory was made
	// LastErr is the last write error ("" once a write succeeds again).
	LastErr string
}

type entry struct {
	seq     uint64
	created time.Time
	size    int64
	name    string // "" for an in-memory entry
	data    []byte // in-memory entries only
}

// Queue is safe for use from several goroutines.
type Queue struct {
	dir string
	lim Limits

	mu      sync.Mutex
	entries []entry // ordered by seq
	bytes   int64
	lastSeq uint64
	dropped uint64
	corrupt uint64
	lastErr error
}

const (
	suffix     = ".rep"
	stateFile  = "state.json"
	corruptDir = "corrupt"
	magic      = "akq1"
	// maxCorruptKept bounds how many damaged files are kept for inspection.
	maxCorruptKept = 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks an entry whose file is damaged.
var ErrCorrupt = errors.New("queue entry corrupt")

type state struct {
	LastSeq uint64 `json:"last_seq"`
	Dropped uint64 `json:"dropped"`
	Corrupt uint64 `json:"corrupt"`
}

// Open opens (creating if needed) the queue in dir. Temp files left by a
// crash are removed; files that do not parse as entries are moved aside.
func Open(dir string, lim Limits) (*Queue, error) {
	q := &Queue{dir: dir, lim: lim.withDefaults()}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create queue directory: %w", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, stateFile)); err == nil {
		var st state
		if err := json.Unmarshal(b, &st); err == nil {
			q.lastSeq, q.dropped, q.corrupt = st.LastSeq, st.Dropped, st.Corrupt
		}
		// A damaged state file only loses counters: sequence numbers are
		// recovered from the entries below and from the file names.
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read queue state: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read queue directory: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		switch {
		case de.IsDir() || name == stateFile:
			continue
		case atomicfile.IsTemp(name):
			os.Remove(filepath.Join(dir, name)) // an interrupted write
			continue
		}
		seq, created, ok := parseName(name)
		if !ok {
			q.quarantine(name)
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed under us
		}
		q.entries = append(q.entries, entry{seq: seq, created: created, size: info.Size(), name: name})
		q.bytes += info.Size()
		q.lastSeq = max(q.lastSeq, seq)
	}
	sort.Slice(q.entries, func(i, j int) bool { return q.entries[i].seq < q.entries[j].seq })
	return q, nil
}

func fileName(seq uint64, created time.Time) string {
	return fmt.Sprintf("%020d-%d%s", seq, created.UnixMilli(), suffix)
}

func parseName(name string) (uint64, time.Time, bool) {
	base, ok := strings.CutSuffix(name, suffix)
	if !ok {
		return 0, time.Time{}, false
	}
	s, c, ok := strings.Cut(base, "-")
	if !ok {
		return 0, time.Time{}, false
	}
	seq, err1 := strconv.ParseUint(s, 10, 64)
	ms, err2 := strconv.ParseInt(c, 10, 64)
	if err1 != nil || err2 != nil || seq == 0 {
		return 0, time.Time{}, false
	}
	return seq, time.UnixMilli(ms), true
}

// Push adds an entry created at now. build is called with the entry's
// sequence number (increasing, never reused) and returns the payload. The
// entry is on disk when Push returns nil; when the disk refuses it, it is
// kept in memory and Push returns the write error (the entry is still
// queued). An error from build is returned and nothing is queued.
func (q *Queue) Push(now time.Time, build func(seq uint64) ([]byte, error)) (uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	seq := q.lastSeq + 1
	data, err := build(seq)
	if err != nil {
		return 0, fmt.Errorf("build queue entry: %w", err)
	}
	q.lastSeq = seq
	q.expire(now)
	name := fileName(seq, now)
	if werr := q.write(name, data); werr != nil {
		q.lastErr = werr
		q.entries = append(q.entries, entry{seq: seq, created: now, size: int64(len(data)), data: data})
		q.bytes += int64(len(data))
		q.trimMem()
		q.trimBytes()
		return seq, werr
	}
	q.lastErr = nil
	q.entries = append(q.entries, entry{seq: seq, created: now, size: int64(len(data) + headerLen(data)), name: name})
	q.bytes += int64(len(data) + headerLen(data))
	q.trimBytes()
	return seq, nil
}

func header(data []byte) string {
	return fmt.Sprintf("%s %08x %d\n", magic, crc32.Checksum(data, castagnoli), len(data))
}

func headerLen(data []byte) int { return len(header(data)) }

// write puts data under name crash-safely (internal/atomicfile), behind
// its header.
func (q *Queue) write(name string, data []byte) error {
	h := header(data)
	b := make([]byte, 0, len(h)+len(data))
	b = append(append(b, h...), data...)
	if err := atomicfile.Write(filepath.Join(q.dir, name), b, 0o600); err != nil {
		return fmt.Errorf("write queue entry: %w", err)
	}
	return nil
}

// Peek returns up to n of the oldest entries, at most maxBytes of payload in
// all (but always at least one entry when the queue is not empty). Damaged
// files are moved to corrupt/, counted and skipped.
func (q *Queue) Peek(now time.Time, n int, maxBytes int64) []Item {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.expire(now)
	var (
		out   []Item
		total int64
		bad   []uint64
	)
	for _, e := range q.entries {
		if len(out) >= n {
			break
		}
		data := e.data
		if e.name != "" {
			var err error
			data, err = q.read(e.name)
			if err != nil {
				bad = append(bad, e.seq)
				continue
			}
		}
		if len(out) > 0 && total+int64(len(data)) > maxBytes {
			break
		}
		total += int64(len(data))
		out = append(out, Item{Seq: e.seq, Created: e.created, Data: data})
	}
	for _, seq := range bad {
		i := q.index(seq)
		q.quarantine(q.entries[i].name)
		q.corrupt++
		q.drop(i)
	}
	if len(bad) > 0 {
		q.saveState()
	}
	return out
}

func (q *Queue) read(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(q.dir, name))
	if err != nil {
		return nil, fmt.Errorf("read queue entry %s: %w", name, err)
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, fmt.Errorf("read queue entry %s: no header: %w", name, ErrCorrupt)
	}
	// The header must be exactly what header() writes for this payload:
	// magic, CRC-32C as 8 lower-case hex digits, length, one space apart.
	data := b[i+1:]
	if string(b[:i+1]) != header(data) {
		return nil, fmt.Errorf("read queue entry %s: header, length or checksum mismatch: %w", name, ErrCorrupt)
	}
	return data, nil
}

// Remove deletes the entries with the given sequence numbers (ones not in
// the queue are ignored).
func (q *Queue) Remove(seqs ...uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var firstErr error
	// Removing the newest file on disk would take the last trace of the
	// newest sequence number with it: record the number first, or keep that
	// file (sending it again is harmless: the fleet stores reports by id).
	keep := uint64(0)
	if newest := q.newestOnDisk(); newest != 0 && slices.Contains(seqs, newest) {
		if err := q.saveStateErr(); err != nil {
			keep, firstErr = newest, err
		}
	}
	for _, seq := range seqs {
		i := q.index(seq)
		if i < 0 || seq == keep {
			continue
		}
		if name := q.entries[i].name; name != "" {
			if err := os.Remove(filepath.Join(q.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) && firstErr == nil {
				firstErr = fmt.Errorf("remove queue entry: %w", err)
			}
		}
		q.drop(i)
	}
	return firstErr
}

// newestOnDisk is the highest sequence number held in a file, or 0.
func (q *Queue) newestOnDisk() uint64 {
	for i := len(q.entries) - 1; i >= 0; i-- {
		if q.entries[i].name != "" {
			return q.entries[i].seq
		}
	}
	return 0
}

// Stats returns the queue's counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := Stats{Len: len(q.entries), Bytes: q.bytes, Dropped: q.dropped, Corrupt: q.corrupt}
	for _, e := range q.entries {
		if e.name == "" {
			st.InMem++
		}
	}
	if q.lastErr != nil {
		st.LastErr = q.lastErr.Error()
	}
	return st
}

// Len is the number of entries waiting.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

func (q *Queue) index(seq uint64) int {
	i := sort.Search(len(q.entries), func(i int) bool { return q.entries[i].seq >= seq })
	if i < len(q.entries) && q.entries[i].seq == seq {
		return i
	}
	return -1
}

func (q *Queue) drop(i int) {
	q.bytes -= q.entries[i].size
	q.entries = append(q.entries[:i], q.entries[i+1:]...)
}

// dropOldest removes the oldest entry because of a bound.
func (q *Queue) dropOldest() {
	if name := q.entries[0].name; name != "" {
		os.Remove(filepath.Join(q.dir, name))
	}
	q.drop(0)
	q.dropped++
}

func (q *Queue) expire(now time.Time) {
	n := q.dropped
	for len(q.entries) > 0 && now.Sub(q.entries[0].created) > q.lim.MaxAge {
		q.dropOldest()
	}
	if q.dropped != n {
		q.saveState()
	}
}

func (q *Queue) trimBytes() {
	n := q.dropped
	for len(q.entries) > 1 && q.bytes > q.lim.MaxBytes {
		q.dropOldest()
	}
	if q.dropped != n {
		q.saveState()
	}
}

func (q *Queue) trimMem() {
	mem := 0
	for _, e := range q.entries {
		if e.name == "" {
			mem++
		}
	}
	for i := 0; mem > q.lim.MemFallback && i < len(q.entries); {
		if q.entries[i].name == "" {
			q.drop(i)
			q.dropped++
			mem--
			continue
		}
		i++
	}
}

// saveState writes the counters and last sequence number crash-safely. A
// failure is kept as the last error: the counters are advisory and the
// sequence is also recovered from the entries' names.
func (q *Queue) saveState() {
	if err := q.saveStateErr(); err != nil {
		q.lastErr = err
	}
}

func (q *Queue) saveStateErr() error {
	b, _ := json.Marshal(state{LastSeq: q.lastSeq, Dropped: q.dropped, Corrupt: q.corrupt})
	return atomicfile.Write(filepath.Join(q.dir, stateFile), b, 0o600)
}

// quarantine moves a damaged or unknown file to corrupt/, keeping at most
// maxCorruptKept of them.
func (q *Queue) quarantine(name string) {
	cdir := filepath.Join(q.dir, corruptDir)
	if err := os.MkdirAll(cdir, 0o700); err != nil {
		os.Remove(filepath.Join(q.dir, name))
		return
	}
	if err := os.Rename(filepath.Join(q.dir, name), filepath.Join(cdir, name)); err != nil {
		os.Remove(filepath.Join(q.dir, name))
	}
	if des, err := os.ReadDir(cdir); err == nil && len(des) > maxCorruptKept {
		for _, de := range des[:len(des)-maxCorruptKept] {
			os.Remove(filepath.Join(cdir, de.Name()))
		}
	}
}
