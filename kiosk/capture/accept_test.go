package capture

import (
	"slices"
	"testing"
)

// TestAccept checks accept matching the way a browser filters its file
// chooser for <input accept>: MIME types, wildcards, extensions, case,
// junk tokens.
func TestAccept(t *testing.T) {
	type want struct{ pdf, jpeg, png string } // extension given, "" = refused
	for _, tc := range []struct {
		accept string
		any    bool
		want   want
	}{
		{"", true, want{".pdf", ".jpg", ".png"}},
		{"application/pdf", false, want{".pdf", "", ""}},
		{"image/*", false, want{"", ".jpg", ".png"}},
		{"application/pdf,image/*", false, want{".pdf", ".jpg", ".png"}},
		{"  application/pdf ,\timage/*  ", false, want{".pdf", ".jpg", ".png"}},
		{"IMAGE/JPEG", false, want{"", ".jpg", ""}},
		{"image/png", false, want{"", "", ".png"}},
		{"image/jpg", false, want{"", ".jpg", ""}},             // common misspelling
		{"image/pjpeg", false, want{"", ".jpg", ""}},           // old IE name
		{"application/x-pdf", false, want{".pdf", "", ""}},     // old name
		{"application/pdf;q=0.9", false, want{".pdf", "", ""}}, // parameters ignored
		{".pdf", false, want{".pdf", "", ""}},
		{".PDF", false, want{".pdf", "", ""}},
		{".jpg,.png", false, want{"", ".jpg", ".png"}},
		{".jpeg", false, want{"", ".jpeg", ""}}, // the extension the site asked for
		{".JFIF", false, want{"", ".jfif", ""}},
		{"image/jpeg,.jpeg", false, want{"", ".jpeg", ""}},
		{".pdf,.doc,.docx", false, want{".pdf", "", ""}},
		{"video/*", false, want{"", "", ""}},
		{"audio/*,video/*", false, want{"", "", ""}},
		{"text/plain,.docx", false, want{"", "", ""}},
		{"*/*", true, want{".pdf", ".jpg", ".png"}},
		{"image/*,*/*", true, want{".pdf", ".jpg", ".png"}},
		// Tokens that are none of the three kinds are ignored; with no
		// valid token left, anything goes, as in browsers.
		{"pdf", true, want{".pdf", ".jpg", ".png"}},
		{"*/pdf", true, want{".pdf", ".jpg", ".png"}},
		{",,,", true, want{".pdf", ".jpg", ".png"}},
		{"image/ jpeg", true, want{".pdf", ".jpg", ".png"}},
		{".", true, want{".pdf", ".jpg", ".png"}},
		{"pdf,image/png", false, want{"", "", ".png"}},
		{"image/jp eg,.pdf", false, want{".pdf", "", ""}},
		{"image", true, want{".pdf", ".jpg", ".png"}},
		{"image/", true, want{".pdf", ".jpg", ".png"}},
		{"/pdf", true, want{".pdf", ".jpg", ".png"}},
		{"application/*", false, want{".pdf", "", ""}},
	} {
		a := ParseAccept(tc.accept)
		if a.Any() != tc.any {
			t.Errorf("ParseAccept(%q).Any() = %v, want %v", tc.accept, a.Any(), tc.any)
		}
		for _, c := range []struct {
			f    Format
			want string
		}{{PDF, tc.want.pdf}, {JPEG, tc.want.jpeg}, {PNG, tc.want.png}} {
			ext, ok := a.Match(c.f)
			if ok != (c.want != "") || ext != c.want {
				t.Errorf("accept %q, %s: got (%q, %v), want %q", tc.accept, c.f.MIME, ext, ok, c.want)
			}
		}
	}
}

func TestAcceptChoose(t *testing.T) {
	for _, tc := range []struct {
		accept string
		prefer []Format
		want   string // MIME, "" = none
		ext    string
	}{
		{"", []Format{PDF, JPEG, PNG}, "application/pdf", ".pdf"},
		{"image/*", []Format{PDF, JPEG, PNG}, "image/jpeg", ".jpg"},
		{"image/png,application/pdf", []Format{JPEG, PNG, PDF}, "image/png", ".png"},
		{".jpeg", []Format{JPEG}, "image/jpeg", ".jpeg"},
		{"video/*", []Format{PDF, JPEG, PNG}, "", ""},
		{"", nil, "", ""},
	} {
		f, ext, ok := ParseAccept(tc.accept).Choose(tc.prefer...)
		if ok != (tc.want != "") || f.MIME != tc.want || ext != tc.ext {
			t.Errorf("Choose(%q): got %q %q %v; want %q %q", tc.accept, f.MIME, ext, ok, tc.want, tc.ext)
		}
	}
}

// FuzzParseAccept: the attribute comes from a web page; parsing never
// panics, and a match always names one of the format's extensions.
func FuzzParseAccept(f *testing.F) {
	for _, s := range []string{"", "application/pdf,image/*", ".jpg", "*/*", "image/jpg;q=1", ",.,/,*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := ParseAccept(s)
		for _, fm := range Formats() {
			ext, ok := a.Match(fm)
			if ok && !slices.Contains(fm.Exts, ext) {
				t.Fatalf("accept %q: %s matched with extension %q", s, fm.MIME, ext)
			}
			if a.Any() && !ok {
				t.Fatalf("accept %q accepts anything but refused %s", s, fm.MIME)
			}
		}
	})
}
