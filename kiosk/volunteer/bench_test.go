package volunteer

import (
	"crypto/sha256"
	"crypto/subtle"
	"testing"
	"time"
)

// BenchmarkPINMatch times one unlock attempt with the default parameters:
// the right PIN, a guess wrong in its first digit, one wrong in its last,
// and an empty entry, side by side with a plain salted SHA-256 (what a
// quick implementation would store). The ratios show that a wrong guess
// costs what a right one does (timing says nothing), and how much slower
// each offline guess is than against SHA-256.
func BenchmarkPINMatch(b *testing.B) {
	s, err := HashPIN("2580", nil)
	if err != nil {
		b.Fatal(err)
	}
	h, _ := ParsePINHash(s)
	salt := []byte("0123456789abcdef")
	want := sha256.Sum256(append(salt, "2580"...))
	cases := []struct {
		name string // for reading; the metrics below go by position
		fn   func() bool
	}{
		{"argon2id/right", func() bool { return h.Match("2580") }},
		{"argon2id/wrong-first", func() bool { return h.Match("9580") }},
		{"argon2id/wrong-last", func() bool { return h.Match("2589") }},
		{"argon2id/empty", func() bool { return h.Match("") }},
		{"sha256/right", func() bool {
			got := sha256.Sum256(append(salt, "2580"...))
			return subtle.ConstantTimeCompare(got[:], want[:]) == 1
		}},
	}
	// Interleaved in one loop, so load from other processes falls on all alike.
	total := make([]time.Duration, len(cases))
	for b.Loop() {
		for i, c := range cases {
			start := time.Now()
			c.fn()
			total[i] += time.Since(start)
		}
	}
	right := float64(total[0])
	b.ReportMetric(right/float64(b.N)/1e6, "ms/attempt")
	b.ReportMetric(float64(total[1])/right, "wrong-first/right")
	b.ReportMetric(float64(total[2])/right, "wrong-last/right")
	b.ReportMetric(float64(total[3])/right, "empty/right")
	b.ReportMetric(right/float64(total[4]), "argon2id/sha256")
}
