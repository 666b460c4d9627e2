package clock

import (
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
