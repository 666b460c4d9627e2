package insights

import (
	"testing"
)

// TestRoundingInterval checks, for every threshold, base and offset the
// rule can pick, that interval(p) is exactly the set of counts publish
// turns into p, and that what is shown is a multiple of K and at least K.
func TestRoundingInterval(t *testing.T) {
	for k := 3; k <= 12; k++ {
		for base := k; base <= 4*k; base += k {
			for off := 0; off <= base-2; off++ {
				r := rounding{base, off}
				if r.exactAtK(k) {
					if base == k {
						t.Fatalf("k %d: nearest-style %+v is exact at K", k, r)
					}
					continue // chooseRounding never picks it
				}
				for n := k; n < 600; n++ {
					p := r.publish(k, n)
					if p < k || p%k != 0 {
						t.Fatalf("k %d %+v: %d shows as %d", k, r, n, p)
					}
					if d := p - n; d <= -base || d >= base {
						t.Fatalf("k %d %+v: %d shows as %d, too far", k, r, n, p)
					}
					lo, hi := r.interval(k, p)
					if n < lo || n > hi || hi <= lo {
						t.Fatalf("k %d %+v: %d shows as %d but interval is [%d,%d]", k, r, n, p, lo, hi)
					}
					if r.publish(k, lo) != p || r.publish(k, hi) != p || (lo > k && r.publish(k, lo-1) == p) || r.publish(k, hi+1) == p {
						t.Fatalf("k %d %+v: interval [%d,%d] of %d is not exact", k, r, lo, hi, p)
					}
				}
			}
		}
	}
}

func TestChooseRounding(t *testing.T) {
	// No relation: nearest, halves up.
	if r, ok := chooseRounding(5, nil); r != (rounding{5, 2}) || !ok {
		t.Errorf("no sums: %+v", r)
	}
	// 8 = two hidden parts at their most; nearest would show 10 = [8,12]
	// and give both away, so another offset is chosen.
	r, _ := chooseRounding(5, []int{8})
	if lo, _ := r.interval(5, r.publish(5, 8)); lo == 8 {
		t.Errorf("sum 8: %+v still starts an interval at 8", r)
	}
	// Five sums that forbid every offset of base 5 force base 10.
	r, _ = chooseRounding(5, []int{8, 9, 10, 11, 12})
	if r.base != 10 || !r.safe(5, []int{8, 9, 10, 11, 12}) {
		t.Errorf("all offsets forbidden: %+v", r)
	}
	for s := 0; s < 2000; s++ {
		sums := []int{s, s*7 + 3, s/2 + 11, unbounded}
		r, ok := chooseRounding(5, sums)
		if ok != (s != 5) || ok && (!r.safe(5, sums) || r.exactAtK(5)) {
			t.Fatalf("%v: %+v %v", sums, r, ok)
		}
	}
	// A sum of K itself cannot be made safe: the total is withheld.
	b := &builder{k: 5}
	parts := []*fig{{raw: 5, st: Shown, lo: 5, hi: 5}}
	total := &fig{raw: 5}
	b.set(total, parts)
	if total.st != Withheld {
		t.Errorf("total over a sum of exactly K: %+v, want withheld", total)
	}
}

