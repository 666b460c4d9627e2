package ident

import (
	"strings"
	"testing"
)

func TestClasses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     Class
		good  []string
		wrong []string
	}{
		{"Label", Label,
			[]string{"a", "r-1", "kiosk_gone", "v1.2+3", "x:y", strings.Repeat("a", 64)},
			[]string{"", "a b", "ü", "a/b", "<script>", strings.Repeat("a", 65)}},
		{"UserName", UserName,
			[]string{"alice", "it.officer@council", "a_b-c"},
			[]string{"", "alice smith", "a:b", "a+b", strings.Repeat("a", 65)}},
		{"Reason", Reason,
			[]string{"idle", "fleet_command", "x1"},
			[]string{"", "Idle", "a-b", "a b", strings.Repeat("a", 65)}},
		{"SiteID", SiteID,
			[]string{"central", "1st-floor", "central-library"},
			[]string{"", "-x", "Central", "a_b", strings.Repeat("a", 64)}},
		{"HostnamePrefix", HostnamePrefix,
			[]string{"kiosk", "riverside-2", "a"},
			[]string{"", "1kiosk", "-kiosk", "kiosk-", "Kiosk", "a_b", strings.Repeat("a", 51)}},
		{"Version", Version,
			[]string{"1.2.3", "2025.04.1+git.abc", "v1_rc-2"},
			[]string{"", ".hidden", "-x", "1/2", "a b", strings.Repeat("1", 65)}},
		{"Secret", Secret,
			[]string{"ake_ABCDEFGH", "akapi_x-y.z~!"},
			[]string{"short", "has space inside", "tab\tinside", "ü-not-ascii", strings.Repeat("a", 257)}},
		{"Text", Text,
			[]string{"", "Central Library", "tab\there", "Llyfrgell Ganolog – ŵ", "مكتبة المدينة", "日本語", strings.Repeat("a", 500)},
			[]string{"new\nline", "cr\r", "nul\x00", "del\x7f", "c1\u0085", "csi\u009b31m", "rlo\u202egnp.exe", "lre\u202a", "isolate\u2067",
				"lrm\u200e", "alm\u061c", "ls\u2028", "ps\u2029", strings.Repeat("a", 501)}},
		{"VolunteerCode", VolunteerCode,
			[]string{"01234567"},
			[]string{"1234567", "123456789", "1234567a", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.good {
				if !tc.c.Valid(s) {
					t.Errorf("Valid(%q) = false, want true", s)
				}
			}
			for _, s := range tc.wrong {
				if tc.c.Valid(s) {
					t.Errorf("Valid(%q) = true, want false", s)
				}
			}
			if tc.c.String() == "" {
				t.Error("no description")
			}
		})
	}
}

func TestFirst(t *testing.T) {
	if r, bad := Text.First("disk \u202egnp.exe"); !bad || r != 0x202e {
		t.Errorf("First = %U, %v; want U+202E, true", r, bad)
	}
	if _, bad := Text.First("fine"); bad {
		t.Error("First found a bad character in fine text")
	}
}

func TestChars(t *testing.T) {
	if !Label.Chars("") || !Label.Chars(strings.Repeat("a", 200)) {
		t.Error("Chars checks characters only, not length")
	}
	if Label.Chars("a b") {
		t.Error("Chars let a space through")
	}
}
