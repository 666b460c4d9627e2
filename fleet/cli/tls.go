package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
)

// tlsCommands are `fleet tls ...`: the certificate every replica of a
// PostgreSQL fleet serves, kept in its database.
func tlsCommands(stdout, stderr io.Writer) []cmdline.Command {
	return []cmdline.Command{
		{Name: "tls import", Synopsis: "--db URL --cert FILE --key FILE",
			Summary: "make every replica serve this certificate (such as DATA/tls of the server the kiosks pin, when moving to PostgreSQL)",
			Run:     func(ctx context.Context, args []string) error { return tlsImport(ctx, args, stdout, stderr) }},
		{Name: "tls export", Synopsis: "--db URL --out DIR",
			Summary: "write the replicas' certificate and key to DIR/cert.pem and DIR/key.pem (for a TLS proxy)",
			Run:     func(ctx context.Context, args []string) error { return tlsExport(ctx, args, stdout, stderr) }},
	}
}

func tlsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf := adminFlags("tls import", "--db URL --cert FILE --key FILE")
	certFile := fs.String("cert", "", "certificate `FILE` (PEM)")
	keyFile := fs.String("key", "", "private key `FILE` (PEM) of --cert")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if sf.db == "" {
		return confile.FlagError("db", "is required: the certificate is kept for the replicas of a PostgreSQL fleet (one server on SQLite uses --tls-cert or DATA/tls)")
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *certFile == "" || *keyFile == "" {
		return confile.FlagError("cert", "--cert and --key are both required")
	}
	certPEM, err := os.ReadFile(*certFile)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	fp, err := tlscert.Check(certPEM, keyPEM)
	if err != nil {
		return confile.FlagError("cert", "%s and %s: %v", *certFile, *keyFile, err)
	}
	st, err := sf.open(ctx, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, _, err := st.PutTLSCert(ctx, certPEM, keyPEM, true); err != nil {
		return err
	}
	st.Audit(ctx, "cli", "tls.import", fp, *certFile)
	fmt.Fprintf(stdout, "every replica serves this certificate from its next start: SHA-256 fingerprint %s\n", fp)
	return nil
}

func tlsExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf := adminFlags("tls export", "--db URL --out DIR")
	out := fs.String("out", "", "`DIR` to write cert.pem and key.pem (0600) into")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if sf.db == "" {
		return confile.FlagError("db", "is required (a SQLite fleet's certificate is in DATA/tls)")
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *out == "" {
		return confile.FlagError("out", "is required")
	}
	st, err := sf.open(ctx, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	certPEM, keyPEM, found, err := st.TLSCert(ctx)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no certificate kept yet: the first `fleet serve --db` makes one (or import one with fleet tls import)")
	}
	fp, err := tlscert.Check(certPEM, keyPEM)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(*out, "key.pem"), keyPEM, 0o600); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(*out, "cert.pem"), certPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s: SHA-256 fingerprint %s\n", filepath.Join(*out, "cert.pem"), filepath.Join(*out, "key.pem"), fp)
	return nil
}