// TestOneRelationNeverRevealsExhaustive is the rule's central claim,
// checked on every combination of small relations: a total shown
// beside its parts (some shown, some "fewer than K") never lets
// total minus shown parts pin a hidden part to one value from 1 to K-1.
func TestOneRelationNeverRevealsExhaustive(t *testing.T) {
	for _, k := range []int{3, 4, 5, 6} {
		for nv := 0; nv <= 3; nv++ {
			for nh := 1; nh+nv <= 5; nh++ {
				n := nv + nh
				vals := make([]int, n)
				checked := 0
				var rec func(i int)
				rec = func(i int) {
					if i < n {
						lo, hi := 0, k-1
						if i < nv {
							lo, hi = k, 3*k
						}
						for v := lo; v <= hi; v++ {
							vals[i] = v
							rec(i + 1)
						}
						return
					}
					checked++
					b := &builder{k: k}
					parts := make([]*fig, n)
					total := &fig{}
					for j, v := range vals {
						parts[j] = &fig{raw: v}
						b.set(parts[j])
						total.raw += v
					}
					b.set(total, parts)
					for p, s := range subtract(relation{total, parts}, k) {
						if p.raw < s.lo || p.raw > s.hi {
							t.Fatalf("k %d %v: interval %v misses %d", k, vals, s, p.raw)
						}
						if s.lo == s.hi && s.lo > 0 {
							t.Fatalf("k %d parts %v: total %d shown as %d [%d,%d] reveals a part of %d", k, vals, total.raw, total.pub, total.lo, total.hi, s.lo)
						}
					}
				}
				rec(0)
				if checked == 0 {
					t.Fatal("nothing checked")
				}
			}
		}
	}
}

func TestCountText(t *testing.T) {
	for _, c := range []struct {
		c           Count
		long, short string
	}{
		{Count{v: 1240, st: Shown, k: 5}, "1,240", "1,240"},
		{Count{v: 52000, st: Shown, k: 5}, "52,000", "52k"},
		{Count{v: 1_260_000, st: Shown, k: 5}, "1,260,000", "1.3m"},
		{Count{st: Fewer, k: 5}, "fewer than 5", "<5"},
		{Count{st: Fewer, k: 10}, "fewer than 10", "<10"},
		{Count{st: Withheld, k: 5}, "withheld", "–"},
		{Count{}, "not applicable", ""},
	} {
		if got := c.c.String(); got != c.long {
			t.Errorf("%+v String = %q, want %q", c.c, got, c.long)
		}
		if got := c.c.Short(); got != c.short {
			t.Errorf("%+v Short = %q, want %q", c.c, got, c.short)
		}
	}
}

func TestRates(t *testing.T) {
	shown := func(v, lo int) Count { return Count{v: v, st: Shown, k: 5, lo: lo} }
	fewer := Count{st: Fewer, k: 5}
	for _, c := range []struct {
		name     string
		r        Rate
		pct, dec string
	}{
		{"share", Share(shown(25, 23), shown(100, 98)), "25%", "25.0"},
		{"share capped", Share(shown(10, 8), shown(5, 5)), "100%", "100.0"},
		{"share of few", Share(fewer, shown(100, 98)), "under 5%", "under 5.0"},
		{"share of few, small base", Share(fewer, shown(10, 8)), "under 51%", "under 51.0"},
		{"no base", Share(shown(10, 8), fewer), "", ""},
		{"per hour", PerHour(shown(340, 338), 140), "2%", "2.4"},
		{"per hour, few", PerHour(fewer, 140), "under 0%", "under 0.1"},
		{"per hour, no hours", PerHour(shown(340, 338), 0), "", ""},
	} {
		if got := c.r.Percent(); got != c.pct {
			t.Errorf("%s: Percent = %q, want %q", c.name, got, c.pct)
		}
		if got := c.r.Decimal(); got != c.dec {
			t.Errorf("%s: Decimal = %q, want %q", c.name, got, c.dec)
		}
	}
	// An upper bound must really be above the largest share the shown
	// figures allow.
	for den := 5; den < 200; den++ {
		for num := 0; num < 5 && num <= den; num++ {
			b := &builder{k: 5}
			d := &fig{raw: den}
			b.set(d)
			r := Share(fewer, d.count(5))
			if v, _ := r.Value(); float64(100*num)/float64(den) >= v {
				t.Fatalf("%d of %d: share %v is not under %v", num, den, float64(100*num)/float64(den), v)
			}
		}
	}
}

func TestRuleValidate(t *testing.T) {
	for k, ok := range map[int]bool{0: true, 3: true, 5: true, 100: true, 1: false, 2: false, 101: false, -5: false} {
		if err := (Rule{K: k}).Validate(); (err == nil) != ok {
			t.Errorf("K %d: %v", k, err)
		}
	}
}
