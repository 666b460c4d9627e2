package policy

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// trickyURLs seed the fuzz targets: every way of writing a host or path we
// know a browser reads differently from a naive parser.
var trickyURLs = []string{
	"https://www.example.gov.uk/",
	"HTTPS://WWW.EXAMPLE.GOV.UK./",
	"https://www.example.gov.uk@evil.example/",
	"https://user:pw@www.example.gov.uk/",
	"https://www.example.gov.uk\\@evil.example/",
	"https://evil.example#@www.example.gov.uk/",
	"https://evil.example?@www.example.gov.uk/",
	"https:\\\\www.example.gov.uk\\x",
	"http:www.example.gov.uk",
	"https://www%2Eexample.gov.uk/",
	"https://www.example.gov.uk%2Fevil.example/",
	"https://www.example.gov.uk%00.evil.example/",
	"https://ｗｗｗ.example.gov.uk/",
	"https://www.example。gov。uk/",
	"https://a.council.example/",
	"https://council.example/",
	"https://evilcouncil.example/",
	"https://www.gov.uk/browse/benefits",
	"https://www.gov.uk/browsers",
	"https://www.gov.uk/browse/../admin",
	"https://www.gov.uk/browse/%2e%2e/admin",
	"https://www.gov.uk/browse/..%2Fadmin",
	"https://www.gov.uk/browse/..;/admin",
	"https://www.gov.uk/browse/%252e%252e/admin",
	"https://www.gov.uk/browse/%c0%ae%c0%ae/admin",
	"https://www.gov.uk\\browse\\..\\admin",
	"https://www.gov.uk/%62rowse",
	"http://127.0.0.1:8080/",
	"http://2130706433:8080/",
	"http://0x7f000001:8080/",
	"http://0177.0.0.1:8080/",
	"http://127.1:8080/",
	"http://0x7f.0.0.1:8080/",
	"http://127.0.0.1.:8080/",
	"http://%31%32%37.0.0.1:8080/",
	"http://１２７.0.0.1:8080/",
	"http://127.0.0.1:8080@127.0.0.2:8080/",
	"http://[::ffff:127.0.0.1]:8080/",
	"https://[::1]:8443/app/x",
	"https://bücher.example/",
	"https://xn--bcher-kva.example/",
	"java\nscript:alert(1)",
	"javascript:alert(1)",
	"data:text/html,x",
	"blob:https://www.example.gov.uk/1",
	"file:///etc/passwd",
	"about:blank",
	"view-source:https://www.example.gov.uk/",
	"kiosk://home",
	"kiosk://user@home",
}

// referenceAllows is the slow, obviously correct matcher the fuzz targets
// check Decide against. It works only from the net/url fields of
// Normalize's answer and the rules' exported fields, with plain string
// comparisons, none of List's index or path helpers.
func referenceAllows(rules []Rule, u *url.URL) bool {
	if u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	path := u.EscapedPath()
	for _, r := range rules {
		if r.Scheme != u.Scheme || strconv.Itoa(r.Port) != port {
			continue
		}
		if r.Wildcard {
			if !strings.HasSuffix(host, "."+r.Host) || len(host) <= len(r.Host)+1 {
				continue
			}
		} else if host != r.Host {
			continue
		}
		if r.Path == "" {
			return true
		}
		if (path == r.Path || strings.HasPrefix(path, r.Path+"/")) && !referenceAmbiguous(path) {
			return true
		}
	}
	return false
}

// referenceAmbiguous says whether a server decoding the path once or
// twice could see another structure than the browser sent: a slash or
// backslash more, a dot segment (with or without ;parameters), an
// overlong UTF-8 byte, or a fullwidth dot or slash.
func referenceAmbiguous(path string) bool {
	p := path
	for range 2 {
		d, err := url.PathUnescape(p)
		if err != nil {
			return false // cannot decode further: a server cannot either
		}
		if strings.Count(d, "/") != strings.Count(path, "/") || strings.IndexByte(d, '\\') >= 0 ||
			strings.IndexByte(d, 0xc0) >= 0 || strings.IndexByte(d, 0xc1) >= 0 ||
			strings.ContainsAny(d, "．／＼∕") {
			return true
		}
		for _, seg := range strings.Split(d, "/") {
			seg, _, _ = strings.Cut(seg, ";")
			if seg == "." || seg == ".." {
				return true
			}
		}
		p = d
	}
	return false
}

