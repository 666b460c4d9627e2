package capture

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes, written in a config file as a whole number
// of bytes or with a unit: "10MB", "512 kB", "2MiB". kB, MB and GB are
// powers of 1000 and KiB, MiB and GiB powers of 1024, so that "10MB" is
// never larger than a web form's "10MB" limit, whichever it meant.
type ByteSize int64

var byteUnits = []struct {
	name string
	mult int64
}{
	{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
	{"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3},
	{"b", 1},
}

// UnmarshalText parses "10MB", "512KiB" or "1048576".
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	num, mult := s, int64(1)
	lower := strings.ToLower(s)
	for _, u := range byteUnits {
		if strings.HasSuffix(lower, u.name) {
			num, mult = strings.TrimSpace(s[:len(s)-len(u.name)]), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNxX_") {
		return fmt.Errorf("want a size such as 10MB, 512KiB or a number of bytes, got %q", s)
	}
	if n < 0 {
		return fmt.Errorf("a size cannot be negative, got %q", s)
	}
	v := n * float64(mult)
	if v > 1<<50 {
		return fmt.Errorf("%q is far too large", s)
	}
	*b = ByteSize(v)
	return nil
}

// MarshalText writes the size the way String does.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// String writes the size with the largest decimal unit that keeps it
// readable: "10 MB", "2.5 MB", "700 kB", "12 bytes".
func (b ByteSize) String() string {
	switch v := float64(b); {
	case v >= 1e9:
		return trimFloat(v/1e9) + " GB"
	case v >= 1e6:
		return trimFloat(v/1e6) + " MB"
	case v >= 1e3:
		return trimFloat(v/1e3) + " kB"
	}
	return strconv.FormatInt(int64(b), 10) + " bytes"
}

func trimFloat(v float64) string {
	return strconv.FormatFloat(float64(int64(v*10+0.5))/10, 'f', -1, 64)
}
