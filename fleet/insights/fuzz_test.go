package insights

import (
	"testing"
)

// FuzzOneRelation fuzzes the rule's central claim beyond the exhaustive
// test's sizes: any threshold from 3 to 12, up to eight parts of any
// size (each shown or hidden by the rule, some of them totals rounded
// with another offset), and a total over them: total minus shown parts
// never pins a hidden part to one value from 1 to K-1, and every interval
// holds the true count.
func FuzzOneRelation(f *testing.F) {
	f.Add(uint8(5), []byte{4, 4})
	f.Add(uint8(5), []byte{7, 7, 4})
	f.Add(uint8(5), []byte{7, 4, 4, 4, 4})
	f.Add(uint8(3), []byte{2, 2, 2, 5, 200})
	f.Fuzz(func(t *testing.T, kb uint8, vals []byte) {
		k := 3 + int(kb%10)
		if len(vals) == 0 || len(vals) > 8 {
			return
		}
		b := &builder{k: k}
		total := &fig{}
		var parts []*fig
		for i, v := range vals {
			p := &fig{raw: int(v)}
			if i%3 == 2 {
				// a part that is itself a total, rounded knowing its own parts
				b.set(p, []*fig{{raw: 0, st: Fewer, hi: k - 1}, {raw: int(v), st: Shown, lo: int(v), hi: int(v) + 2*k}})
			} else {
				b.set(p)
			}
			parts = append(parts, p)
			total.raw += int(v)
		}
		b.set(total, parts)
		if total.st == Shown && (total.pub%k != 0 || total.pub < k || total.raw < total.lo || total.raw > total.hi) {
			t.Fatalf("k %d: total %d shown as %d [%d,%d]", k, total.raw, total.pub, total.lo, total.hi)
		}
		for p, s := range subtract(relation{total, parts}, k) {
			if p.raw < s.lo || p.raw > s.hi {
				t.Fatalf("k %d %v: interval %v misses %d", k, vals, s, p.raw)
			}
			if s.lo == s.hi && s.lo > 0 {
				t.Fatalf("k %d parts %v: total %d shown as %d reveals %d", k, vals, total.raw, total.pub, s.lo)
			}
		}
	})
}

// FuzzWeek: any text either is refused with an error or reads as opening
// hours that write back to text reading the same.
func FuzzWeek(f *testing.F) {
	f.Add("mon 09:00-17:00; tue 09:00-12:30, 13:30-19:00; sat closed")
	f.Add("sun 00:00-24:00")
	f.Add("wed 9:00-25:00")
	f.Fuzz(func(t *testing.T, s string) {
		var w Week
		if err := w.UnmarshalText([]byte(s)); err != nil {
			return
		}
		text, err := w.MarshalText()
		if err != nil {
			t.Fatalf("%q read but does not write: %v", s, err)
		}
		var back Week
		if err := back.UnmarshalText(text); err != nil {
			t.Fatalf("%q wrote %q which does not read: %v", s, text, err)
		}
		again, _ := back.MarshalText()
		if string(again) != string(text) {
			t.Fatalf("%q: %q then %q", s, text, again)
		}
	})
}
