package fleetclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/pin"
)

func TestPinning(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"device_id":"d1","credential":"d1.s","site":"x"}`))
	}))
	defer srv.Close()
	good := pin.Of(srv.Certificate().Raw)
	c, _ := New(Options{BaseURL: srv.URL, Pin: good, Retries: 3, BackoffMin: time.Millisecond})
	if _, err := c.Enrol(context.Background(), api.EnrolRequest{Token: "t"}); err != nil {
		t.Fatalf("right fingerprint: %v", err)
	}
	bad := good
	bad[0] ^= 1
	c, _ = New(Options{BaseURL: srv.URL, Pin: bad, Retries: 3, BackoffMin: time.Millisecond})
	start := time.Now()
	_, err := c.Enrol(context.Background(), api.EnrolRequest{Token: "t"})
	if !errors.Is(err, ErrFingerprint) {
		t.Fatalf("wrong fingerprint: err = %v, want ErrFingerprint", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("a wrong certificate was retried")
	}
}

func TestRetriesAndStatus(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); {
		case r.Header.Get("Authorization") != "Bearer d1.s":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code":"unauthorized","message":"bad credential"}`))
		case n == 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Write([]byte(`{"capability":1,"accepted":["r1"]}`))
		}
	}))
	defer srv.Close()
	c, _ := New(Options{BaseURL: srv.URL, Retries: 2, BackoffMin: time.Millisecond})
	c.SetCredential("d1.s")
	resp, err := c.Report(context.Background(), api.ReportBatch{Reports: []api.Report{{ID: "r1"}}})
	if err != nil || len(resp.Accepted) != 1 || calls.Load() != 2 {
		t.Fatalf("resp %+v err %v after %d calls; want success on the retry", resp, err, calls.Load())
	}
	c.SetCredential("wrong")
	calls.Store(10)
	_, err = c.Report(context.Background(), api.ReportBatch{})
	var se *Error
	if !errors.As(err, &se) || se.Status != 401 || se.Code != "unauthorized" || se.Temporary() || !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want a permanent 401 StatusError", err)
	}
	if calls.Load() != 11 {
		t.Errorf("a 401 was retried (%d calls)", calls.Load()-10)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 10 {
		d := Backoff(time.Second, time.Minute, attempt, nil)
		if d < time.Second/2 || d > time.Minute {
			t.Errorf("attempt %d: %s out of [0.5s, 1m]", attempt, d)
		}
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	if d := Backoff(time.Second, time.Minute, 0, resp); d != 7*time.Second {
		t.Errorf("Retry-After 7: %s", d)
	}
	resp.Header.Set("Retry-After", "3600")
	if d := Backoff(time.Second, time.Minute, 0, resp); d != time.Minute {
		t.Errorf("Retry-After capped: %s", d)
	}
}
