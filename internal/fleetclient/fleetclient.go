// Package fleetclient is the one client of the fleet server's API
// (fleet/api), used by the agent and by `provision`: the device methods
// (Enrol, Report) and the staff admin methods (sites, enrolment tokens,
// devices), over HTTPS through go-retryablehttp (backoff with jitter from
// internal/backoff, Retry-After honoured, a timeout per request), with the
// fleet's certificate pinned by fingerprint (internal/pin) when one is
// given.
//
// Errors can be told apart with errors.Is and errors.As: pin.ErrMismatch
// (another server, or a changed certificate; never retried), ErrUnreachable
// (nothing answered), and the fleet's own answers as *Error (an api.Error
// body), which match ErrUnauthorized for 401 and 403.
package fleetclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/pin"
)

// Errors to test with errors.Is.
var (
	// ErrFingerprint is pin.ErrMismatch: the server's certificate is not
	// the pinned one.
	ErrFingerprint = pin.ErrMismatch
	// ErrUnreachable: no answer from the fleet server (DNS, refused,
	// timeout, connection dropped).
	ErrUnreachable = errors.New("fleet server unreachable")
	// ErrUnauthorized: the credential or staff API token was refused, or
	// its role may not do this.
	ErrUnauthorized = errors.New("not allowed")
	// ErrUntrusted: without a pin, the server's certificate is not one the
	// system's authorities vouch for (a self-signed fleet needs its
	// fingerprint). The error is an *UntrustedError naming the
	// certificate's fingerprint.
	ErrUntrusted = errors.New("the fleet server's certificate is not signed by an authority this computer trusts")
)

// UntrustedError is ErrUntrusted for the certificate with fingerprint Got.
type UntrustedError struct {
	Host string
	Got  pin.Fingerprint
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("connect to %s: %v (its certificate's fingerprint is %v)", e.Host, ErrUntrusted, e.Got)
}

// Is makes errors.Is(err, ErrUntrusted) true.
func (e *UntrustedError) Is(target error) bool { return target == ErrUntrusted }

// Error is a non-2xx answer from the fleet, with its api.Error body.
type Error struct {
	Status     int
	Code       string        // api.Code*; "" when the body was not an api.Error
	Message    string        // the fleet's words for people
	RetryAfter time.Duration // from Retry-After; 0 when absent
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code == "" {
		return fmt.Sprintf("fleet answered %d: %s", e.Status, msg)
	}
	return fmt.Sprintf("fleet answered %d %s: %s", e.Status, e.Code, msg)
}

// Temporary reports whether trying again later may succeed (5xx, 429, 408).
func (e *Error) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// Is lets errors.Is match ErrUnauthorized for 401 and 403.
func (e *Error) Is(target error) bool {
	return target == ErrUnauthorized && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// Options configure a Client.
type Options struct {
	// BaseURL is the fleet's base URL, https://HOST[:PORT] (http:// for a
	// fleet behind a TLS proxy or on loopback).
	BaseURL string
	// Pin, when not zero, is the fingerprint the fleet's certificate must
	// have; CA validation and host names are then not consulted. Zero:
	// verify the certificate against the system's roots.
	Pin pin.Fingerprint
	// APIToken is a staff API token (akapi_...) for the admin methods.
	APIToken string
	// Timeout bounds each request; 0 means 20 s.
	Timeout time.Duration
	// Retries is how many times one call is tried again quickly (network
	// errors, 5xx, 429); 0 means none: the caller's loop retries.
	Retries int
	// BackoffMin and BackoffMax bound the waits between those tries; 0
	// means 500 ms and 5 s.
	BackoffMin, BackoffMax time.Duration
	// Log receives retryablehttp's messages at debug level; nil: none.
	Log logrus.FieldLogger
}

// Client talks to one fleet server. Safe for concurrent use.
type Client struct {
	base     *url.URL
	rc       *retryablehttp.Client
	apiToken string

	mu   sync.Mutex
	cred string
	seen pin.Fingerprint
}

// New returns a client for opts.BaseURL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("fleet URL %q: want https://HOST[:PORT]", opts.BaseURL)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = 500 * time.Millisecond
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(5*time.Second, opts.BackoffMin)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 2, 2
	tr.IdleConnTimeout = 90 * time.Second
	if !opts.Pin.IsZero() {
		tr.TLSClientConfig = opts.Pin.TLSConfig()
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: tr, Timeout: opts.Timeout}
	rc.RetryMax = max(opts.Retries, 0)
	rc.RetryWaitMin, rc.RetryWaitMax = opts.BackoffMin, opts.BackoffMax
	rc.Backoff = Backoff
	rc.CheckRetry = checkRetry
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.Logger = nil
	if opts.Log != nil {
		rc.Logger = leveled{opts.Log}
	}
	return &Client{base: u, rc: rc, apiToken: opts.APIToken}, nil
}

// ServerPin is the fingerprint of the certificate the fleet presented in
// the last answer (zero before one, or over plain HTTP).
func (c *Client) ServerPin() pin.Fingerprint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen
}

// URL is the fleet's base URL.
func (c *Client) URL() string { return c.base.String() }

// do sends in (nil for none) as JSON with bearer as the Authorization token
// ("" for none) and decodes a 2xx answer into out (nil to ignore it).
func (c *Client) do(ctx context.Context, method, path, bearer string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		if len(b) > api.MaxBodyBytes {
			return fmt.Errorf("request is %d bytes, over the fleet's limit of %d", len(b), api.MaxBodyBytes)
		}
		body = bytes.NewReader(b)
	}
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path, u.RawQuery = p, q
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("make request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		return classify(ctx, c.base.Host, err)
	}
	defer resp.Body.Close()
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		c.mu.Lock()
		c.seen = pin.Of(resp.TLS.PeerCertificates[0].Raw)
		c.mu.Unlock()
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, api.MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w: %v", c.base.Host, ErrUnreachable, err)
	}
	if resp.StatusCode/100 != 2 {
		fe := &Error{Status: resp.StatusCode}
		fe.RetryAfter, _ = retryAfter(resp.Header.Get("Retry-After"))
		var e api.Error
		if json.Unmarshal(data, &e) == nil {
			fe.Code, fe.Message = e.Code, e.Message
		}
		return fe
	}
	if len(data) > api.MaxBodyBytes {
		return fmt.Errorf("the answer from %s is over %d bytes", c.base.Host, api.MaxBodyBytes)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("fleet %s answered %s %s with something that is not the expected JSON: %w", c.base.Host, method, p, err)
	}
	return nil
}

// classify says what kind of failure a request without an answer was.
func classify(ctx context.Context, host string, err error) error {
	if errors.Is(err, pin.ErrMismatch) {
		var me *pin.MismatchError
		if errors.As(err, &me) {
			return fmt.Errorf("connect to %s: %w", host, me)
		}
		return fmt.Errorf("connect to %s: %w", host, pin.ErrMismatch)
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		return &UntrustedError{Host: host, Got: pin.Of(cve.UnverifiedCertificates[0].Raw)}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("connect to %s: %w", host, ctx.Err())
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("connect to %s: %w: %v", host, ErrUnreachable, err)
	}
	return fmt.Errorf("connect to %s: %w", host, err)
}
