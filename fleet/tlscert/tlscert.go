// Package tlscert gives the fleet server its TLS certificate: one given by
// the operator, or a self-signed one created on first start and kept in the
// data directory (one server) or in the shared database (several replicas,
// Shared). Devices pin the certificate's SHA-256 fingerprint, so the
// self-signed certificate lives long (10 years) and is reused across
// restarts and replicas.
package tlscert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"accesskiosk/internal/atomicfile"
)

// Fingerprint returns the SHA-256 of a certificate's DER bytes as
// colon-separated upper-case hex (the form `openssl x509 -fingerprint
// -sha256` prints, which IT staff can compare by eye).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// Load reads a certificate and key given by the operator.
func Load(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return c, fmt.Errorf("load TLS certificate %s: %w", certFile, err)
	}
	return c, nil
}

// LoadOrCreate returns the self-signed certificate kept in dir
// (cert.pem, key.pem), creating it for hosts (names and IP addresses) when
// absent. created says whether it was made now.
func LoadOrCreate(dir string, hosts []string) (cert tls.Certificate, created bool, err error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		c, err := Load(certFile, keyFile)
		return c, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return cert, false, fmt.Errorf("read TLS certificate: %w", err)
	}
	certPEM, keyPEM, err := SelfSigned(hosts)
	if err != nil {
		return cert, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cert, false, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := atomicfile.Write(keyFile, keyPEM, 0o600); err != nil {
		return cert, false, err
	}
	if err := atomicfile.Write(certFile, certPEM, 0o644); err != nil {
		return cert, false, err
	}
	c, err := Load(certFile, keyFile)
	return c, true, err
}

// SelfSigned makes a new self-signed certificate (ECDSA P-256, 10 years)
// for hosts (names and IP addresses) and returns it and its key as PEM.
func SelfSigned(hosts []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("create TLS key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Access Kiosk fleet server", Organization: []string{"Access Kiosk"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode TLS key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// Shared keeps one certificate for every replica of the fleet (the fleet
// store, in PostgreSQL, implements it): agents pin one fingerprint, so
// every replica must serve the same certificate.
type Shared interface {
	// TLSCert returns the kept certificate and key (PEM); found is false
	// when there is none.
	TLSCert(ctx context.Context) (certPEM, keyPEM []byte, found bool, err error)
	// PutTLSCert keeps a certificate and key unless one is kept already
	// (replace false), and returns what is kept afterwards: when two
	// replicas start together, both end with the first one's.
	PutTLSCert(ctx context.Context, certPEM, keyPEM []byte, replace bool) (keptCert, keptKey []byte, err error)
}

// LoadOrCreateShared returns the certificate kept in sh, creating a
// self-signed one for hosts when there is none yet; created says whether
// this call made the one kept.
func LoadOrCreateShared(ctx context.Context, sh Shared, hosts []string) (cert tls.Certificate, created bool, err error) {
	certPEM, keyPEM, found, err := sh.TLSCert(ctx)
	if err != nil {
		return cert, false, fmt.Errorf("read the shared TLS certificate: %w", err)
	}
	if !found {
		newCert, newKey, err := SelfSigned(hosts)
		if err != nil {
			return cert, false, err
		}
		if certPEM, keyPEM, err = sh.PutTLSCert(ctx, newCert, newKey, false); err != nil {
			return cert, false, fmt.Errorf("keep the shared TLS certificate: %w", err)
		}
		created = string(certPEM) == string(newCert)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, false, fmt.Errorf("the shared TLS certificate: %w", err)
	}
	return cert, created, nil
}

// Check parses a certificate and key (PEM) as a pair and returns the
// certificate's fingerprint: what `fleet tls import` checks before it
// replaces the shared certificate.
func Check(certPEM, keyPEM []byte) (fingerprint string, err error) {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return "", fmt.Errorf("TLS certificate and key: %w", err)
	}
	return Fingerprint(c.Certificate[0]), nil
}
