package discovery

import "testing"

func TestText(t *testing.T) {
	in := Info{DeviceID: "dev-1", Site: "Central Library", Version: "1.0", State: "in_session"}
	if got := ParseText(in.Text()); got != in {
		t.Errorf("round trip = %+v, want %+v", got, in)
	}
	if got := ParseText(Info{Site: "a\nb\x00c"}.Text()); got.Site != "abc" {
		t.Errorf("control characters kept: %q", got.Site)
	}
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`kiosk\ dev-42`, "kiosk dev-42"},
		{`a\.b`, "a.b"},
		{`caf\195\169`, "café"},
		{`plain`, "plain"},
	} {
		if got := unescape(tc.in); got != tc.want {
			t.Errorf("unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
