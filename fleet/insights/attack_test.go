package insights

import (
	"math/rand/v2"
	"time"
)

// The tests' attacker: someone who has every page, CSV and JSON of every
// site and period, knows the rule exactly (including how each total was
// rounded), and subtracts.

type span struct{ lo, hi int }

// seen is what a reader can tell of a figure from what is shown.
func seen(f *fig, k int) span {
	switch f.st {
	case Shown:
		return span{f.lo, f.hi}
	case Fewer:
		return span{0, k - 1}
	case Withheld:
		return span{f.lo, unbounded} // k; 0 for a usage count withheld for its few sessions

	}
	return span{0, 0} // not applicable: known to be nothing
}

// subtract is "a total minus the parts shown": for each part hidden (fewer
// than K, or withheld: a usage count of fewer than K sessions), the values one relation on its own allows, as a reader
// works them out from the total's and the other parts' intervals.
func subtract(r relation, k int) map[*fig]span {
	t := seen(r.total, k)
	var spans []span
	slo := 0
	for _, p := range r.parts {
		s := seen(p, k)
		spans = append(spans, s)
		slo += s.lo
	}
	out := map[*fig]span{}
	for i, p := range r.parts {
		if p.st != Fewer && p.st != Withheld {
			continue
		}
		s := spans[i]
		lo := max(s.lo, t.lo-othersHi(spans, i))
		hi := min(s.hi, t.hi-(slo-s.lo))
		out[p] = span{lo, hi}
	}
	return out
}

// othersHi is the largest sum of the spans but the i-th (-1: all of
// them), unbounded when any of those is.
func othersHi(spans []span, i int) int {
	sum := 0
	for j, s := range spans {
		if j == i {
			continue
		}
		if s.hi >= unbounded {
			return unbounded
		}
		sum += s.hi
	}
	return min(sum, unbounded)
}

// propagate narrows every figure's interval with every relation, over
// and over until nothing changes: the attacker who combines all relations
// at once (sound, though a linear-programming attacker on two-way tables
// can sometimes do better). It returns the narrowed intervals.
func propagate(rels []relation, k int, rounds int) map[*fig]span {
	iv := map[*fig]span{}
	get := func(f *fig) span {
		if s, ok := iv[f]; ok {
			return s
		}
		s := seen(f, k)
		iv[f] = s
		return s
	}
	for round := 0; round < rounds; round++ {
		changed := false
		for _, r := range rels {
			t := get(r.total)
			slo := 0
			spans := make([]span, len(r.parts))
			for i, p := range r.parts {
				spans[i] = get(p)
				slo += spans[i].lo
			}
			nt := span{max(t.lo, slo), min(t.hi, othersHi(spans, -1))}
			if nt != t {
				iv[r.total], changed = nt, true
				t = nt
			}
			for i, p := range r.parts {
				s := spans[i]
				ns := span{max(s.lo, t.lo-othersHi(spans, i)), s.hi}
				if t.hi < unbounded {
					ns.hi = min(s.hi, t.hi-(slo-s.lo))
				}
				if ns != s {
					iv[p], changed = ns, true
				}
			}
		}
		if !changed {
			break
		}
	}
	return iv
}

// smallCouncil is a council of quiet sites: most hour cells hold 0 to 4
// sessions, so that every kind of small number is there to be found.
func smallCouncil(seed uint64) *Input {
	rng := rand.New(rand.NewPCG(seed, 7))
	n := 1 + rng.IntN(4)
	var sites []seedSite
	names := []string{"alder", "birch", "cedar", "damson", "elm"}
	for i := 0; i < n; i++ {
		s := seedSite{id: names[i], name: names[i] + " library", scale: 0.02 + rng.Float64()*rng.Float64()*2}
		switch rng.IntN(3) {
		case 0:
			s.hours = weekdayHours
		case 1:
			s.hours = map[string]string{"tue": "10:00-13:00", "sat": "09:00-12:00"}
		}
		sites = append(sites, s)
	}
	months := 1 + rng.IntN(3)
	start := Date{2025, time.Month(4 + rng.IntN(3)), 1}
	return seedInput(seed, sites, start, months)
}
