package fleetclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"accesskiosk/internal/backoff"
	"accesskiosk/internal/pin"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"
)

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
	if errors.Is(err, pin.ErrMismatch) {
		return false, err // a wrong server does not become right by asking again
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// leveled adapts a logrus logger to retryablehttp's LeveledLogger, at
// debug level: callers log the outcome of each call themselves.
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
