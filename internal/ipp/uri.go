package ipp

import (
	"fmt"
	"net/url"
)

// CheckURI accepts ipp:// and ipps:// URIs with a host and a path, and
// nothing a printer URI should not carry (credentials, a query); its
// errors say what is wrong, for a config key's message.
func CheckURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URI: %v", err)
	}
	switch {
	case u.Scheme != "ipp" && u.Scheme != "ipps":
		return fmt.Errorf("want an ipp:// or ipps:// URI such as ipp://printer.local/ipp/print, got %q", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("has no host: %q", s)
	case u.User != nil:
		return fmt.Errorf("must not carry a user name or password")
	case u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("must not have a query or fragment: %q", s)
	case u.Path == "" || u.Path == "/":
		return fmt.Errorf("has no path: an IPP Everywhere printer is usually ipp://HOST/ipp/print, a CUPS queue ipp://HOST:631/printers/NAME")
	}
	if p := u.Port(); p != "" {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not a port number", p)
		}
	}
	return nil
}
