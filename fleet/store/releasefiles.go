package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"
)

// ReleaseFiles keeps a release repository's files (TUF metadata, the
// online keys, bundles and deltas) in the database, in chunks of
// releaseChunk bytes, so that every replica serves the same repository
// and nothing of it lives on a replica's disk. It implements
// fleet/release.Storage: a file is replaced in one transaction (readers
// see the old or the new one), a target is read chunk by chunk (an HTTP
// Range reads only its chunks), and the repository's lock is a
// PostgreSQL advisory lock held on a connection of its own (it ends with
// the holder's process).
//
// On SQLite the lock excludes this process's other holders only: a fleet
// on SQLite keeps its repository in its data directory
// (release.DirStorage) instead.
type ReleaseFiles struct {
	s  *Store
	mu sync.Mutex // SQLite: the lock
}

// releaseChunk is the size of the chunks files are kept in.
const releaseChunk = 1 << 20

// releaseLockClass and releaseLockKey name the repository's advisory lock.
const releaseLockClass, releaseLockKey = 4712, 1

// ReleaseFiles returns the store's release repository files.
func (s *Store) ReleaseFiles() *ReleaseFiles { return &ReleaseFiles{s: s} }

// String names the storage in messages.
func (f *ReleaseFiles) String() string { return "the fleet database (" + f.s.dialect + ")" }

// ReadFile returns a whole file; an error wrapping fs.ErrNotExist when absent.
func (f *ReleaseFiles) ReadFile(ctx context.Context, name string) ([]byte, error) {
	var size int64
	err := f.s.r.QueryRowContext(ctx, f.s.q(`SELECT size FROM release_files WHERE name = ?`), name).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("release file %s: %w", name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read release file %s: %w", name, err)
	}
	rows, err := f.s.r.QueryContext(ctx, f.s.q(`SELECT data FROM release_chunks WHERE name = ? ORDER BY n`), name)
	if err != nil {
		return nil, fmt.Errorf("read release file %s: %w", name, err)
	}
	defer rows.Close()
	out := make([]byte, 0, size)
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read release file %s: %w", name, err)
		}
		out = append(out, b...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read release file %s: %w", name, err)
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("read release file %s: %d bytes, want %d (replaced while read?)", name, len(out), size)
	}
	return out, nil
}

// WriteFile replaces name with data in one transaction. Keys are not
// marked specially: the whole database is the fleet's only.
func (f *ReleaseFiles) WriteFile(ctx context.Context, name string, data []byte, _ bool) error {
	_, err := f.put(ctx, name, &byteChunks{data})
	return err
}

// PutFile stores everything r yields as name, in one transaction.
func (f *ReleaseFiles) PutFile(ctx context.Context, name string, r io.Reader) (int64, error) {
	return f.put(ctx, name, r)
}

type byteChunks struct{ b []byte }

func (c *byteChunks) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.b)
	c.b = c.b[n:]
	return n, nil
}

func (f *ReleaseFiles) put(ctx context.Context, name string, r io.Reader) (int64, error) {
	var size int64
	err := f.s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM release_chunks WHERE name = ?`, `DELETE FROM release_files WHERE name = ?`} {
			if _, err := tx.ExecContext(ctx, f.s.q(q), name); err != nil {
				return err
			}
		}
		buf := make([]byte, releaseChunk)
		for n := 0; ; n++ {
			k, err := io.ReadFull(r, buf)
			if k > 0 {
				if _, err := tx.ExecContext(ctx, f.s.q(`INSERT INTO release_chunks (name, n, data) VALUES (?, ?, ?)`), name, n, buf[:k]); err != nil {
					return err
				}
				size += int64(k)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, f.s.q(`INSERT INTO release_files (name, size, chunk_bytes, modified_unix_ms) VALUES (?, ?, ?, ?)`),
			name, size, releaseChunk, f.s.nowMs())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store release file %s: %w", name, err)
	}
	return size, nil
}

// Open opens name for reading and seeking; an error wrapping
// fs.ErrNotExist when absent. Reads fetch one chunk at a time.
func (f *ReleaseFiles) Open(ctx context.Context, name string) (*ReleaseFile, error) {
	rf := &ReleaseFile{f: f, ctx: ctx, name: name, chunk: -1}
	var mod int64
	err := f.s.r.QueryRowContext(ctx, f.s.q(`SELECT size, chunk_bytes, modified_unix_ms FROM release_files WHERE name = ?`), name).
		Scan(&rf.size, &rf.chunkBytes, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("release file %s: %w", name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("open release file %s: %w", name, err)
	}
	rf.mod = time.UnixMilli(mod)
	return rf, nil
}

// ReleaseFile is an open file of ReleaseFiles.
type ReleaseFile struct {
	f          *ReleaseFiles
	ctx        context.Context
	name       string
	size       int64
	chunkBytes int64
	mod        time.Time
	off        int64
	chunk      int64 // the chunk in buf; -1: none
	buf        []byte
}

// Size is the file's length.
func (rf *ReleaseFile) Size() int64 { return rf.size }

// ModTime is when the file was stored.
func (rf *ReleaseFile) ModTime() time.Time { return rf.mod }

// Read implements io.Reader.
func (rf *ReleaseFile) Read(p []byte) (int, error) {
	if rf.off >= rf.size {
		return 0, io.EOF
	}
	n := rf.off / rf.chunkBytes
	if n != rf.chunk {
		rf.buf = rf.buf[:0]
		err := rf.f.s.r.QueryRowContext(rf.ctx, rf.f.s.q(`SELECT data FROM release_chunks WHERE name = ? AND n = ?`), rf.name, n).Scan(&rf.buf)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("read release file %s: chunk %d missing (replaced while read?)", rf.name, n)
		}
		if err != nil {
			return 0, fmt.Errorf("read release file %s: %w", rf.name, err)
		}
		rf.chunk = n
	}
	at := rf.off - n*rf.chunkBytes
	if at >= int64(len(rf.buf)) {
		return 0, fmt.Errorf("read release file %s: chunk %d is short (replaced while read?)", rf.name, n)
	}
	k := copy(p, rf.buf[at:])
	rf.off += int64(k)
	return k, nil
}

// Seek implements io.Seeker.
func (rf *ReleaseFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += rf.off
	case io.SeekEnd:
		offset += rf.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative offset")
	}
	rf.off = offset
	return offset, nil
}

// Close implements io.Closer.
func (rf *ReleaseFile) Close() error {
	rf.buf = nil
	return nil
}

// Lock takes the repository for a change, waiting (until ctx ends) while
// another process or replica holds it.
func (f *ReleaseFiles) Lock(ctx context.Context) (func(), error) {
	if f.s.dialect != Postgres {
		f.mu.Lock()
		return f.mu.Unlock, nil
	}
	conn, err := f.s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock the release repository: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, releaseLockClass, releaseLockKey); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
		return nil, fmt.Errorf("lock the release repository: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, releaseLockClass, releaseLockKey); err != nil {
			// Never hand a connection holding the lock back to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}
