package api

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckEnrolToken(t *testing.T) {
	good := EnrolTokenPrefix + strings.Repeat("a2", 26)
	if err := CheckEnrolToken(good); err != nil {
		t.Fatalf("a well-formed token: %v", err)
	}
	staff := StaffTokenPrefix + strings.Repeat("b3", 26)
	for _, tc := range []struct {
		name, token, want string
	}{
		{"staff token", staff, "staff API token"},
		{"truncated", good[:40], "was it cut short"},
		{"too long", good + "x", "pasted after it"},
		{"other prefix", "ak1_" + good[4:], "starts with ake_"},
		{"upper case", strings.ToUpper(good[:10]) + good[10:], "starts with ake_"},
		{"bad character", good[:20] + "!" + good[21:], "lower-case letters"},
		{"digit 9", good[:20] + "9" + good[21:], "digits 2 to 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckEnrolToken(tc.token)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.token[4:]) {
				t.Errorf("the error repeats the token: %v", err)
			}
		})
	}
	if !errors.Is(CheckEnrolToken(staff), ErrStaffToken) {
		t.Error("a staff token is not ErrStaffToken")
	}
}
