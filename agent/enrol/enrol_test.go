package enrol

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadIdentity(dir); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("empty dir: %v", err)
	}
	want := Identity{DeviceID: "d1", Credential: "d1.s", Site: "central"}
	if err := SaveIdentity(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadIdentity(dir)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v", got, err)
	}
	os.Chmod(filepath.Join(dir, IdentityFile), 0o644)
	if _, err := LoadIdentity(dir); err == nil {
		t.Errorf("a world-readable credential was accepted")
	}
}
