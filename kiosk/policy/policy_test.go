package policy

import (
	"errors"
	"strings"
	"testing"
)

// normalizeTests are URLs Normalize accepts, with their canonical form.
var normalizeTests = []struct {
	in, want string
}{
	// scheme and host case, trailing dot, default ports
	{"HTTPS://WWW.Example.GOV.UK/Path", "https://www.example.gov.uk/Path"},
	{"https://example.gov.uk./", "https://example.gov.uk/"},
	{"https://example.gov.uk", "https://example.gov.uk/"},
	{"https://example.gov.uk:443/x", "https://example.gov.uk/x"},
	{"http://example.gov.uk:80", "http://example.gov.uk/"},
	{"https://example.gov.uk:0443/", "https://example.gov.uk/"},
	{"https://example.gov.uk:/", "https://example.gov.uk/"},
	{"https://example.gov.uk:8443/", "https://example.gov.uk:8443/"},
	{"http://example.gov.uk:443/", "http://example.gov.uk:443/"},
	{"https://my_site.example.gov.uk/", "https://my_site.example.gov.uk/"},
	// IDNA to punycode, width and dot mapping, percent-encoded hosts
	{"https://bücher.example/", "https://xn--bcher-kva.example/"},
	{"https://BÜCHER.example/", "https://xn--bcher-kva.example/"},
	{"https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/"},
	{"https://faß.de/", "https://xn--fa-hia.de/"},
	{"https://ｅｘａｍｐｌｅ.gov.uk/", "https://example.gov.uk/"},
	{"https://example。gov。uk/", "https://example.gov.uk/"},
	{"https://ex%61mple.gov.uk/", "https://example.gov.uk/"},
	{"https://example%2Egov.uk/", "https://example.gov.uk/"},
	{"https://b%C3%BCcher.example/", "https://xn--bcher-kva.example/"},
	// IPv4 in every form a browser accepts
	{"http://2130706433/", "http://127.0.0.1/"},
	{"http://0x7f000001/", "http://127.0.0.1/"},
	{"http://0X7F000001/", "http://127.0.0.1/"},
	{"http://0177.0.0.1/", "http://127.0.0.1/"},
	{"http://127.1/", "http://127.0.0.1/"},
	{"http://127.0.1/", "http://127.0.0.1/"},
	{"http://0x7f.1/", "http://127.0.0.1/"},
	{"http://127.0.0x0.01/", "http://127.0.0.1/"},
	{"http://0x7f.0.0.0x1:8080/", "http://127.0.0.1:8080/"},
	{"http://127.0.0.1./", "http://127.0.0.1/"},
	{"http://%30x7f.1/", "http://127.0.0.1/"},
	{"http://１２７.0.0.1/", "http://127.0.0.1/"},
	{"http://0x/", "http://0.0.0.0/"},
	{"http://4294967295/", "http://255.255.255.255/"},
	{"http://00000000000000000000000000177.0.0.1/", "http://127.0.0.1/"},
	// a last label that is not a number is a name (as in a browser)
	{"http://0x1g/", "http://0x1g/"},
	{"http://1.2.3.09a/", "http://1.2.3.09a/"},
	// IPv6
	{"http://[::1]/", "http://[::1]/"},
	{"http://[0:0:0:0:0:0:0:1]:8080/", "http://[::1]:8080/"},
	{"http://[::FFFF:127.0.0.1]/", "http://[::ffff:127.0.0.1]/"},
	{"http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"},
	// slashes, backslashes, whitespace a browser forgives
	{"http:example.gov.uk/x", "http://example.gov.uk/x"},
	{`https:\\example.gov.uk\a\b`, "https://example.gov.uk/a/b"},
	{"https:///example.gov.uk/", "https://example.gov.uk/"},
	{" \x00https://example.gov.uk/ \n", "https://example.gov.uk/"},
	{"ht\ttps://exa\nmple.gov.uk/\r", "https://example.gov.uk/"},
	{"https://example.gov.uk\\@evil.example/", "https://example.gov.uk/@evil.example/"},
	{"https://evil.example#@example.gov.uk/", "https://evil.example/#@example.gov.uk/"},
	{"https://evil.example?@example.gov.uk/", "https://evil.example/?@example.gov.uk/"},
	// paths
	{"https://e.gov.uk/a/b/../c", "https://e.gov.uk/a/c"},
	{"https://e.gov.uk/a/%2e%2E/c", "https://e.gov.uk/c"},
	{"https://e.gov.uk/a/.%2e/c", "https://e.gov.uk/c"},
	{"https://e.gov.uk/a/%2E./c", "https://e.gov.uk/c"},
	{"https://e.gov.uk/a/./b/.", "https://e.gov.uk/a/b/"},
	{"https://e.gov.uk/a/%2e", "https://e.gov.uk/a/"},
	{"https://e.gov.uk/..", "https://e.gov.uk/"},
	{"https://e.gov.uk/../../x", "https://e.gov.uk/x"},
	{`https://e.gov.uk/a\..\b`, "https://e.gov.uk/b"},
	{"https://e.gov.uk/browse/..%2Fadmin", "https://e.gov.uk/browse/..%2Fadmin"},
	{"https://e.gov.uk/%62rowse", "https://e.gov.uk/browse"},
	{"https://e.gov.uk/a%2fb%5c", "https://e.gov.uk/a%2Fb%5C"},
	{"https://e.gov.uk/a b", "https://e.gov.uk/a%20b"},
	{"https://e.gov.uk/é", "https://e.gov.uk/%C3%A9"},
	{"https://e.gov.uk/%zz%", "https://e.gov.uk/%25zz%25"},
	{"https://e.gov.uk/a...b/...", "https://e.gov.uk/a...b/..."},
	{"https://e.gov.uk/a;b=c,d", "https://e.gov.uk/a;b=c,d"},
	// query and fragment are kept (made parseable)
	{"https://e.gov.uk?x", "https://e.gov.uk/?x"},
	{"https://e.gov.uk#x", "https://e.gov.uk/#x"},
	{"https://e.gov.uk/s?q=a b&r=%zz#f g", "https://e.gov.uk/s?q=a%20b&r=%25zz#f%20g"},
	// the kiosk's own pages
	{"kiosk://home", "kiosk://home/"},
	{"KIOSK://Home/guides/x?a=1", "kiosk://home/guides/x?a=1"},
}

