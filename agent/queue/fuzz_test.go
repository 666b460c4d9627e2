package queue

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzEntryFile: whatever bytes a damaged card leaves in a queue file, the
// queue opens, never hands out a payload that fails its checksum, and sets
// the file aside.
func FuzzEntryFile(f *testing.F) {
	f.Add([]byte(header([]byte("{}")) + "{}"))
	f.Add([]byte("akq1 00000000 2\n{}"))
	f.Add([]byte("akq1 zz -1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		name := fileName(1, time.UnixMilli(1))
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		q, err := Open(dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		items := q.Peek(time.UnixMilli(2), 10, 1<<20)
		for _, it := range items {
			if string(data) != header(it.Data)+string(it.Data) {
				t.Fatalf("handed out %q from a file holding %q", it.Data, data)
			}
		}
		if len(items) == 0 && q.Stats().Corrupt != 1 {
			t.Fatalf("damaged file not counted: %+v", q.Stats())
		}
	})
}
