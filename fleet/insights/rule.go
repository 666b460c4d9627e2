package insights

import (
	"fmt"
	"math"
	"strconv"
)

// DefaultK is the small-number threshold when the config does not set one.
const DefaultK = 5

// Rule is the small-number rule. It is applied once, when Build turns the
// store's counts into Figures; every chart, table, CSV, JSON and report is
// drawn from Figures and never sees a true count. The rule in full is in
// the package documentation.
type Rule struct {
	// K is the threshold: a count under K is shown as "fewer than K", and
	// every count that is shown is a multiple of K. 0 means DefaultK;
	// otherwise 3..100 (with K = 2 a single subtraction could reveal a 1).
	K int
}

// Validate says what is wrong with the rule, naming the key.
func (r Rule) Validate() error {
	if r.K != 0 && (r.K < 3 || r.K > 100) {
		return fmt.Errorf("insights.k: %d is not allowed: use 3 to 100 (0 means %d)", r.K, DefaultK)
	}
	return nil
}

func (r Rule) k() int {
	if r.K == 0 {
		return DefaultK
	}
	return r.K
}

// State says what a Count shows.
type State uint8

const (
	// NotApplicable: there is no such figure (a site without opening hours
	// has no "outside opening hours" count).
	NotApplicable State = iota
	// Shown: the count is shown, rounded to a multiple of K.
	Shown
	// Fewer: the true count is under K (possibly 0); no number is shown.
	Fewer
	// Withheld: the count is not shown. A count of sessions is withheld
	// when it is at least K but showing it could reveal a smaller one
	// (a case the package documentation describes; in practice it does
	// not happen). A usage count (Figures.Usage) is withheld, whatever its
	// size, when fewer than K sessions used what it counts.
	Withheld
)

// Count is one protected count: what may be shown of a number of
// sessions. It does not hold the true number.
type Count struct {
	v  int
	st State
	k  int
	lo int // the smallest true count that could show as v (public: it follows from the rule)
}

// Value returns the shown (rounded) value and true, or 0 and false when
// the count is not shown.
func (c Count) Value() (int, bool) { return c.v, c.st == Shown }

// State says whether the count is shown, fewer than K, withheld or not
// applicable.
func (c Count) State() State { return c.st }

// K is the threshold the count was protected with.
func (c Count) K() int { return c.k }

// String is the count as a librarian reads it: "1,240", "fewer than 5",
// "withheld" or "not applicable".
func (c Count) String() string {
	switch c.st {
	case Shown:
		return thousands(c.v)
	case Fewer:
		return "fewer than " + strconv.Itoa(c.k)
	case Withheld:
		return "withheld"
	}
	return "not applicable"
}

// Short is the count in a few characters for a chart cell: "40",
// "1,240", "52k", "<5", "–" (withheld) or "" (not applicable).
func (c Count) Short() string {
	switch c.st {
	case Shown:
		switch {
		case c.v >= 1_000_000:
			return strconv.FormatFloat(float64(c.v)/1e6, 'f', 1, 64) + "m"
		case c.v >= 10_000:
			return strconv.Itoa((c.v+500)/1000) + "k"
		}
		return thousands(c.v)
	case Fewer:
		return "<" + strconv.Itoa(c.k)
	case Withheld:
		return "–"
	}
	return ""
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// rounding is how one count is rounded: the shown value is the larger of
// K and base·⌊(n+off)/base⌋, always a multiple of K. Plain counts use
// base K and off ⌊K/2⌋ (nearest, halves up); totals may get another
// offset or a larger base, chosen from the figures already shown (see
// chooseRounding), never from the total itself.
type rounding struct{ base, off int }

func nearest(k int) rounding { return rounding{base: k, off: k / 2} }

// publish is the value shown for a true count n ≥ k.
func (r rounding) publish(k, n int) int {
	p := r.base * ((n + r.off) / r.base)
	if p < k {
		p = k
	}
	return p
}

// interval is every true count n ≥ k that publish turns into p: what a
// reader who knows this rule can tell from seeing p.
func (r rounding) interval(k, p int) (lo, hi int) {
	if p == k {
		// publish gives k for every n ≥ k with base·⌊(n+off)/base⌋ ≤ k.
		return k, (k/r.base+1)*r.base - r.off - 1
	}
	return max(k, p-r.off), p - r.off + r.base - 1
}

// unbounded stands for "no upper bound" in intervals.
const unbounded = math.MaxInt / 4

// chooseRounding picks the rounding of a total whose relations (the
// totals it equals a sum of parts in) have the given upper bounds: sums
// is, for each relation, the largest total the parts' shown states allow
// (unbounded when a part is withheld). A reader who sees the total's
// interval start exactly at such a sum knows every part is at its largest,
// which would reveal a hidden part; so the rounding is chosen so that no
// interval starts there. It depends only on what is shown of the parts,
// so the choice itself reveals nothing about the total. Nearest rounding
// (base K) is preferred, then other offsets, then bases 2K, 3K, ... Each
// sum rules out at most one offset of each base, so a safe rounding
// exists unless a sum is K itself, which no interval can avoid starting
// at: then ok is false and the total must be withheld. (A sum of K cannot
// arise from the figures Build makes: a hidden part adds K-1 and a shown
// one more than K.)
func chooseRounding(k int, sums []int) (r rounding, ok bool) {
	for _, s := range sums {
		if s == k {
			return rounding{}, false
		}
	}
	for base := k; base <= (len(sums)+2)*k; base += k {
		pref := base / 2
		for d := 0; d < base; d++ {
			for _, off := range [2]int{pref - d, pref + d} {
				r := rounding{base, off}
				if off < 0 || off > base-2 || r.exactAtK(k) {
					continue
				}
				if r.safe(k, sums) {
					return r, true
				}
			}
		}
	}
	return rounding{}, false
}

// exactAtK reports whether showing K would tell the count exactly (an
// interval of one value), which the rule never allows.
func (r rounding) exactAtK(k int) bool {
	_, hi := r.interval(k, k)
	return hi <= k
}

func (r rounding) safe(k int, sums []int) bool {
	for _, s := range sums {
		if s < k || s >= unbounded {
			continue
		}
		if lo, _ := r.interval(k, r.publish(k, s)); lo == s {
			return false
		}
	}
	return true
}
