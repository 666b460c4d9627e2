// deb-copyright writes the machine-readable Debian copyright file of one
// accesskiosk-* package (images/debcopyright) to standard output:
//
//	deb-copyright -package accesskiosk-kiosk -bin /usr/bin/accesskiosk-kiosk=out/bin/kiosk \
//	    -npm node_modules/govuk-frontend=/usr/bin/accesskiosk-kiosk
//
// images/deb/build.sh runs it for every package it builds.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"accesskiosk/images/debcopyright"
)

type pairs map[string][]string

func (p pairs) String() string { return fmt.Sprint(map[string][]string(p)) }
func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	p[k] = append(p[k], v)
	return nil
}

func main() {
	o := debcopyright.Options{}
	bins, npm := pairs{}, pairs{}
	flag.StringVar(&o.Package, "package", "", "Debian package name")
	flag.StringVar(&o.Source, "source", "https://github.com/accesskiosk/accesskiosk", "upstream address")
	flag.StringVar(&o.License, "license", "Apache-2.0", "the project's own licence (DEP-5 short name)")
	flag.StringVar(&o.Copyright, "copyright", "Access Kiosk authors", "the project's copyright holders")
	flag.Var(bins, "bin", "INSTALLED=BUILT: a program in the package and its built file (repeatable)")
	flag.Var(npm, "npm", "node_modules/NAME=INSTALLED: an npm package compiled into a program's assets (repeatable)")
	flag.Parse()
	if o.Package == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: deb-copyright -package NAME -bin INSTALLED=BUILT ... [-npm DIR=INSTALLED ...]")
		os.Exit(2)
	}
	o.Binaries = map[string]string{}
	for k, v := range bins {
		o.Binaries[k] = v[len(v)-1]
	}
	o.NPM = npm
	for _, v := range []struct {
		name string
		dst  *string
	}{{"GOMODCACHE", &o.ModCache}, {"GOROOT", &o.GoRoot}} {
		out, err := exec.Command("go", "env", v.name).Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "deb-copyright: go env %s: %v\n", v.name, err)
			os.Exit(1)
		}
		*v.dst = strings.TrimSpace(string(out))
	}
	if err := debcopyright.Write(os.Stdout, o); err != nil {
		fmt.Fprintf(os.Stderr, "deb-copyright: %s: %v\n", o.Package, err)
		os.Exit(1)
	}
}
