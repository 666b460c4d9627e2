package clock

import (
	"context"
	"testing"
	"time"
)

func TestFast(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFast(start)
	got := <-c.After(30 * time.Second)
	if want := start.Add(30 * time.Second); !got.Equal(want) || !c.Now().Equal(want) {
		t.Errorf("After(30s) = %v, Now = %v; want %v", got, c.Now(), want)
	}
	<-c.After(-time.Second) // never goes back
	c.Advance(time.Minute)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Errorf("Now = %v, want %v", c.Now(), want)
	}
}

func TestSleep(t *testing.T) {
	c := NewFast(time.Unix(0, 0))
	if err := Sleep(context.Background(), c, time.Hour); err != nil || c.Now().Unix() != 3600 {
		t.Errorf("Sleep(1h) = %v at %v, want nil at 1h", err, c.Now())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, c, time.Hour); err != context.Canceled || c.Now().Unix() != 3600 {
		t.Errorf("Sleep after cancel = %v at %v, want context.Canceled and no time passed", err, c.Now())
	}
	start := time.Now()
	if err := Sleep(context.Background(), nil, time.Millisecond); err != nil || time.Since(start) < time.Millisecond {
		t.Errorf("Sleep on the real clock = %v after %v", err, time.Since(start))
	}
}
