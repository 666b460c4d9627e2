// Package fleetclient calls the fleet server's staff admin API for
// `provision`: create sites and enrolment tokens, list tokens, with a staff
// API token. (Enrolment itself is the agent's: agent/fleetclient.) The
// connection can be pinned to the SHA-256 fingerprint of the fleet's TLS
// certificate, so a self-signed fleet is trusted exactly and nothing else is.
//
// Errors can be told apart with errors.Is: ErrFingerprint (a different
// server, or a changed certificate), ErrUnreachable (nothing answered), and
// the fleet's own answers as *APIError, which match ErrUnauthorized.
package fleetclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/provisioning/bootfile"
)

// Errors to test with errors.Is.
var (
	// ErrFingerprint: the server's certificate is not the pinned one.
	ErrFingerprint = errors.New("the fleet server's TLS certificate does not match the pinned fingerprint")
	// ErrUnreachable: no answer from the fleet server (DNS, refused, timeout).
	ErrUnreachable = errors.New("fleet server unreachable")
	// ErrUnauthorized: the staff API token was refused, or its role may not do this.
	ErrUnauthorized = errors.New("not allowed")
)

// APIError is an error answer from the fleet (an api.Error body).
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("fleet answered %d %s: %s", e.Status, e.Code, msg)
}

// Is lets errors.Is match an APIError against the sentinel errors.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// Client talks to one fleet server.
type Client struct {
	base     *url.URL
	http     *http.Client
	apiToken string
}

// Options configure New.
type Options struct {
	// Fingerprint pins the server's certificate (any form
	// bootfile.ParseFingerprint accepts). "" means verify the certificate
	// against the system's roots instead (a fleet with a public certificate).
	Fingerprint string
	// APIToken is the staff API token.
	APIToken string
	// Timeout bounds each request; 0 means 30 s.
	Timeout time.Duration
}

// New returns a client for the fleet at baseURL (https://HOST[:PORT]).
func New(baseURL string, o Options) (*Client, error) {
	if err := bootfile.CheckFleetURL(baseURL); err != nil {
		return nil, err
	}
	u, _ := url.Parse(baseURL)
	u.Path = ""
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a kiosk talks to its fleet directly
	if o.Fingerprint != "" {
		fp, err := bootfile.ParseFingerprint(o.Fingerprint)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = PinnedTLS(fp)
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	return &Client{base: u, http: &http.Client{Transport: tr, Timeout: o.Timeout}, apiToken: o.APIToken}, nil
}

// PinnedTLS returns a TLS config that accepts exactly the server whose leaf
// certificate's SHA-256 (of its DER bytes) is fp (64 lower-case hex
// digits), whatever signed it; any other certificate fails the handshake
// with ErrFingerprint.
func PinnedTLS(fp string) *tls.Config {
	want, _ := hex.DecodeString(fp)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not checked against roots: the pin replaces it.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrFingerprint
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(got[:], want) {
				return fmt.Errorf("%w (server sent %s)", ErrFingerprint, hex.EncodeToString(got[:]))
			}
			return nil
		},
	}
}

// Fingerprint returns the pin form (64 lower-case hex digits) of a DER
// certificate.
func Fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// do sends body (nil for none) as JSON and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path, u.RawQuery = p, q
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("make request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.apiToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return classify(c.base.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, api.MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", c.base.Host, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &APIError{Status: resp.StatusCode}
		var e api.Error
		if json.Unmarshal(data, &e) == nil {
			ae.Code, ae.Message = e.Code, e.Message
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("fleet %s answered %s %s with something that is not the expected JSON: %w", c.base.Host, method, path, err)
	}
	return nil
}

func classify(host string, err error) error {
	if errors.Is(err, ErrFingerprint) {
		// Keep the detail (which certificate it saw) from the handshake.
		var detail string
		if i := strings.Index(err.Error(), ErrFingerprint.Error()); i >= 0 {
			detail = err.Error()[i+len(ErrFingerprint.Error()):]
		}
		return fmt.Errorf("connect to %s: %w%s", host, ErrFingerprint, detail)
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, io.EOF) {
		return fmt.Errorf("connect to %s: %w: %v", host, ErrUnreachable, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("connect to %s: %w", host, err)
	}
	return fmt.Errorf("connect to %s: %w", host, err)
}