// checkDecision checks every property a Decision must have.
func checkDecision(t *testing.T, l *List, raw string, d Decision) {
	t.Helper()
	u, err := Normalize(raw)
	if err != nil {
		ue, ok := err.(*URLError)
		if !ok {
			t.Fatalf("Normalize(%q) error %T, want *URLError", raw, err)
		}
		if d.Allow || d.Reason != ue.Reason {
			t.Fatalf("Decide(%q) = %+v but Normalize refuses it with %q", raw, d, ue.Reason)
		}
		return
	}
	if strings.ContainsAny(d.Site, "/?#@ ") {
		t.Fatalf("Decide(%q).Site = %q: not a host", raw, d.Site)
	}
	// The property: never allow a URL whose normalised origin and path no rule matches.
	ref := referenceAllows(l.Rules(), u)
	switch {
	case d.Allow && d.Reason == ReasonKiosk:
		if u.Scheme != SchemeKiosk {
			t.Fatalf("Decide(%q) = %+v for a %s URL", raw, d, u.Scheme)
		}
	case d.Allow:
		if !ref {
			t.Fatalf("Decide(%q) = %+v, but no rule matches its normalised form %q; rules %v", raw, d, u, l.Rules())
		}
	case ref && d.Reason != ReasonAmbiguousPath:
		t.Fatalf("Decide(%q) = %+v, but a rule matches its normalised form %q; rules %v", raw, d, u, l.Rules())
	}
	// The canonical form decides the same and normalises to itself.
	canon := u.String()
	if d2 := l.Decide(canon); d2 != d {
		t.Fatalf("Decide(%q) = %+v but Decide(%q) = %+v", raw, d, canon, d2)
	}
	u2, err := Normalize(canon)
	if err != nil || u2.String() != canon {
		t.Fatalf("Normalize(%q) = %v, %v; want it unchanged", canon, u2, err)
	}
	if u.Scheme != SchemeKiosk {
		h := u.Hostname()
		for i := 0; i < len(h); i++ {
			if c := h[i]; !validDomainByte(c) && c != ':' {
				t.Fatalf("Normalize(%q) host %q has %q", raw, h, c)
			}
		}
	}
}

// FuzzDecide checks that Decide never allows a URL whose normalised origin
// (and path) no rule matches, with a fixed list plus one fuzzed rule.
func FuzzDecide(f *testing.F) {
	for _, u := range trickyURLs {
		f.Add(u, "")
	}
	f.Add("https://a.b.example.gov.uk/x", "https://*.example.gov.uk/x")
	f.Add("http://127.1:9000/a/b", "http://2130706433:9000/a/")
	f.Add("https://[::1]/%7e", "https://[0::1]/~")
	base := mustParse(f, testRules)
	f.Fuzz(func(t *testing.T, raw, rule string) {
		l := base
		if rule != "" {
			var err error
			if l, err = Parse(append(append([]string(nil), testRules...), rule)); err != nil {
				l = base
			}
		}
		checkDecision(t, l, raw, l.Decide(raw))
	})
}

// FuzzParse checks that a rule's canonical form parses to the same rule and
// that the rule allows a URL built from it.
func FuzzParse(f *testing.F) {
	for _, r := range testRules {
		f.Add(r)
	}
	for _, r := range []string{"https://*.Bücher.example/%62/", "http://0x7f.1:81/a%20b", "https://[::ffff:1.2.3.4]/x", "https://*.gov.uk"} {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse([]string{s})
		if err != nil {
			if _, ok := err.(*RuleError); !ok {
				t.Fatalf("Parse(%q) error %T, want *RuleError", s, err)
			}
			return
		}
		r := l.Rules()[0]
		l2, err := Parse([]string{r.String()})
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, r, err)
		}
		if r2 := l2.Rules()[0]; r2 != r {
			t.Fatalf("Parse(%q) = %+v, but its canonical form %q parses to %+v", s, r, r.String(), r2)
		}
		host := r.Host
		if r.Wildcard {
			host = "sub." + host
		}
		u := r.Scheme + "://" + host + ":" + strconv.Itoa(r.Port) + r.Path + "/x"
		if d := l.Decide(u); !d.Allow {
			t.Fatalf("rule %q does not allow %q: %+v", r, u, d)
		}
		if r.Wildcard {
			if d := l.Decide(r.Scheme + "://" + r.Host + ":" + strconv.Itoa(r.Port) + r.Path); d.Allow {
				t.Fatalf("wildcard rule %q allows its apex: %+v", r, d)
			}
		}
	})
}