func TestNormalize(t *testing.T) {
	for _, tt := range normalizeTests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.in, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Normalize(u.String())
			if err != nil || again.String() != u.String() {
				t.Errorf("Normalize(%q) = %v, %v; want it unchanged", u, again, err)
			}
		})
	}
}

// refuseTests are URLs Normalize refuses, with the reason.
var refuseTests = []struct {
	in, reason string
}{
	{"https://user:pw@example.gov.uk/", ReasonUserinfo},
	{"https://@example.gov.uk/", ReasonUserinfo},
	{"https://example.gov.uk@evil.example/", ReasonUserinfo},
	{"https://example.gov.uk:443@evil.example/", ReasonUserinfo},
	{"https://a@b@evil.example/", ReasonUserinfo},
	{"https://a@/", ReasonUserinfo},
	{"kiosk://user@home", ReasonUserinfo},
	{"javascript:alert(1)", ReasonScheme},
	{"JaVaScRiPt:alert(1)", ReasonScheme},
	{"java\nscript:alert(1)", ReasonScheme},
	{" javascript:alert(1)", ReasonScheme},
	{"data:text/html,<script>1</script>", ReasonScheme},
	{"blob:https://example.gov.uk/0b6e", ReasonScheme},
	{"file:///etc/passwd", ReasonScheme},
	{"about:blank", ReasonScheme},
	{"view-source:https://example.gov.uk/", ReasonScheme},
	{"ftp://example.gov.uk/", ReasonScheme},
	{"ws://example.gov.uk/", ReasonScheme},
	{"wss://example.gov.uk/", ReasonScheme},
	{"filesystem:https://example.gov.uk/temporary/x", ReasonScheme},
	{"webkit-pdfjs-viewer://pdfjs/web/viewer.html", ReasonScheme},
	{"httpx://example.gov.uk/", ReasonScheme},
	{"localhost:8080", ReasonScheme},
	{"", ReasonBadURL},
	{"   ", ReasonBadURL},
	{"/relative", ReasonBadURL},
	{"example.gov.uk", ReasonBadURL},
	{"//example.gov.uk/", ReasonBadURL},
	{"https://", ReasonBadURL},
	{"https:///", ReasonBadURL},
	{"https://:443/", ReasonBadURL},
	{"https://exa mple.gov.uk/", ReasonBadURL},
	{"https://example..gov.uk/", ReasonBadURL},
	{"https://.example.gov.uk/", ReasonBadURL},
	{"https://example.gov.uk../", ReasonBadURL},
	{"https://example.gov.uk:65536/", ReasonBadURL},
	{"https://example.gov.uk:8o/", ReasonBadURL},
	{"https://example.gov.uk:-1/", ReasonBadURL},
	{"https://ex%ZZ.gov.uk/", ReasonBadURL},
	{"https://ex%00ample.gov.uk/", ReasonBadURL},
	{"https://example.gov.uk%2Fevil.example/", ReasonBadURL},
	{"https://example.gov.uk%5C.evil.example/", ReasonBadURL},
	{"https://%5B::1%5D/", ReasonBadURL},
	{"https://ex<ample.gov.uk/", ReasonBadURL},
	{"https://" + strings.Repeat("a", 64) + ".gov.uk/", ReasonBadURL},
	{"https://" + strings.Repeat("a.", 130) + "uk/", ReasonBadURL},
	{"https://xn--a.example/", ReasonBadURL},
	{"http://256.0.0.1/", ReasonBadURL},
	{"http://08/", ReasonBadURL},
	{"http://1.2.3.4.5/", ReasonBadURL},
	{"http://4294967296/", ReasonBadURL},
	{"http://127..1/", ReasonBadURL},
	{"http://foo.0x/", ReasonBadURL},
	{"http://foo.123/", ReasonBadURL},
	{"http://[::1/", ReasonBadURL},
	{"http://[::1]x/", ReasonBadURL},
	{"http://[fe80::1%25eth0]/", ReasonBadURL},
	{"http://[1.2.3.4]/", ReasonBadURL},
	{"http://[::1]:99999/", ReasonBadURL},
	{"kiosk:home", ReasonBadURL},
	{"kiosk://", ReasonBadURL},
	{"kiosk://a.b/", ReasonBadURL},
	{"kiosk://home:80/", ReasonBadURL},
	{"kiosk://127.0.0.1/", ReasonBadURL},
}

