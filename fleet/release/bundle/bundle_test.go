package bundle_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/fleet/release/bundle"
)

func tree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"bin/kiosk":             "#!kiosk",
		"bin/agent":             "#!agent",
		"units/kiosk.service":   "[Service]\n",
		"pages/home/index.html": "<h1>home</h1>",
	}
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if filepath.Dir(p) == "bin" {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildUnpackRoundTrip(t *testing.T) {
	src := tree(t)
	var a, b bytes.Buffer
	m, err := bundle.BuildTar(&a, src, bundle.Options{Version: "1.2.0", Arch: "amd64", Units: []string{"accesskiosk-kiosk.service"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.BuildTar(&b, src, bundle.Options{Version: "1.2.0", Arch: "amd64", Units: []string{"accesskiosk-kiosk.service"}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two builds of the same tree differ: not reproducible")
	}
	if got, want := len(m.Files), 4; got != want {
		t.Fatalf("files = %d, want %d", got, want)
	}
	dst := filepath.Join(t.TempDir(), "r")
	got, err := bundle.Unpack(bytes.NewReader(a.Bytes()), dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.2.0" {
		t.Errorf("version = %q", got.Version)
	}
	if _, err := bundle.Check(dst); err != nil {
		t.Errorf("check after unpack: %v", err)
	}
	st, err := os.Stat(filepath.Join(dst, "bin/kiosk"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("bin/kiosk mode = %v, %v; want 0755", st.Mode(), err)
	}
	// A file changed after unpacking is caught by Check.
	os.WriteFile(filepath.Join(dst, "bin/agent"), []byte("#!evil!"), 0o755)
	if _, err := bundle.Check(dst); !errors.Is(err, bundle.ErrBadBundle) {
		t.Errorf("check of a tampered tree: err = %v, want ErrBadBundle", err)
	}
}

// rawTar writes a tar whose manifest and entries the test controls.
func rawTar(t testing.TB, m bundle.Manifest, entries []tar.Header, bodies []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mj, _ := json.Marshal(m)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: bundle.ManifestName, Size: int64(len(mj)), Mode: 0o644})
	tw.Write(mj)
	for i, h := range entries {
		h := h
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(bodies[i]))
	}
	tw.Close()
	return buf.Bytes()
}

const helloSum = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" // sha256("hello")

func TestUnpackRefusesBadBundles(t *testing.T) {
	good := bundle.Manifest{Format: 1, Version: "1.0.0", Arch: "amd64", Files: []bundle.File{{Path: "bin/agent", Mode: 0o755, Size: 5, SHA256: helloSum}}}
	reg := func(name string, size int64) tar.Header {
		return tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o755}
	}
	with := func(f func(*bundle.Manifest)) bundle.Manifest {
		m := good
		m.Files = append([]bundle.File(nil), good.Files...)
		f(&m)
		return m
	}
	cases := []struct {
		name    string
		m       bundle.Manifest
		entries []tar.Header
		bodies  []string
	}{
		{"path leaves the bundle", with(func(m *bundle.Manifest) { m.Files[0].Path = "../etc/passwd" }), []tar.Header{reg("../etc/passwd", 5)}, []string{"hello"}},
		{"absolute path", with(func(m *bundle.Manifest) { m.Files[0].Path = "/etc/passwd" }), []tar.Header{reg("/etc/passwd", 5)}, []string{"hello"}},
		{"hash differs", good, []tar.Header{reg("bin/agent", 5)}, []string{"HELLO"}},
		{"entry not in manifest", good, []tar.Header{reg("bin/other", 5)}, []string{"hello"}},
		{"extra entry", good, []tar.Header{reg("bin/agent", 5), reg("bin/extra", 5)}, []string{"hello", "hello"}},
		{"symlink", good, []tar.Header{{Typeflag: tar.TypeSymlink, Name: "bin/agent", Linkname: "/bin/sh"}}, []string{""}},
		{"missing file", good, nil, nil},
		{"setuid mode", with(func(m *bundle.Manifest) { m.Files[0].Mode = 0o4755 }), []tar.Header{reg("bin/agent", 5)}, []string{"hello"}},
		{"bad version", with(func(m *bundle.Manifest) { m.Version = "../1" }), []tar.Header{reg("bin/agent", 5)}, []string{"hello"}},
		{"wrong format", with(func(m *bundle.Manifest) { m.Format = 2 }), []tar.Header{reg("bin/agent", 5)}, []string{"hello"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := rawTar(t, c.m, c.entries, c.bodies)
			_, err := bundle.Unpack(bytes.NewReader(data), filepath.Join(t.TempDir(), "r"), nil)
			if !errors.Is(err, bundle.ErrBadBundle) {
				t.Errorf("err = %v, want ErrBadBundle", err)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		data := rawTar(t, good, []tar.Header{reg("bin/agent", 5)}, []string{"hello"})
		if _, err := bundle.Unpack(bytes.NewReader(data), filepath.Join(t.TempDir(), "r"), nil); err != nil {
			t.Errorf("good bundle refused: %v", err)
		}
	})
}

func TestBuildRefusesSymlink(t *testing.T) {
	src := tree(t)
	os.Symlink("/etc/passwd", filepath.Join(src, "bin/link"))
	if _, err := bundle.BuildTar(&bytes.Buffer{}, src, bundle.Options{Version: "1", Arch: "amd64"}); err == nil {
		t.Error("a tree with a symlink was bundled")
	}
}

// FuzzManifest: whatever manifest a bundle carries, Validate either
// refuses it or every path it accepts stays inside the bundle, is listed
// once and is not both a file and a directory.
func FuzzManifest(f *testing.F) {
	f.Add(`{"format":1,"version":"1.0.0","arch":"amd64","files":[{"path":"bin/agent","mode":493,"size":5,"sha256":"` + helloSum + `"}]}`)
	f.Add(`{"format":1,"version":"1.0.0","arch":"amd64","files":[{"path":"../x","mode":420,"size":0,"sha256":"` + helloSum + `"}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		var m bundle.Manifest
		if json.Unmarshal([]byte(data), &m) != nil || m.Validate() != nil {
			return
		}
		seen := map[string]bool{}
		for _, fl := range m.Files {
			if strings.HasPrefix(fl.Path, "/") || strings.Contains("/"+fl.Path+"/", "/../") || strings.Contains(fl.Path, "\x00") {
				t.Fatalf("accepted path %q leaves the bundle", fl.Path)
			}
			if filepath.Clean(fl.Path) != fl.Path || seen[fl.Path] {
				t.Fatalf("accepted unclean or repeated path %q", fl.Path)
			}
			seen[fl.Path] = true
		}
		for p := range seen {
			for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
				if seen[d] {
					t.Fatalf("%q is both a file and a directory", d)
				}
			}
		}
	})
}
