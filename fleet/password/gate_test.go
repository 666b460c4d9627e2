package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestGateBoundsDerivations runs 12 checks at once through a gate of 2:
// never more than 2 derive at a time, and every check gets its answer.
func TestGateBoundsDerivations(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	g := NewGate(2)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() {
			pw := "correct horse battery"
			if i%2 == 1 {
				pw = "wrong horse battery"
			}
			ok, err := g.Verify(context.Background(), pw, h)
			if err != nil || ok != (i%2 == 0) {
				errs <- errors.New("wrong answer")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := g.Peak(); p < 1 || p > 2 {
		t.Errorf("peak derivations at once = %d, want 1..2", p)
	}
}

// TestGateBusy: with every slot taken, a check whose context ends first
// gets ErrBusy without deriving.
func TestGateBusy(t *testing.T) {
	g := NewGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Verify(ctx, "x", "y"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the only slot taken = %v, want ErrBusy", err)
	}
	if _, err := g.Hash(ctx, "long enough password"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with the only slot taken = %v, want ErrBusy", err)
	}
	g.leave()
	if _, err := g.Hash(context.Background(), "long enough password"); err != nil {
		t.Errorf("Hash with a free slot: %v", err)
	}
}

func TestSlots(t *testing.T) {
	for _, tc := range []struct {
		cores int
		mem   uint64
		want  int
	}{
		{2, 24 << 30, 1},  // this kind of box: half the cores
		{1, 1 << 30, 1},   // never 0
		{16, 64 << 30, 8}, // a big server: half its cores
		{16, 2 << 30, 2},  // many cores, little memory: 128 MiB of derivations
		{8, 512 << 20, 1}, // a Pi in a cgroup of 512 MiB
	} {
		if got := Slots(tc.cores, tc.mem); got != tc.want {
			t.Errorf("Slots(%d cores, %d MiB) = %d, want %d", tc.cores, tc.mem>>20, got, tc.want)
		}
	}
	if n := MachineSlots(); n < 1 {
		t.Errorf("MachineSlots = %d", n)
	}
}
