package password

import (
	"bufio"
	"context"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
)

// MemoryBytes is what one derivation (Hash or Verify) allocates while it
// runs.
const MemoryBytes = memoryKiB * 1024

// ErrBusy is returned by a Gate when no derivation slot came free before
// the context ended: the caller should answer "try again shortly".
var ErrBusy = errors.New("too many password checks at once")

// Gate bounds how many derivations run at once. Each takes MemoryBytes for
// its duration, so a flood of sign-in attempts waits for a slot instead of
// taking the machine's memory. The zero Gate is not usable; make one with
// NewGate.
type Gate struct {
	slots chan struct{}
	busy  atomic.Int64
	peak  atomic.Int64
}

// NewGate returns a gate that lets n derivations run at once (n < 1 means 1).
func NewGate(n int) *Gate {
	return &Gate{slots: make(chan struct{}, max(n, 1))}
}

// Slots is how many derivations the gate lets run at once.
func (g *Gate) Slots() int { return cap(g.slots) }

// Peak is the most derivations that have run at once through the gate.
func (g *Gate) Peak() int { return int(g.peak.Load()) }

func (g *Gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
	default:
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			return ErrBusy
		}
	}
	n := g.busy.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return nil
}

func (g *Gate) leave() {
	g.busy.Add(-1)
	<-g.slots
}

// Verify is the package's Verify run in a slot; it waits for one until ctx
// ends, then returns ErrBusy.
func (g *Gate) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := g.enter(ctx); err != nil {
		return false, err
	}
	defer g.leave()
	return Verify(pw, encoded)
}

// Hash is the package's Hash run in a slot; it waits for one until ctx
// ends, then returns ErrBusy.
func (g *Gate) Hash(ctx context.Context, pw string) (string, error) {
	if len([]rune(pw)) < MinLength {
		return "", ErrTooShort
	}
	if err := g.enter(ctx); err != nil {
		return "", err
	}
	defer g.leave()
	return Hash(pw)
}

// Slots is how many derivations a machine with cores CPUs and memBytes of
// memory should run at once: half its cores (the rest keep serving), and
// no more than fit in a sixteenth of its memory; at least 1.
func Slots(cores int, memBytes uint64) int {
	n := min(cores/2, int(memBytes/16/MemoryBytes))
	return max(n, 1)
}

// MachineSlots is Slots for this process: GOMAXPROCS cores (which follows
// a cgroup's CPU limit) and the least of the machine's memory, the
// cgroup's memory limit and GOMEMLIMIT.
func MachineSlots() int {
	return Slots(runtime.GOMAXPROCS(0), machineMemory())
}

func machineMemory() uint64 {
	mem := uint64(1) << 62
	if lim := debug.SetMemoryLimit(-1); lim > 0 && uint64(lim) < mem {
		mem = uint64(lim)
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n < mem {
			mem = n
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil && kb*1024 < mem {
					mem = kb * 1024
				}
				break
			}
		}
	}
	if mem == 1<<62 {
		return 1 << 30 // nothing readable: assume a small machine
	}
	return mem
}
