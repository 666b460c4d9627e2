package health

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine reads the device's own figures from /proc, /sys and statfs.
type Machine struct {
	// Root is prepended to /proc, /sys and /etc paths; "" means "/". Tests
	// point it at captured files in testdata.
	Root string
	// DataDir is the agent's persistent data directory, checked for free
	// space beside the root file system; "" skips it.
	DataDir string
}

// Reading is one look at the machine. Fields that could not be read are
// zero and named in Missing.
type Reading struct {
	UptimeSeconds  int64
	Load1          float64
	TempCelsius    float64 // hottest thermal zone; 0 when there is no sensor
	MemTotalBytes  uint64
	MemAvailBytes  uint64
	DiskTotalBytes uint64 // root file system
	DiskFreeBytes  uint64
	DataTotalBytes uint64 // DataDir's file system
	DataFreeBytes  uint64
	OSRelease      string      // PRETTY_NAME from os-release
	Interfaces     []Interface // up, non-loopback
	// ClockSynced is false when the kernel says the clock is not
	// synchronised (adjtimex TIME_ERROR); only meaningful when ClockKnown.
	ClockSynced bool
	ClockKnown  bool
	Missing     []string
}

// Interface is a network interface that is up, with its addresses.
type Interface struct {
	Name  string
	Addrs []string // CIDR form
}

func (m Machine) path(p string) string {
	if m.Root == "" {
		return p
	}
	return filepath.Join(m.Root, p)
}

// Read takes the readings. It never fails as a whole: what cannot be read
// is listed in Missing.
func (m Machine) Read() Reading {
	var r Reading
	miss := func(what string, err error) { r.Missing = append(r.Missing, fmt.Sprintf("%s: %v", what, err)) }

	if b, err := os.ReadFile(m.path("/proc/uptime")); err != nil {
		miss("uptime", err)
	} else if f := strings.Fields(string(b)); len(f) > 0 {
		v, _ := strconv.ParseFloat(f[0], 64)
		r.UptimeSeconds = int64(v)
	}
	if b, err := os.ReadFile(m.path("/proc/loadavg")); err != nil {
		miss("loadavg", err)
	} else if f := strings.Fields(string(b)); len(f) > 0 {
		r.Load1, _ = strconv.ParseFloat(f[0], 64)
	}
	if err := m.readMeminfo(&r); err != nil {
		miss("meminfo", err)
	}
	r.TempCelsius = m.hottestZone()
	if st, err := statfs(m.path("/")); err != nil {
		miss("disk /", err)
	} else {
		r.DiskTotalBytes, r.DiskFreeBytes = st[0], st[1]
	}
	if m.DataDir != "" {
		if st, err := statfs(m.DataDir); err != nil {
			miss("disk "+m.DataDir, err)
		} else {
			r.DataTotalBytes, r.DataFreeBytes = st[0], st[1]
		}
	}
	r.OSRelease = m.osRelease()
	if m.Root == "" {
		r.Interfaces = interfaces()
		var tx unix.Timex
		if state, err := unix.Adjtimex(&tx); err == nil {
			r.ClockKnown = true
			r.ClockSynced = state != unix.TIME_ERROR
		}
	}
	return r
}

func (m Machine) readMeminfo(r *Reading) error {
	f, err := os.Open(m.path("/proc/meminfo"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fs[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "MemTotal":
			r.MemTotalBytes = n * 1024
		case "MemAvailable":
			r.MemAvailBytes = n * 1024
		}
	}
	return sc.Err()
}

func (m Machine) hottestZone() float64 {
	zones, _ := filepath.Glob(m.path("/sys/class/thermal/thermal_zone*/temp"))
	var best float64
	for _, z := range zones {
		b, err := os.ReadFile(z)
		if err != nil {
			continue
		}
		milli, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil {
			continue
		}
		if c := float64(milli) / 1000; c > best {
			best = c
		}
	}
	return best
}

func (m Machine) osRelease() string {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := os.ReadFile(m.path(p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				return Clip(strings.Trim(v, `"'`), 64)
			}
		}
	}
	return ""
}

// statfs returns total and available bytes of the file system holding p.
func statfs(p string) ([2]uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize)}, nil
}

func interfaces() []Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []Interface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		i := Interface{Name: ifc.Name}
		for _, a := range addrs {
			i.Addrs = append(i.Addrs, a.String())
		}
		sort.Strings(i.Addrs)
		out = append(out, i)
	}
	return out
}

// Thresholds decide which readings raise warnings.
type Thresholds struct {
	DiskLowPercent float64 // warn below this % free; 0 means 10
	HotCelsius     float64 // warn at or above; 0 means 80
	MemLowPercent  float64 // warn below this % available; 0 means 5
}

// Judge sets or clears the machine warnings in reg from r.
func (t Thresholds) Judge(reg *Registry, r Reading) {
	if t.DiskLowPercent == 0 {
		t.DiskLowPercent = 10
	}
	if t.HotCelsius == 0 {
		t.HotCelsius = 80
	}
	if t.MemLowPercent == 0 {
		t.MemLowPercent = 5
	}
	pct := func(free, total uint64) float64 {
		if total == 0 {
			return 100
		}
		return 100 * float64(free) / float64(total)
	}
	p := pct(r.DiskFreeBytes, r.DiskTotalBytes)
	reg.SetIf(p < t.DiskLowPercent, CodeDiskLow, Warn, "root file system %.1f%% free (%d MiB)", p, r.DiskFreeBytes>>20)
	p = pct(r.DataFreeBytes, r.DataTotalBytes)
	reg.SetIf(p < t.DiskLowPercent, CodeDataDiskLow, Warn, "data file system %.1f%% free (%d MiB)", p, r.DataFreeBytes>>20)
	reg.SetIf(r.TempCelsius >= t.HotCelsius, CodeHot, Warn, "CPU at %.0f°C", r.TempCelsius)
	p = pct(r.MemAvailBytes, r.MemTotalBytes)
	reg.SetIf(p < t.MemLowPercent, CodeMemoryLow, Warn, "memory %.1f%% available", p)
	reg.SetIf(r.ClockKnown && !r.ClockSynced, CodeClockUnsynced, Warn, "system clock is not synchronised (NTP)")
}
