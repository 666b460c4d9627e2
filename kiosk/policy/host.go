package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// hostKind says what a normalised host is.
type hostKind uint8

const (
	hostDomain hostKind = iota // lower-case ASCII (punycode) domain name, no trailing dot
	hostIPv4                   // dotted-quad IPv4 address
	hostIPv6                   // IPv6 address in brackets
)

// maxHostLen bounds the work done on a host; DNS names are at most 253
// bytes, so anything longer cannot be reached anyway.
const maxHostLen = 253

// domainProfile maps a domain the way the WHATWG URL Standard's "domain to
// ASCII" does (UTS #46 non-transitional, CheckBidi, CheckJoiners, no
// CheckHyphens, no STD3 rules, no DNS length check), which is what WebKit,
// Chromium and Firefox do. Characters STD3 would refuse are refused
// afterwards by validDomainByte, more strictly than a browser.
var domainProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

// normHost returns the canonical form of the host part of a URL or rule:
// a lower-case punycode domain without a trailing dot, a dotted-quad IPv4
// address (from any of the decimal, hex, octal, short or mixed forms a
// browser accepts), or a bracketed IPv6 address. On failure msg says why.
func normHost(h string) (host string, kind hostKind, msg string) {
	if h == "" {
		return "", 0, "the host is empty"
	}
	if h[0] == '[' {
		return normIPv6(h)
	}
	if len(h) > 3*maxHostLen {
		return "", 0, "the host is too long"
	}
	host, msg = asciiDomain(h)
	if msg != "" {
		return "", 0, msg
	}
	// One trailing dot names the same host ("example.gov.uk.").
	if len(host) > 1 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	if host == "" || host == "." {
		return "", 0, "the host is empty"
	}
	if len(host) > maxHostLen {
		return "", 0, "the host is longer than 253 characters"
	}
	if endsInNumber(host) {
		ip, ok := parseIPv4(host)
		if !ok {
			return "", 0, "the host looks like an IPv4 address but is not a valid one"
		}
		return formatIPv4(host, ip), hostIPv4, ""
	}
	start := 0
	for i := 0; i <= len(host); i++ {
		if i == len(host) || host[i] == '.' {
			switch n := i - start; {
			case n == 0:
				return "", 0, "the host has an empty label (..)"
			case n > 63:
				return "", 0, "a label of the host is longer than 63 characters"
			}
			start = i + 1
		}
	}
	return host, hostDomain, ""
}

// asciiDomain percent-decodes h and maps it to lower-case ASCII (IDNA to
// punycode). Plain lower-case ASCII hosts are returned as they are, without
// allocating.
func asciiDomain(h string) (string, string) {
	plain, upper := true, false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'A' <= c && c <= 'Z':
			upper = true
		case validDomainByte(c):
		default:
			plain = false
		}
	}
	if plain && !hasPunycodeLabel(h) {
		if upper {
			h = strings.ToLower(h)
		}
		return h, ""
	}
	s := h
	if strings.IndexByte(s, '%') >= 0 {
		var ok bool
		if s, ok = percentDecode(s); !ok {
			return "", "the host has a bad percent-encoding"
		}
	}
	if !utf8.ValidString(s) {
		return "", "the host is not valid UTF-8"
	}
	out, err := domainProfile.ToASCII(s)
	if err != nil {
		return "", "the host is not a valid international domain name"
	}
	// The result must be a fixed point, or the same host could be
	// written two ways.
	if again, err := domainProfile.ToASCII(out); err != nil || again != out {
		return "", "the host is not a valid international domain name"
	}
	for i := 0; i < len(out); i++ {
		if !validDomainByte(out[i]) {
			return "", "the host contains a character not allowed in a host name (" + strconv.QuoteRune(rune(out[i])) + ")"
		}
	}
	return out, ""
}

// validDomainByte reports whether c may appear in a normalised domain:
// lower-case letters, digits, hyphen, underscore and the label dot.
func validDomainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_'
}

// hasPunycodeLabel reports whether a label of h starts with "xn--" (any
// case); such labels must be decoded and checked by IDNA.
func hasPunycodeLabel(h string) bool {
	for i := 0; i+4 <= len(h); i++ {
		if (i == 0 || h[i-1] == '.') && strings.EqualFold(h[i:i+4], "xn--") {
			return true
		}
	}
	return false
}

// percentDecode decodes every %XX in s; ok is false on a '%' not followed
// by two hex digits.
func percentDecode(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// endsInNumber is the WHATWG URL Standard's "ends in a number" check: a
// host whose last label is a number is parsed as IPv4 (and is invalid if
// that fails), never looked up as a name.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := true
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			digits = false
			break
		}
	}
	if digits {
		return true
	}
	_, ok := ipv4Number(last)
	return ok
}

// ipv4Number parses one part of an IPv4 host as a browser does: 0x prefix
// for hex, a leading 0 for octal, decimal otherwise. Values above 2^32 are
// reported as 2^32 (too big for any position).
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if v <= 1<<32 {
			v = v*base + d
		}
		if v > 1<<32 {
			v = 1 << 32
		}
	}
	return v, true
}

// parseIPv4 is the WHATWG IPv4 parser: one to four parts, the last filling
// the remaining bytes ("127.1" is 127.0.0.1, "2130706433" too).
func parseIPv4(host string) (uint32, bool) {
	var nums [4]uint64
	n := 0
	for rest := host; ; {
		part, tail, more := strings.Cut(rest, ".")
		if !more && part == "" && n > 0 {
			break // one trailing dot
		}
		if n == 4 {
			return 0, false
		}
		v, ok := ipv4Number(part)
		if !ok {
			return 0, false
		}
		nums[n] = v
		n++
		if !more {
			break
		}
		rest = tail
	}
	for i := 0; i < n-1; i++ {
		if nums[i] > 255 {
			return 0, false
		}
	}
	if nums[n-1] >= 1<<(8*(5-n)) {
		return 0, false
	}
	ip := nums[n-1]
	for i := 0; i < n-1; i++ {
		ip += nums[i] << (8 * (3 - i))
	}
	return uint32(ip), true
}

// formatIPv4 returns ip in dotted-quad form, reusing orig when it already is.
func formatIPv4(orig string, ip uint32) string {
	var buf [15]byte
	b := buf[:0]
	for i := 3; i >= 0; i-- {
		b = strconv.AppendUint(b, uint64(ip>>(8*i)&0xff), 10)
		if i > 0 {
			b = append(b, '.')
		}
	}
	if string(b) == orig {
		return orig
	}
	return string(b)
}

// normIPv6 normalises a bracketed IPv6 host to "[" + compressed lower-case
// form + "]". Zones are refused: a browser refuses them too.
func normIPv6(h string) (string, hostKind, string) {
	if len(h) < 2 || h[len(h)-1] != ']' {
		return "", 0, "the IPv6 address has no closing ]"
	}
	in := h[1 : len(h)-1]
	if strings.IndexByte(in, '%') >= 0 {
		return "", 0, "the IPv6 address has a zone or percent-encoding"
	}
	a, err := netip.ParseAddr(in)
	if err != nil || !a.Is6() {
		return "", 0, "the host is not a valid IPv6 address"
	}
	s := a.String()
	if len(s) == len(in) && s == in {
		return h, hostIPv6, ""
	}
	return "[" + s + "]", hostIPv6, ""
}
