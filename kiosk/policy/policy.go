// Package policy is the kiosk's URL allowlist: it parses the `allow` rules
// of the kiosk config, normalises a URL the way the browser engine reads
// it, and decides whether the kiosk may open it. The shell asks it about
// every navigation, redirect hop, form submission and new-window request.
//
// A rule is scheme://host[:port][/path-prefix] (DESIGN.md):
//
//	https://www.example.gov.uk            that host on port 443, every path
//	https://*.example.gov.uk              any subdomain (a.example.gov.uk, a.b.example.gov.uk), not the apex
//	http://127.0.0.1:8080                 plain http only where a rule says http://
//	https://www.gov.uk/browse             /browse and everything under it, not /browsers
//
// Rules are normalised exactly as URLs are (see Normalize), so
// https://EXAMPLE.gov.uk./ and https://example.gov.uk name the same thing.
// Rules with a user name, a query or a fragment, a bare *, a wildcard
// anywhere but the first label, a wildcard over an IP address or a public
// suffix (*.com, *.gov.uk, *.github.io), or a scheme other than http and
// https are refused.
//
// Decide allows kiosk:// URLs (the kiosk's built-in pages) and http(s) URLs
// a rule matches, and refuses everything else: every other scheme (data:,
// blob:, file:, about:, javascript:, view-source:, ftp:, ws:, wss:...) and
// any URL with a user name or password. WebSocket connections are not
// navigations, so there is no rule form for ws:// and wss://.
//
// A path-prefix rule never allows a path a server might read differently
// from the browser: an encoded slash or backslash (%2F, %5C), a
// double-encoded dot or slash, an overlong UTF-8 byte, or a dot segment
// with parameters ("..;"). Rules without a path are not affected.
//
// Nothing here logs or keeps a URL; errors never quote one.
package policy

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Reasons in a Decision: short, stable codes the shell may show, count or
// switch on.
const (
	ReasonRule          = "rule"           // allowed: a rule matches
	ReasonKiosk         = "kiosk"          // allowed: one of the kiosk's built-in kiosk:// pages
	ReasonNoRule        = "no_rule"        // refused: no rule matches the scheme, host, port and path
	ReasonUserinfo      = "userinfo"       // refused: the URL carries a user name or password (user@host)
	ReasonScheme        = "scheme"         // refused: not http, https or kiosk
	ReasonBadURL        = "bad_url"        // refused: not a URL a browser would open, or a host that cannot be reached
	ReasonAmbiguousPath = "ambiguous_path" // refused: only a path-prefix rule matches, and the path could mean another path to a server
)

// Decision is the answer for one URL.
type Decision struct {
	Allow  bool
	Reason string // one of the Reason* codes
	// Site is the normalised host (punycode, no port) for the block page,
	// "" when the URL has no readable host. Never a path or query.
	Site string
}

// Rule is one parsed, normalised allow rule.
type Rule struct {
	Scheme string // SchemeHTTPS or SchemeHTTP
	// Host is the normalised host. For a wildcard rule it is the domain
	// under which every subdomain matches (example.gov.uk for
	// *.example.gov.uk), and the domain itself does not match.
	Host     string
	Wildcard bool
	Port     int    // the port; the scheme's default when the rule names none
	Path     string // normalised path prefix without a trailing slash; "" matches every path
}

// String returns the rule in canonical form.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Scheme)
	b.WriteString("://")
	if r.Wildcard {
		b.WriteString("*.")
	}
	b.WriteString(r.Host)
	if r.Port != defaultPort(r.Scheme) {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(r.Port))
	}
	b.WriteString(r.Path)
	return b.String()
}

// RuleError is the error Parse returns for a rule it refuses.
type RuleError struct {
	Index int    // the rule's position in the list, from 0
	Rule  string // the rule as written
	Msg   string // what is wrong, in plain words
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("allow[%d] %q: %s", e.Index, e.Rule, e.Msg)
}

// List is a parsed allowlist. It is safe for concurrent use. A nil or
// empty List allows kiosk:// pages only.
type List struct {
	rules []Rule
	exact map[string][]Rule // by host
	wild  map[string][]Rule // wildcard rules by the domain under the "*."
}

// Parse parses and normalises allow rules. On the first rule it refuses it
// returns a *RuleError.
func Parse(rules []string) (*List, error) {
	l := &List{
		rules: make([]Rule, 0, len(rules)),
		exact: make(map[string][]Rule),
		wild:  make(map[string][]Rule),
	}
	for i, s := range rules {
		r, msg := parseRule(s)
		if msg != "" {
			return nil, &RuleError{Index: i, Rule: s, Msg: msg}
		}
		l.rules = append(l.rules, r)
		if r.Wildcard {
			l.wild[r.Host] = append(l.wild[r.Host], r)
		} else {
			l.exact[r.Host] = append(l.exact[r.Host], r)
		}
	}
	return l, nil
}

// Rules returns the parsed rules in the order they were given.
func (l *List) Rules() []Rule {
	if l == nil {
		return nil
	}
	return append([]Rule(nil), l.rules...)
}

