package policy

import (
	"net/url"
	"strconv"
	"strings"
)

// Schemes the policy knows. Every other scheme is refused.
const (
	SchemeHTTP  = "http"
	SchemeHTTPS = "https"
	// SchemeKiosk is the kiosk's own scheme for its built-in pages
	// (kiosk://home, kiosk://block...). Decide always allows it.
	SchemeKiosk = "kiosk"
)

// URLError is the error Normalize returns. It never holds the URL itself:
// error messages end up in logs, and what a resident visits is never logged.
type URLError struct {
	Reason string // the Decision.Reason Decide gives for the URL: ReasonScheme, ReasonUserinfo or ReasonBadURL
	Msg    string // what is wrong, in plain words
}

func (e *URLError) Error() string { return "normalise URL: " + e.Msg }

// target is a URL split into its parts and normalised for a decision.
type target struct {
	scheme      string   // SchemeHTTP, SchemeHTTPS or SchemeKiosk
	host        string   // see normHost
	kind        hostKind // what host is
	port        int      // effective port: 80 or 443 when the URL names none; 0 for kiosk
	path        string   // see normPath; starts with '/'
	query       string   // see normQuery; without the '?'
	fragment    string   // see normQuery; without the '#'
	hasQuery    bool
	hasFragment bool
}

// parse splits and normalises raw the way a browser's URL parser (the
// WHATWG URL Standard, which WebKit follows) reads it:
//
//   - leading and trailing spaces and control characters are dropped, and
//     tabs and newlines anywhere are removed ("java\nscript:" is javascript:);
//   - the scheme is case-insensitive;
//   - in http(s) URLs any run of slashes and backslashes after the scheme
//     starts the authority ("http:\\host", "http:host"), and the authority
//     ends at '/', '\', '?' or '#';
//   - everything up to the last '@' in the authority is userinfo.
//
// On failure reason is a Reason* code and msg says what is wrong; t.host is
// set whenever the host could be read, even when the URL is refused.
func parse(raw string, t *target) (reason, msg string) {
	s := trimControlSpace(raw)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	}
	scheme, rest, ok := splitScheme(s)
	if !ok {
		return ReasonBadURL, "not an absolute URL (no scheme)"
	}
	special := true
	switch {
	case strings.EqualFold(scheme, SchemeHTTPS):
		t.scheme, t.port = SchemeHTTPS, 443
	case strings.EqualFold(scheme, SchemeHTTP):
		t.scheme, t.port = SchemeHTTP, 80
	case strings.EqualFold(scheme, SchemeKiosk):
		t.scheme, special = SchemeKiosk, false
	default:
		return ReasonScheme, "only http, https and kiosk URLs may be opened"
	}

	if special {
		i := 0
		for i < len(rest) && (rest[i] == '/' || rest[i] == '\\') {
			i++
		}
		rest = rest[i:]
	} else {
		if !strings.HasPrefix(rest, "//") {
			return ReasonBadURL, "a kiosk URL must look like kiosk://page"
		}
		rest = rest[2:]
	}
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c == '?' || c == '#' || special && c == '\\' {
			end = i
			break
		}
	}
	auth, rest := rest[:end], rest[end:]

	userinfo := false
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		userinfo, auth = true, auth[at+1:]
	}
	hostPart, portPart, hasPort := splitHostPort(auth)
	host, kind, msg := normHost(hostPart)
	if msg != "" {
		if userinfo {
			return ReasonUserinfo, "the URL has a user name or password (@)"
		}
		return ReasonBadURL, msg
	}
	t.host, t.kind = host, kind
	if userinfo {
		return ReasonUserinfo, "the URL has a user name or password (@)"
	}
	if hasPort {
		port, ok := parsePort(portPart)
		if !ok {
			return ReasonBadURL, "the port is not a number from 0 to 65535"
		}
		if port >= 0 {
			t.port = port
		}
	}
	if !special && (kind != hostDomain || hasPort || strings.IndexByte(host, '.') >= 0) {
		return ReasonBadURL, "a kiosk URL must look like kiosk://page"
	}

	if i := strings.IndexByte(rest, '#'); i >= 0 {
		t.fragment, t.hasFragment = normQuery(rest[i+1:]), true
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		t.query, t.hasQuery = normQuery(rest[i+1:]), true
		rest = rest[:i]
	}
	t.path = normPath(rest, special)
	return "", ""
}

// trimControlSpace drops leading and trailing C0 controls and spaces.
func trimControlSpace(s string) string {
	for len(s) > 0 && s[0] <= ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] <= ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// splitScheme splits "scheme:rest"; ok is false when s has no valid scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return s[:i], s[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// splitHostPort splits an authority (without userinfo) at the port colon,
// which is the first ':' outside an IPv6 literal's brackets.
func splitHostPort(auth string) (host, port string, hasPort bool) {
	if strings.HasPrefix(auth, "[") {
		if i := strings.IndexByte(auth, ']'); i >= 0 {
			host, after := auth[:i+1], auth[i+1:]
			if after == "" {
				return host, "", false
			}
			if after[0] != ':' {
				return auth, "", false // normIPv6 refuses it
			}
			return host, after[1:], true
		}
		return auth, "", false
	}
	host, port, hasPort = strings.Cut(auth, ":")
	return host, port, hasPort
}

// parsePort parses the digits after the port colon. An empty port means
// the scheme's default and is returned as -1.
func parsePort(s string) (int, bool) {
	if s == "" {
		return -1, true
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
		if v > 65535 {
			return 0, false
		}
	}
	return v, true
}

// defaultPort is the port a scheme uses when a URL or rule names none.
func defaultPort(scheme string) int {
	switch scheme {
	case SchemeHTTP:
		return 80
	case SchemeHTTPS:
		return 443
	}
	return 0
}

// String is the canonical form of the URL: the scheme's default port left
// out, everything else as normalised.
func (t *target) String() string {
	var b strings.Builder
	b.Grow(len(t.scheme) + len(t.host) + len(t.path) + len(t.query) + len(t.fragment) + 12)
	b.WriteString(t.scheme)
	b.WriteString("://")
	b.WriteString(t.host)
	if t.scheme != SchemeKiosk && t.port != defaultPort(t.scheme) {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(t.port))
	}
	b.WriteString(t.path)
	if t.hasQuery {
		b.WriteByte('?')
		b.WriteString(t.query)
	}
	if t.hasFragment {
		b.WriteByte('#')
		b.WriteString(t.fragment)
	}
	return b.String()
}

// Normalize parses raw as a browser would and returns it in the canonical
// form Decide compares with the rules: lower-case scheme and host, IDNA
// host in punycode, no trailing dot, IPv4 in dotted-quad form whichever of
// the forms a browser accepts it was written in (2130706433, 0x7f000001,
// 0177.0.0.1, 127.1), IPv6 compressed in brackets, no default port, path
// dot-segments resolved (also %2e), backslashes read as slashes in http(s)
// URLs and a canonical percent-encoding (unreserved characters decoded,
// other escapes upper-case). Query and fragment are kept.
//
// It accepts http, https and kiosk URLs only. The error is a *URLError
// whose Reason is the code Decide gives; URLs with a user name or
// password are refused.
func Normalize(raw string) (*url.URL, error) {
	var t target
	if reason, msg := parse(raw, &t); reason != "" {
		return nil, &URLError{Reason: reason, Msg: msg}
	}
	u, err := url.Parse(t.String())
	if err != nil {
		return nil, &URLError{Reason: ReasonBadURL, Msg: "the normalised URL does not parse"}
	}
	return u, nil
}
