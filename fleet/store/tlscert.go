package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// tlsCertName is the row of the certificate every replica serves.
const tlsCertName = "server"

// TLSCert returns the certificate and key every replica serves (PEM);
// found is false when none is kept yet. It implements tlscert.Shared.
func (s *Store) TLSCert(ctx context.Context) (certPEM, keyPEM []byte, found bool, err error) {
	var c, k string
	err = s.r.QueryRowContext(ctx, s.q(`SELECT cert_pem, key_pem FROM tls_certs WHERE name = ?`), tlsCertName).Scan(&c, &k)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("read TLS certificate: %w", err)
	}
	return []byte(c), []byte(k), true, nil
}

// PutTLSCert keeps a certificate and key for every replica, unless one is
// kept already and replace is false, and returns the one kept afterwards.
// It implements tlscert.Shared.
func (s *Store) PutTLSCert(ctx context.Context, certPEM, keyPEM []byte, replace bool) (keptCert, keptKey []byte, err error) {
	q := `INSERT INTO tls_certs (name, cert_pem, key_pem, created_unix_ms) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`
	if replace {
		q = `INSERT INTO tls_certs (name, cert_pem, key_pem, created_unix_ms) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem, created_unix_ms = excluded.created_unix_ms`
	}
	if _, err := s.w.ExecContext(ctx, s.q(q), tlsCertName, string(certPEM), string(keyPEM), s.nowMs()); err != nil {
		return nil, nil, fmt.Errorf("keep TLS certificate: %w", err)
	}
	c, k, found, err := s.TLSCert(ctx)
	if err == nil && !found {
		err = errors.New("keep TLS certificate: it is not there after writing it")
	}
	return c, k, err
}
