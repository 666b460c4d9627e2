package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Errorf("hash %q is not PHC argon2id", h)
	}
	h2, _ := Hash("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := Verify(tt.pw, h)
		if err != nil || got != tt.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, got, err, tt.want)
		}
	}
	if _, err := Hash("short"); !errors.Is(err, ErrTooShort) {
		t.Errorf("Hash(short) error = %v, want ErrTooShort", err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=9999999,t=1,p=1$AA$AA"} {
		if _, err := Verify("x", bad); err == nil {
			t.Errorf("Verify against %q: no error", bad)
		}
	}
}
