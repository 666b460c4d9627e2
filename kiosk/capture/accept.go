package capture

import (
	"slices"
	"strings"
)

// Format is a kind of file Export can write.
type Format struct {
	MIME string
	// Exts are the file name extensions of the format, lower case with the
	// dot; the first is the usual one.
	Exts []string
	// MultiPage is true when one file holds every page.
	MultiPage bool
}

// The formats Export writes.
var (
	PDF  = Format{MIME: "application/pdf", Exts: []string{".pdf"}, MultiPage: true}
	JPEG = Format{MIME: "image/jpeg", Exts: []string{".jpg", ".jpeg", ".jpe", ".jfif"}}
	PNG  = Format{MIME: "image/png", Exts: []string{".png"}}
)

// Formats lists every format Export writes.
func Formats() []Format { return []Format{PDF, JPEG, PNG} }

// mimeAliases are MIME types sites write that mean a format we know by
// another name.
var mimeAliases = map[string]string{
	"image/jpg":         "image/jpeg",
	"image/pjpeg":       "image/jpeg",
	"application/x-pdf": "application/pdf",
	"image/x-png":       "image/png",
}

// Accept is a parsed <input accept> attribute.
//
// It follows the HTML standard's rules for the attribute: a comma-separated
// list of tokens, each a MIME type ("application/pdf"), a wildcard for a
// kind of media ("image/*"), or a file name extension (".pdf"), compared
// without regard to case. Tokens that are none of these are ignored, and a
// list with no valid token (or no attribute at all) accepts any file, as
// browsers do. On top of the standard, which leaves matching to the browser:
// MIME parameters (";q=1") are ignored, the common misspellings image/jpg,
// image/pjpeg, image/x-png and application/x-pdf stand for the real types,
// and "*/*" accepts anything.
type Accept struct {
	any   bool
	mimes []string // exact types, lower case
	kinds []string // "image" for image/*
	exts  []string // ".pdf"
}

// ParseAccept parses an accept attribute's value. It never fails: bad
// tokens are ignored.
func ParseAccept(s string) Accept {
	var a Accept
	for tok := range strings.SplitSeq(s, ",") {
		tok = strings.ToLower(strings.TrimSpace(tok))
		if tok == "" {
			continue
		}
		if strings.HasPrefix(tok, ".") {
			if len(tok) > 1 && !strings.ContainsAny(tok, " /\\*;\t") {
				a.exts = append(a.exts, tok)
			}
			continue
		}
		mt, _, _ := strings.Cut(tok, ";")
		mt = strings.TrimSpace(mt)
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || !isToken(typ) || !isToken(sub) {
			continue
		}
		switch {
		case typ == "*" && sub == "*":
			a.any = true
		case typ == "*":
			// "*/pdf" is not a valid token.
		case sub == "*":
			a.kinds = append(a.kinds, typ)
		default:
			if real, ok := mimeAliases[mt]; ok {
				mt = real
			}
			a.mimes = append(a.mimes, mt)
		}
	}
	if len(a.mimes) == 0 && len(a.kinds) == 0 && len(a.exts) == 0 {
		a.any = true
	}
	return a
}

// isToken reports whether s is an HTTP token (RFC 9110), the syntax of a
// MIME type's parts.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Any reports whether every file is accepted (no valid token, or "*/*").
func (a Accept) Any() bool { return a.any }

// Match reports whether a file of format f is accepted, and the extension
// to give its name: an extension the list names when it names one of f's,
// so that a site that checks names (".jpeg") gets the one it asked for;
// f's usual extension otherwise.
func (a Accept) Match(f Format) (ext string, ok bool) {
	for _, e := range a.exts {
		if slices.Contains(f.Exts, e) {
			return e, true
		}
	}
	if a.any || slices.Contains(a.mimes, f.MIME) {
		return f.Exts[0], true
	}
	kind, _, _ := strings.Cut(f.MIME, "/")
	if slices.Contains(a.kinds, kind) {
		return f.Exts[0], true
	}
	return "", false
}

// Choose returns the first format of prefer that a accepts, with the
// extension its file should have; ok is false when a accepts none.
func (a Accept) Choose(prefer ...Format) (f Format, ext string, ok bool) {
	for _, f := range prefer {
		if ext, ok := a.Match(f); ok {
			return f, ext, true
		}
	}
	return Format{}, "", false
}
