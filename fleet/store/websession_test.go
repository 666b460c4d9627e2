package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"accesskiosk/fleet/password"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestExtendWebSession: "Stay signed in" moves a live sign-in's end, never
// past its limit after signing in, and an ended sign-in stays ended.
func TestExtendWebSession(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			ctx := context.Background()
			now := time.UnixMilli(1_800_000_000_000)
			s.SetClock(func() time.Time { return now })
			h, _ := password.Hash("a long enough password")
			if err := s.CreateUser(ctx, "alice", store.RoleAdmin, h); err != nil {
				t.Fatal(err)
			}
			secret, err := s.CreateWebSession(ctx, "alice", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, ends, err := s.WebSessionEnds(ctx, secret); err != nil || ends != now.Add(time.Hour).UnixMilli() {
				t.Fatalf("ends %d, %v", ends, err)
			}
			now = now.Add(50 * time.Minute)
			ends, err := s.ExtendWebSession(ctx, secret, time.Hour, 100*time.Minute)
			if err != nil || ends != now.Add(50*time.Minute).UnixMilli() {
				t.Errorf("extended to %d (%v), want the 100-minute limit", ends, err)
			}
			now = now.Add(time.Minute)
			if ends, _ := s.ExtendWebSession(ctx, secret, 10*time.Minute, 100*time.Minute); ends != now.Add(10*time.Minute).UnixMilli() {
				t.Errorf("extended by 10 minutes to %d", ends)
			}
			now = now.Add(11 * time.Minute)
			if _, err := s.ExtendWebSession(ctx, secret, time.Hour, 100*time.Minute); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("extending an ended sign-in: %v", err)
			}
			if _, _, err := s.WebSessionEnds(ctx, secret); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("an ended sign-in: %v", err)
			}
		})
	}
}