// Decide says whether the kiosk may open rawURL. It allows kiosk:// URLs
// and http(s) URLs whose normalised scheme, host, port and path a rule
// matches; it refuses everything else. It does not allocate for URLs that
// are already in canonical form.
func (l *List) Decide(rawURL string) Decision {
	var t target
	if reason, _ := parse(rawURL, &t); reason != "" {
		return Decision{Reason: reason, Site: t.host}
	}
	if t.scheme == SchemeKiosk {
		return Decision{Allow: true, Reason: ReasonKiosk}
	}
	d := Decision{Reason: ReasonNoRule, Site: t.host}
	if l == nil {
		return d
	}
	if match(l.exact[t.host], &t, &d) {
		return d
	}
	if t.kind == hostDomain && len(l.wild) > 0 {
		for i := 0; i < len(t.host); i++ {
			if t.host[i] == '.' && match(l.wild[t.host[i+1:]], &t, &d) {
				return d
			}
		}
	}
	return d
}

// match reports whether one of rules (all for t's host) matches t, and
// records the outcome in d.
func match(rules []Rule, t *target, d *Decision) bool {
	for i := range rules {
		r := &rules[i]
		if r.Scheme != t.scheme || r.Port != t.port {
			continue
		}
		if r.Path != "" {
			if !hasPathPrefix(t.path, r.Path) {
				continue
			}
			if ambiguousPath(t.path) {
				d.Reason = ReasonAmbiguousPath
				continue
			}
		}
		d.Allow, d.Reason = true, ReasonRule
		return true
	}
	return false
}

// parseRule parses one rule; msg says what is wrong with it.
func parseRule(s string) (r Rule, msg string) {
	const example = "e.g. https://www.example.gov.uk or https://*.example.gov.uk/path"
	if s == "" {
		return r, "the rule is empty; " + example
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return r, "the rule must not contain spaces or control characters"
		}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if lower := strings.ToLower(s); strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
			return r, "the rule must be scheme://host[:port][/path], " + example
		}
		return r, "the rule must start with https:// (http rules must say http:// explicitly), " + example
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case SchemeHTTP, SchemeHTTPS:
	case SchemeKiosk:
		return r, "kiosk:// pages are always allowed and need no rule"
	default:
		return r, fmt.Sprintf("%s:// rules are not supported: only https:// and http:// (http rules must say http:// explicitly)", scheme)
	}
	r.Scheme = scheme
	switch {
	case strings.IndexByte(rest, '@') >= 0:
		return r, "the rule must not contain a user name or password (@)"
	case strings.IndexByte(rest, '?') >= 0:
		return r, "the rule must not contain a query (?...): a rule matches a scheme, host, port and path prefix"
	case strings.IndexByte(rest, '#') >= 0:
		return r, "the rule must not contain a fragment (#...)"
	case strings.IndexByte(rest, '\\') >= 0:
		return r, "the rule must not contain a backslash"
	}
	auth, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		auth, path = rest[:i], rest[i:]
	}
	hostPart, portPart, hasPort := splitHostPort(auth)
	switch {
	case hostPart == "":
		return r, "the rule has no host, " + example
	case hostPart == "*" || hostPart == "*.":
		return r, "a bare * would allow every site; name a domain, e.g. *.example.gov.uk"
	case strings.HasPrefix(hostPart, "*."):
		r.Wildcard, hostPart = true, hostPart[2:]
	}
	if strings.IndexByte(hostPart, '*') >= 0 {
		return r, "wildcard must be the first label: *.example.gov.uk"
	}
	host, kind, msg := normHost(hostPart)
	if msg != "" {
		return r, "bad host: " + msg
	}
	r.Host = host
	if r.Wildcard {
		if kind != hostDomain {
			return r, "a wildcard cannot be used with an IP address"
		}
		if ps, _ := publicsuffix.PublicSuffix(host); ps == host {
			return r, fmt.Sprintf("*.%s would allow every site under the public suffix %s, which many unrelated owners share; name a domain one organisation owns, e.g. *.example.%s", host, host, host)
		}
	}
	r.Port = defaultPort(scheme)
	if hasPort {
		p, ok := parsePort(portPart)
		switch {
		case !ok || p == 0:
			return r, "the port must be a number from 1 to 65535"
		case p < 0:
			return r, "the port is empty: leave out the ':' for the scheme's default port"
		}
		r.Port = p
	}
	if path != "" {
		if strings.IndexByte(path, '*') >= 0 {
			return r, "the path must not contain *: a path prefix already matches everything under it"
		}
		for _, seg := range strings.Split(path[1:], "/") {
			if isSingleDot(seg) || isDoubleDot(seg) {
				return r, "the path must not contain . or .. segments"
			}
		}
		p := normPath(path, true)
		if ambiguousPath(p) {
			return r, "the path must not contain encoded slashes, backslashes or dots (%2F, %5C, %252E), overlong UTF-8 (%C0, %C1) or ..; segments"
		}
		r.Path = strings.TrimRight(p, "/")
	}
	return r, ""
}
