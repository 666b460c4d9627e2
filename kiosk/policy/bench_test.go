package policy

import (
	"fmt"
	"testing"
	"time"
)

// benchRules is a 200-rule list the size a large council might write:
// exact hosts, wildcards and path prefixes.
func benchRules() []string {
	rules := make([]string, 0, 200)
	for i := range 100 {
		rules = append(rules, fmt.Sprintf("https://www.council%03d.gov.uk", i))
	}
	for i := range 50 {
		rules = append(rules, fmt.Sprintf("https://*.service%03d.example.org", i))
	}
	for i := range 50 {
		rules = append(rules, fmt.Sprintf("https://www.gov.uk/topic%03d", i))
	}
	return rules
}

// benchURLs mixes what a kiosk sees: allowed pages, subdomains, path
// prefixes, and refused third-party hosts.
var benchURLs = []string{
	"https://www.council042.gov.uk/parking/permits/apply?step=2",
	"https://forms.payments.service017.example.org/pay",
	"https://www.gov.uk/topic049/benefits/universal-credit",
	"https://www.gov.uk/browse/benefits",
	"https://tracker.ads.example.net/pixel.gif?id=123",
	"https://www.council099.gov.uk/",
}

// linearDecide is the alternative a user would write first: the same
// parser and per-rule check, but trying every rule in turn instead of
// looking the host up.
func linearDecide(rules []Rule, raw string) bool {
	var t target
	if reason, _ := parse(raw, &t); reason != "" {
		return false
	}
	var d Decision
	for i := range rules {
		r := &rules[i]
		if r.Host == t.host || r.Wildcard && len(t.host) > len(r.Host)+1 &&
			t.host[len(t.host)-len(r.Host)-1] == '.' && t.host[len(t.host)-len(r.Host):] == r.Host {
			if match(rules[i:i+1], &t, &d) {
				return true
			}
		}
	}
	return false
}

func BenchmarkDecide200Rules(b *testing.B) {
	l := mustParse(b, benchRules())
	rules := l.Rules()
	for _, u := range benchURLs {
		n, err := Normalize(u)
		if err != nil {
			b.Fatal(err)
		}
		if got, lin, ref := l.Decide(u).Allow, linearDecide(rules, u), referenceAllows(rules, n); got != lin || got != ref {
			b.Fatalf("Decide(%q) = %v, linear scan says %v, reference %v", u, got, lin, ref)
		}
	}
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			l.Decide(benchURLs[i%len(benchURLs)])
		}
	})
	b.Run("linear-scan", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			linearDecide(rules, benchURLs[i%len(benchURLs)])
		}
	})
	b.Run("net-url-linear", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			netURLDecide(rules, benchURLs[i%len(benchURLs)])
		}
	})
	// All three in one loop, so the ratios are measured under the same
	// conditions (this machine is shared).
	b.Run("ratio", func(b *testing.B) {
		var idx, lin, nu time.Duration
		for i := 0; b.Loop(); i++ {
			u := benchURLs[i%len(benchURLs)]
			t0 := time.Now()
			l.Decide(u)
			t1 := time.Now()
			linearDecide(rules, u)
			t2 := time.Now()
			netURLDecide(rules, u)
			idx += t1.Sub(t0)
			lin += t2.Sub(t1)
			nu += time.Since(t2)
		}
		b.ReportMetric(float64(lin)/float64(idx), "linear/index")
		b.ReportMetric(float64(nu)/float64(idx), "net-url-linear/index")
	})
}

// netURLDecide is the straightforward way: a *url.URL from Normalize, then
// every rule compared as strings (the fuzz targets' reference matcher).
func netURLDecide(rules []Rule, raw string) bool {
	u, err := Normalize(raw)
	if err != nil {
		return false
	}
	return referenceAllows(rules, u)
}

func BenchmarkParse200Rules(b *testing.B) {
	rules := benchRules()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(rules); err != nil {
			b.Fatal(err)
		}
	}
}
