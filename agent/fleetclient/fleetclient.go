// Package fleetclient is the agent's side of the fleet API (fleet/api):
// enrolment and report batches over HTTPS, through go-retryablehttp
// (backoff with jitter, Retry-After honoured, per-request timeouts), with
// the fleet's certificate pinned by SHA-256 fingerprint when one was given
// at provisioning, and the device credential kept on disk 0600.
package fleetclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/backoff"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the fleet's base URL, e.g. https://fleet.example.org:8443.
	BaseURL string
	// Fingerprint, when set, is the SHA-256 the fleet's leaf certificate
	// must have; CA validation and host names are then not consulted.
	Fingerprint []byte
	Timeout     time.Duration // per request; 0 means 20s
	Retries     int           // quick retries per call
	BackoffMin  time.Duration // 0 means 500ms
	BackoffMax  time.Duration // 0 means 5s
	Log         logrus.FieldLogger
}

// Client talks to one fleet server. Safe for concurrent use.
type Client struct {
	base *url.URL
	rc   *retryablehttp.Client

	mu   sync.Mutex
	cred string
}

// ErrFingerprint means the server's certificate is not the pinned one.
var ErrFingerprint = errors.New("fleet certificate does not match the provisioned fingerprint")

// StatusError is a non-2xx answer from the fleet.
type StatusError struct {
	Status     int
	Body       api.Error
	RetryAfter time.Duration // from Retry-After; 0 when absent
}

func (e *StatusError) Error() string {
	if e.Body.Message != "" {
		return fmt.Sprintf("fleet answered %d %s: %s", e.Status, e.Body.Code, e.Body.Message)
	}
	return fmt.Sprintf("fleet answered %d", e.Status)
}

// Temporary reports whether trying again later may succeed (5xx, 429).
func (e *StatusError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// New returns a client for opts.BaseURL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("fleet URL %q: want http(s)://host[:port]", opts.BaseURL)
	}
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
	if opts.Fingerprint != nil {
		tr.TLSClientConfig = PinnedTLS(opts.Fingerprint)
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: tr, Timeout: opts.Timeout}
	rc.RetryMax = opts.Retries
	rc.RetryWaitMin, rc.RetryWaitMax = opts.BackoffMin, opts.BackoffMax
	rc.Backoff = Backoff
	rc.CheckRetry = checkRetry
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.Logger = nil
	if opts.Log != nil {
		rc.Logger = leveled{opts.Log}
	}
	return &Client{base: u, rc: rc}, nil
}

// PinnedTLS returns a TLS config that accepts exactly the certificate whose
// SHA-256 is fp (self-signed fleet servers are the norm).
func PinnedTLS(fp []byte) *tls.Config {
	want := append([]byte(nil), fp...)
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrFingerprint
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("%w (server has %s)", ErrFingerprint, hex.EncodeToString(got[:]))
			}
			return nil
		},
	}
}

// Fingerprint returns the SHA-256 of a certificate, as pinned.
func Fingerprint(c *x509.Certificate) []byte {
	s := sha256.Sum256(c.Raw)
	return s[:]
}

// Backoff is retryablehttp's wait between tries: internal/backoff's Delay,
// or Retry-After on 429 and 503 (capped at max).
func Backoff(minD, maxD time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return min(d, maxD)
		}
	}
	return backoff.Delay(minD, maxD, attempt)
}

func retryAfter(h string) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(ue.Err, ErrFingerprint) || errors.Is(err, ErrFingerprint) {
		return false, err // a wrong server does not become right by asking again
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// SetCredential sets the device credential sent as the bearer token.
func (c *Client) SetCredential(cred string) {
	c.mu.Lock()
	c.cred = cred
	c.mu.Unlock()
}

// Enrol exchanges an enrolment token for a device credential.
func (c *Client) Enrol(ctx context.Context, req api.EnrolRequest) (api.EnrolResponse, error) {
	var resp api.EnrolResponse
	if err := c.post(ctx, api.PathEnrol, false, req, &resp); err != nil {
		return resp, fmt.Errorf("enrol: %w", err)
	}
	if resp.DeviceID == "" || resp.Credential == "" {
		return resp, fmt.Errorf("enrol: fleet answered without a device id or credential")
	}
	return resp, nil
}

// Report sends a batch and returns the fleet's answer.
func (c *Client) Report(ctx context.Context, b api.ReportBatch) (api.ReportResponse, error) {
	var resp api.ReportResponse
	if err := c.post(ctx, api.PathReport, true, b, &resp); err != nil {
		return resp, fmt.Errorf("send report batch: %w", err)
	}
	return resp, nil
}

func (c *Client) post(ctx context.Context, path string, auth bool, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if len(body) > api.MaxBodyBytes {
		return fmt.Errorf("request is %d bytes, over the fleet's limit of %d", len(body), api.MaxBodyBytes)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		c.mu.Lock()
		cred := c.cred
		c.mu.Unlock()
		if cred == "" {
			return errors.New("no device credential (not enrolled)")
		}
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, api.MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Status: resp.StatusCode}
		se.RetryAfter, _ = retryAfter(resp.Header.Get("Retry-After"))
		_ = json.Unmarshal(data, &se.Body)
		return se
	}
	if len(data) > api.MaxBodyBytes {
		return fmt.Errorf("answer over %d bytes", api.MaxBodyBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// leveled adapts a logrus logger to retryablehttp's LeveledLogger, at
// debug level: the agent logs the outcome of each attempt itself.
type leveled struct{ l logrus.FieldLogger }

func kv(keys []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(keys); i += 2 {
		k := fmt.Sprint(keys[i])
		if strings.EqualFold(k, "url") {
			continue // URLs here are the fleet's, but keep logs plain
		}
		f[k] = keys[i+1]
	}
	return f
}

func (l leveled) Error(msg string, keys ...any) { l.l.WithFields(kv(keys)).Debug(msg) }
func (l leveled) Info(msg string, keys ...any)  { l.l.WithFields(kv(keys)).Debug(msg) }
func (l leveled) Debug(msg string, keys ...any) { l.l.WithFields(kv(keys)).Debug(msg) }
func (l leveled) Warn(msg string, keys ...any)  { l.l.WithFields(kv(keys)).Debug(msg) }