func TestNormalizeRefuses(t *testing.T) {
	for _, tt := range refuseTests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := Normalize(tt.in)
			var ue *URLError
			if !errors.As(err, &ue) {
				t.Fatalf("Normalize(%q) = %v, %v; want a *URLError", tt.in, u, err)
			}
			if ue.Reason != tt.reason {
				t.Errorf("Normalize(%q) reason = %q (%s), want %q", tt.in, ue.Reason, ue.Msg, tt.reason)
			}
			if strings.Contains(err.Error(), "gov.uk") || strings.Contains(err.Error(), "evil") {
				t.Errorf("error %q quotes the URL; errors must never carry a URL", err)
			}
		})
	}
}

// testRules is the allowlist most Decide tests use.
var testRules = []string{
	"https://www.example.gov.uk",
	"https://*.council.example",
	"https://www.gov.uk/browse",
	"https://www.gov.uk/apply-blue-badge/",
	"http://127.0.0.1:8080",
	"https://Bücher.example",
	"https://[::1]:8443/app/",
	"https://*.deep.services.example/forms",
}

func mustParse(tb testing.TB, rules []string) *List {
	tb.Helper()
	l, err := Parse(rules)
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return l
}

// decideTests are decisions under testRules.
var decideTests = []struct {
	url    string
	allow  bool
	reason string
	site   string
}{
	{"https://www.example.gov.uk/", true, ReasonRule, "www.example.gov.uk"},
	{"https://www.example.gov.uk/anything/at/all?x=1#y", true, ReasonRule, "www.example.gov.uk"},
	{"HTTPS://WWW.EXAMPLE.GOV.UK./", true, ReasonRule, "www.example.gov.uk"},
	{"https://www.example.gov.uk:443/", true, ReasonRule, "www.example.gov.uk"},
	{"https:\\\\www.example.gov.uk\\x", true, ReasonRule, "www.example.gov.uk"},
	{"https://www%2Eexample.gov.uk/", true, ReasonRule, "www.example.gov.uk"},
	{"http://www.example.gov.uk/", false, ReasonNoRule, "www.example.gov.uk"},
	{"https://www.example.gov.uk:8443/", false, ReasonNoRule, "www.example.gov.uk"},
	{"https://example.gov.uk/", false, ReasonNoRule, "example.gov.uk"},
	{"https://evil.www.example.gov.uk/", false, ReasonNoRule, "evil.www.example.gov.uk"},
	{"https://www.example.gov.uk.evil.example/", false, ReasonNoRule, "www.example.gov.uk.evil.example"},
	{"https://www.example.gov.uk%2Fevil.example/", false, ReasonBadURL, ""},
	{"https://wwwexample.gov.uk/", false, ReasonNoRule, "wwwexample.gov.uk"},
	// wildcard: any subdomain, never the apex
	{"https://a.council.example/", true, ReasonRule, "a.council.example"},
	{"https://a.b.c.council.example/x", true, ReasonRule, "a.b.c.council.example"},
	{"https://council.example/", false, ReasonNoRule, "council.example"},
	{"https://evilcouncil.example/", false, ReasonNoRule, "evilcouncil.example"},
	{"https://council.example.evil/", false, ReasonNoRule, "council.example.evil"},
	{"http://a.council.example/", false, ReasonNoRule, "a.council.example"},
	{"https://x.deep.services.example/forms/1", true, ReasonRule, "x.deep.services.example"},
	{"https://x.deep.services.example/other", false, ReasonNoRule, "x.deep.services.example"},
	// path prefixes match on segment boundaries, after the browser resolves the path
	{"https://www.gov.uk/browse", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/benefits?x", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/browse?x=/admin", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/%62rowse/x", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/./x", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/apply-blue-badge", true, ReasonRule, "www.gov.uk"},
	{"https://www.gov.uk/browsers", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/BROWSE", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/../admin", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/%2e%2e/admin", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/.%2E/admin", false, ReasonNoRule, "www.gov.uk"},
	{`https://www.gov.uk/browse\..\admin`, false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/browse%2Fx", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/x/browse", false, ReasonNoRule, "www.gov.uk"},
	{"https://www.gov.uk/browse/..%2Fadmin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/..%2fadmin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/..%5Cadmin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/..;/admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/%252e%252e/admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/%c0%ae%c0%ae/admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/%25c0%25ae/admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	// fullwidth dots and slashes, which "best fit" decoders read as ASCII
	{"https://www.gov.uk/browse/．．/admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/..／admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/..＼admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/..%E2%88%95admin", false, ReasonAmbiguousPath, "www.gov.uk"},
	{"https://www.gov.uk/browse/％２Ｅ％２Ｅ/admin", true, ReasonRule, "www.gov.uk"}, // a fullwidth % escapes nothing
	// a host-wide rule allows any path, encoded slashes included
	{"https://www.example.gov.uk/a/..%2Fb", true, ReasonRule, "www.example.gov.uk"},
	// IPv4 forms
	{"http://127.0.0.1:8080/", true, ReasonRule, "127.0.0.1"},
	{"http://2130706433:8080/", true, ReasonRule, "127.0.0.1"},
	{"http://0x7f000001:8080/x", true, ReasonRule, "127.0.0.1"},
	{"http://127.1:8080/", true, ReasonRule, "127.0.0.1"},
	{"http://0177.0.0.1:8080/", true, ReasonRule, "127.0.0.1"},
	{"http://0x7f.0.0.1:8080/", true, ReasonRule, "127.0.0.1"},
	{"http://127.0.0.1:08080/", true, ReasonRule, "127.0.0.1"},
	{"http://127.0.0.1:8081/", false, ReasonNoRule, "127.0.0.1"},
	{"http://127.0.0.1/", false, ReasonNoRule, "127.0.0.1"},
	{"http://127.0.0.2:8080/", false, ReasonNoRule, "127.0.0.2"},
	{"http://2130706434:8080/", false, ReasonNoRule, "127.0.0.2"},
	{"https://127.0.0.1:8080/", false, ReasonNoRule, "127.0.0.1"},
	{"http://localhost:8080/", false, ReasonNoRule, "localhost"},
	{"http://[::ffff:127.0.0.1]:8080/", false, ReasonNoRule, "[::ffff:127.0.0.1]"},
	{"http://[::1]:8080/", false, ReasonNoRule, "[::1]"},
	// userinfo, however spelt
	{"http://user@127.0.0.1:8080/", false, ReasonUserinfo, "127.0.0.1"},
	{"http://127.0.0.1:8080@127.0.0.2:8080/", false, ReasonUserinfo, "127.0.0.2"},
	{"https://www.example.gov.uk@evil.example/", false, ReasonUserinfo, "evil.example"},
	{"https://www.example.gov.uk:pw@www.example.gov.uk/", false, ReasonUserinfo, "www.example.gov.uk"},
	{"https://www.example.gov.uk%40evil.example/", false, ReasonBadURL, ""},
	// IDNA
	{"https://xn--bcher-kva.example/", true, ReasonRule, "xn--bcher-kva.example"},
	{"https://BÜCHER.example/", true, ReasonRule, "xn--bcher-kva.example"},
	{"https://bucher.example/", false, ReasonNoRule, "bucher.example"},
	// IPv6 with a path prefix that was written with a trailing slash
	{"https://[::1]:8443/app", true, ReasonRule, "[::1]"},
	{"https://[0:0::1]:8443/app/x", true, ReasonRule, "[::1]"},
	{"https://[::1]:8443/apps", false, ReasonNoRule, "[::1]"},
	{"https://[::1]:8443/", false, ReasonNoRule, "[::1]"},
	// built-in pages
	{"kiosk://home", true, ReasonKiosk, ""},
	{"kiosk://block?site=x", true, ReasonKiosk, ""},
	// other schemes
	{"javascript:alert(1)", false, ReasonScheme, ""},
	{"data:text/html,hi", false, ReasonScheme, ""},
	{"blob:https://www.example.gov.uk/1", false, ReasonScheme, ""},
	{"file:///etc/passwd", false, ReasonScheme, ""},
	{"about:blank", false, ReasonScheme, ""},
	{"view-source:https://www.example.gov.uk/", false, ReasonScheme, ""},
	{"ftp://www.example.gov.uk/", false, ReasonScheme, ""},
	{"ws://www.example.gov.uk/", false, ReasonScheme, ""},
	{"wss://www.example.gov.uk/", false, ReasonScheme, ""},
	{"", false, ReasonBadURL, ""},
	{"http://256.1.1.1:8080/", false, ReasonBadURL, ""},
}

func TestDecide(t *testing.T) {
	l := mustParse(t, testRules)
	for _, tt := range decideTests {
		t.Run(tt.url, func(t *testing.T) {
			got := l.Decide(tt.url)
			want := Decision{Allow: tt.allow, Reason: tt.reason, Site: tt.site}
			if got != want {
				t.Errorf("Decide(%q) = %+v, want %+v", tt.url, got, want)
			}
		})
	}
}

func TestDecideEmptyAndNilList(t *testing.T) {
	var nilList *List
	empty := mustParse(t, nil)
	for _, l := range []*List{nilList, empty} {
		if got := l.Decide("kiosk://home"); !got.Allow {
			t.Errorf("Decide(kiosk://home) = %+v, want allowed", got)
		}
		if got := l.Decide("https://www.example.gov.uk/"); got.Allow || got.Reason != ReasonNoRule {
			t.Errorf("Decide(https://www.example.gov.uk/) = %+v, want no_rule", got)
		}
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want string // canonical form
	}{
		{"https://www.example.gov.uk", "https://www.example.gov.uk"},
		{"HTTPS://WWW.Example.gov.uk:443/Browse/", "https://www.example.gov.uk/Browse"},
		{"https://www.example.gov.uk/", "https://www.example.gov.uk"},
		{"https://www.example.gov.uk./", "https://www.example.gov.uk"},
		{"http://127.1:8080", "http://127.0.0.1:8080"},
		{"http://2130706433", "http://127.0.0.1"},
		{"https://*.Bücher.example", "https://*.xn--bcher-kva.example"},
		{"https://*.example.gov.uk", "https://*.example.gov.uk"},
		{"https://[0::1]:8443/a/b/", "https://[::1]:8443/a/b"},
		{"https://www.gov.uk/%62rowse%20it", "https://www.gov.uk/browse%20it"},
		{"http://example.gov.uk:443", "http://example.gov.uk:443"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l, err := Parse([]string{tt.in})
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := l.Rules()[0].String(); got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		in, msg string // msg: a part of RuleError.Msg
	}{
		{"", "empty"},
		{"www.example.gov.uk", "http rules must say http:// explicitly"},
		{"example.gov.uk/path", "must start with https://"},
		{"https:www.example.gov.uk", "scheme://host"},
		{"ftp://www.example.gov.uk", "ftp:// rules are not supported"},
		{"ws://www.example.gov.uk", "ws:// rules are not supported"},
		{"javascript://alert(1)", "not supported"},
		{"kiosk://home", "always allowed"},
		{"https://user@www.example.gov.uk", "user name or password"},
		{"https://user:pw@www.example.gov.uk", "user name or password"},
		{"https://www.example.gov.uk/?a=1", "query"},
		{"https://www.example.gov.uk/#top", "fragment"},
		{`https://www.example.gov.uk\x`, "backslash"},
		{"https://www.example.gov.uk /x", "spaces"},
		{"https://", "no host"},
		{"https:///x", "no host"},
		{"https://:8080", "no host"},
		{"https://*", "bare *"},
		{"https://*.", "bare *"},
		{"https://*/x", "bare *"},
		{"https://www.*.gov.uk", "wildcard must be the first label: *.example.gov.uk"},
		{"https://*example.gov.uk", "wildcard must be the first label"},
		{"https://*.*.example.gov.uk", "wildcard must be the first label"},
		{"https://example.*", "wildcard must be the first label"},
		{"https://*.127.0.0.1", "IP address"},
		{"https://*.2130706433", "IP address"},
		{"https://*.com", "public suffix"},
		{"https://*.gov.uk", "public suffix"},
		{"https://*.co.uk", "public suffix"},
		{"https://*.github.io", "public suffix"},
		{"https://*.localhost", "public suffix"},
		{"https://www.example.gov.uk:0", "1 to 65535"},
		{"https://www.example.gov.uk:65536", "1 to 65535"},
		{"https://www.example.gov.uk:http", "1 to 65535"},
		{"https://www.example.gov.uk:", "port is empty"},
		{"https://www.example.gov.uk/browse*", "must not contain *"},
		{"https://www.example.gov.uk/a/../b", ". or .."},
		{"https://www.example.gov.uk/a/%2e%2e/b", ". or .."},
		{"https://www.example.gov.uk/a/.", ". or .."},
		{"https://www.example.gov.uk/a%2Fb", "encoded slashes"},
		{"https://www.example.gov.uk/a%5cb", "encoded slashes"},
		{"https://exa%ZZmple.gov.uk", "bad host"},
		{"https://example..gov.uk", "bad host"},
		{"https://256.1.1.1", "bad host"},
		{"https://[::1", "bad host"},
		{"https://exa<mple.gov.uk", "bad host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse([]string{"https://ok.example.gov.uk", tt.in})
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("Parse(%q) error = %v, want a *RuleError", tt.in, err)
			}
			if re.Index != 1 || re.Rule != tt.in {
				t.Errorf("RuleError{Index: %d, Rule: %q}, want {1, %q}", re.Index, re.Rule, tt.in)
			}
			if !strings.Contains(re.Msg, tt.msg) {
				t.Errorf("Parse(%q) Msg = %q, want it to say %q", tt.in, re.Msg, tt.msg)
			}
		})
	}
}

func TestRuleErrorText(t *testing.T) {
	_, err := Parse([]string{"https://*.gov.uk"})
	want := `allow[0] "https://*.gov.uk": *.gov.uk would allow every site under the public suffix gov.uk`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want it to start with %q", err, want)
	}
}

func TestDecideCanonicalURLDoesNotAllocate(t *testing.T) {
	l := mustParse(t, testRules)
	for _, u := range []string{
		"https://www.example.gov.uk/anything?x=1",
		"https://a.b.council.example/x",
		"https://www.gov.uk/browse/benefits",
		"https://evil.example/",
		"http://127.0.0.1:8080/",
	} {
		if n := testing.AllocsPerRun(100, func() { l.Decide(u) }); n != 0 {
			t.Errorf("Decide(%q) allocates %v times, want 0", u, n)
		}
	}
}
