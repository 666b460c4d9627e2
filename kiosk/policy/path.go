package policy

import "strings"

// Byte classes for the path, query and fragment encoders.
var (
	unreserved [256]bool // ALPHA DIGIT - . _ ~ : never percent-encoded in a canonical path
	pathByte   [256]bool // kept as they are in a canonical path (unreserved, sub-delims, : @ /)
	queryByte  [256]bool // kept as they are in a canonical query or fragment
)

func init() {
	for c := 'a'; c <= 'z'; c++ {
		unreserved[c], unreserved[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		unreserved[c] = true
	}
	for _, c := range "-._~" {
		unreserved[c] = true
	}
	for c := range unreserved {
		pathByte[c] = unreserved[c]
	}
	for _, c := range "!$&'()*+,;=:@/" {
		pathByte[c] = true
	}
	for c := 0x21; c < 0x7f; c++ {
		queryByte[c] = true
	}
	for _, c := range "\"<>`#%" {
		queryByte[c] = false
	}
}

// normPath returns the canonical form of a URL path (the part from the
// first '/' up to '?' or '#'), the way a browser resolves it before
// sending the request, plus a canonical percent-encoding for comparison:
//
//   - in http(s) URLs (special) a backslash is a slash, as WebKit treats it;
//   - "." and ".." segments, also written %2e, are resolved;
//   - %XX of an unreserved character is decoded (%62rowse is browse), every
//     other escape is upper-cased, a stray '%' becomes %25, and bytes that
//     are not plain path characters (space, quotes, non-ASCII...) are
//     percent-encoded.
//
// Encoded slashes and backslashes (%2F, %5C) stay encoded; see
// ambiguousPath. An empty path is "/". A path already in canonical form is
// returned as it is, without allocating.
func normPath(p string, special bool) string {
	if p == "" {
		return "/"
	}
	if canonicalPath(p) {
		return p
	}
	if special {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	if p[0] != '/' {
		p = "/" + p
	}
	parts := strings.Split(p[1:], "/")
	out := make([]string, 0, len(parts))
	for i, seg := range parts {
		last := i == len(parts)-1
		switch {
		case isDoubleDot(seg):
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case isSingleDot(seg):
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, normSegment(seg))
		}
	}
	return "/" + strings.Join(out, "/")
}

// canonicalPath reports whether p starts with '/', holds only plain path
// bytes and has no "." or ".." segment.
func canonicalPath(p string) bool {
	if p[0] != '/' {
		return false
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			if !pathByte[p[i]] {
				return false
			}
			continue
		}
		if seg := p[start:i]; seg == "." || seg == ".." {
			return false
		}
		start = i + 1
	}
	return true
}

func isSingleDot(s string) bool {
	return s == "." || strings.EqualFold(s, "%2e")
}

func isDoubleDot(s string) bool {
	switch len(s) {
	case 2:
		return s == ".."
	case 4:
		return strings.EqualFold(s, ".%2e") || strings.EqualFold(s, "%2e.")
	case 6:
		return strings.EqualFold(s, "%2e%2e")
	}
	return false
}

// normSegment canonicalises the percent-encoding of one path segment.
func normSegment(seg string) string {
	var b strings.Builder
	b.Grow(len(seg) + 8)
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c == '%' && i+2 < len(seg) && isHex(seg[i+1]) && isHex(seg[i+2]):
			v := unhex(seg[i+1])<<4 | unhex(seg[i+2])
			if unreserved[v] {
				b.WriteByte(v)
			} else {
				writeEscape(&b, v)
			}
			i += 2
		case c != '%' && pathByte[c]:
			b.WriteByte(c)
		default:
			writeEscape(&b, c)
		}
	}
	return b.String()
}

// normQuery canonicalises a query or fragment enough for net/url to parse
// it and for the result to be stable: bytes outside printable ASCII and a
// few delimiters are percent-encoded, valid escapes are upper-cased and a
// stray '%' becomes %25.
func normQuery(q string) string {
	plain := true
	for i := 0; i < len(q); i++ {
		if !queryByte[q[i]] {
			plain = false
			break
		}
	}
	if plain {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '%' && i+2 < len(q) && isHex(q[i+1]) && isHex(q[i+2]):
			writeEscape(&b, unhex(q[i+1])<<4|unhex(q[i+2]))
			i += 2
		case queryByte[c]:
			b.WriteByte(c)
		default:
			writeEscape(&b, c)
		}
	}
	return b.String()
}

func writeEscape(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}

// hasPathPrefix reports whether the canonical path p lies at or under the
// canonical prefix (which has no trailing slash): /browse matches /browse
// and /browse/x, not /browsers.
func hasPathPrefix(p, prefix string) bool {
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
}

// ambiguousPath reports whether a canonical path could mean a different
// path to a server than it does to the browser: an encoded slash or
// backslash (%2F, %5C), a double-encoded dot, slash or backslash (%252E...), an
// overlong UTF-8 lead byte (%C0, %C1, used for ".."), a fullwidth dot or
// slash, or a dot segment carrying parameters ("..;x", which Tomcat
// resolves as ".."). Such a path
// is never allowed by a path-prefix rule, because a server that decodes it
// again may serve something outside the prefix.
func ambiguousPath(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			// Fullwidth full stop, solidus and reverse solidus, and the
			// division slash: "best fit" decoders (IIS) read them as . / \.
			for _, e := range [...]string{"%EF%BC%8E", "%EF%BC%8F", "%EF%BC%BC", "%E2%88%95"} {
				if strings.HasPrefix(p[i:], e) {
					return true
				}
			}
			if i+2 < len(p) {
				switch p[i+1 : i+3] {
				case "2F", "5C", "C0", "C1":
					return true
				case "25":
					if i+4 < len(p) {
						if e := p[i+3 : i+5]; strings.EqualFold(e, "2E") || strings.EqualFold(e, "2F") || strings.EqualFold(e, "5C") ||
							strings.EqualFold(e, "C0") || strings.EqualFold(e, "C1") {
							return true
						}
					}
				}
			}
		case '/':
			seg := p[i+1:]
			if j := strings.IndexByte(seg, '/'); j >= 0 {
				seg = seg[:j]
			}
			if k := strings.IndexByte(seg, ';'); k >= 0 {
				if s := seg[:k]; s == "." || s == ".." {
					return true
				}
			}
		}
	}
	return false
}
