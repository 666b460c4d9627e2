package store

import (
	"context"
	"database/sql"
)

// For the store's external tests and benchmarks.

// ExecWriter runs a statement ('?' placeholders) on the writer.
func (s *Store) ExecWriter(ctx context.Context, q string, args ...any) error {
	_, err := s.w.ExecContext(ctx, s.q(q), args...)
	return err
}

// QueryReader runs a query ('?' placeholders) on the readers.
func (s *Store) QueryReader(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.r.QueryContext(ctx, s.q(q), args...)
}

// Values is "(?, ?), (?, ?)" for rows rows of cols columns.
func (s *Store) Values(rows, cols int) string { return s.values(rows, cols) }

// ChunkRows is how many rows a multi-row insert takes at most.
const ChunkRows = chunkRows
