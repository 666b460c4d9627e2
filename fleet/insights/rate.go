package insights

import (
	"math"
	"strconv"
)

// RateState says what a Rate shows.
type RateState uint8

const (
	// NoRate: there is no rate (its base is not shown, or is not set).
	NoRate RateState = iota
	// Exact: Value is the rate.
	Exact
	// Under: the numerator is fewer than K; the rate is below Value.
	Under
)

// Rate is a share (percent) or a rate per opening hour. Rates are worked
// out from the shown (rounded) counts only, never from true ones, so a
// rate cannot reveal more than the counts beside it.
type Rate struct {
	st RateState
	v  float64
}

// State says whether the rate is shown, an upper bound, or absent.
func (r Rate) State() RateState { return r.st }

// Value is the rate (or its upper bound), and whether there is one.
func (r Rate) Value() (float64, bool) { return r.v, r.st != NoRate }

// Share is num as a whole percentage of den, from their shown values
// (at most 100). When num is fewer than K, the share is "under" the
// largest it could be; when den is not shown there is no share.
func Share(num, den Count) Rate {
	d, ok := den.Value()
	if !ok || d == 0 {
		return Rate{}
	}
	switch num.st {
	case Shown:
		return Rate{Exact, math.Min(100, math.Round(100*float64(num.v)/float64(d)))}
	case Fewer:
		lo := max(den.lo, den.k)
		return Rate{Under, math.Min(100, math.Floor(100*float64(num.k-1)/float64(lo))+1)}
	}
	return Rate{}
}

// PerHour is sessions per opening hour, to one decimal place, from the
// shown value of c; none when hours is 0.
func PerHour(c Count, hours float64) Rate {
	if hours <= 0 {
		return Rate{}
	}
	switch c.st {
	case Shown:
		return Rate{Exact, math.Round(10*float64(c.v)/hours) / 10}
	case Fewer:
		return Rate{Under, math.Max(0.1, math.Ceil(10*float64(c.k)/hours)/10)}
	}
	return Rate{}
}

// Percent writes a share: "24%", "under 3%", or "" when there is none.
func (r Rate) Percent() string {
	switch r.st {
	case Exact:
		return strconv.FormatFloat(r.v, 'f', 0, 64) + "%"
	case Under:
		return "under " + strconv.FormatFloat(r.v, 'f', 0, 64) + "%"
	}
	return ""
}

// Decimal writes a rate per hour: "2.4", "under 0.1", or "".
func (r Rate) Decimal() string {
	switch r.st {
	case Exact:
		return strconv.FormatFloat(r.v, 'f', 1, 64)
	case Under:
		return "under " + strconv.FormatFloat(r.v, 'f', 1, 64)
	}
	return ""
}
