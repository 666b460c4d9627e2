package debcopyright

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestWrite writes the copyright file of a package holding this test
// binary (whose module list is Go's own) and an npm package, and checks
// what a reader of the file relies on.
func TestWrite(t *testing.T) {
	if _, err := exec.LookPath("licensecheck"); err != nil {
		t.Fatal("licensecheck not installed (make deps)")
	}
	npm := filepath.Join(t.TempDir(), "node_modules", "widget")
	os.MkdirAll(npm, 0o755)
	os.WriteFile(filepath.Join(npm, "package.json"), []byte(`{"name": "widget", "version": "1.2.3", "license": "MIT", "author": {"name": "Widget Team"}}`), 0o644)
	os.WriteFile(filepath.Join(npm, "README.md"), []byte("# Widget\n\n## Licence\n\nReleased under the MIT License.\n\n## Other\n"), 0o644)
	o := Options{
		Package: "accesskiosk-test", License: "Apache-2.0", Copyright: "Access Kiosk authors",
		Binaries: map[string]string{"/usr/bin/accesskiosk-test": os.Args[0]},
		NPM:      map[string][]string{npm: {"/usr/bin/accesskiosk-test"}},
		ModCache: t.TempDir(), GoRoot: runtime.GOROOT(),
	}
	var b bytes.Buffer
	if err := Write(&b, o); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
		"\nFiles: *\nCopyright: Access Kiosk authors\nLicense: Apache-2.0\n",
		"\nFiles: go/*\nCopyright: 2009 The Go Authors",
		"License: BSD-3-clause\n LICENSE:\n .\n Copyright 2009 The Go Authors.",
		"\nFiles: npm/widget/*\nCopyright: Widget Team\nLicense: Expat\n README.md, \"Licence\":\n .\n Released under the MIT License.\n .\n",
		"Comment: npm package widget 1.2.3, compiled into the assets embedded in /usr/bin/accesskiosk-test.",
		"\nLicense: Apache-2.0\n On Debian systems, the complete text of this licence can be found in\n /usr/share/common-licenses/Apache-2.0.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("copyright file lacks %q:\n%s", want, got)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, " ") && strings.TrimSpace(l) == "" {
			t.Errorf("a blank continuation line (want \" .\"): %q", l)
		}
	}

	// A licence licensecheck cannot name stops the build.
	os.WriteFile(filepath.Join(npm, "LICENSE"), []byte("You may do what the moon allows.\n"), 0o644)
	if err := Write(&b, o); err == nil || !strings.Contains(err.Error(), "cannot name the licence") {
		t.Errorf("unknown licence: err = %v, want cannot name the licence", err)
	}
	// So does an npm package with neither a licence file nor MIT.
	os.Remove(filepath.Join(npm, "LICENSE"))
	os.WriteFile(filepath.Join(npm, "package.json"), []byte(`{"name": "widget", "version": "1.2.3", "license": "UNLICENSED"}`), 0o644)
	if err := Write(&b, o); err == nil || !strings.Contains(err.Error(), "no licence file") {
		t.Errorf("no licence: err = %v, want no licence file", err)
	}
}
