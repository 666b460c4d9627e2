// Package discovery is the agent's mDNS / DNS-SD side, on
// github.com/grandcat/zeroconf: it advertises the kiosk as
// _accesskiosk._tcp with TXT records (device id, site, version, state) so
// IT staff and the fleet can find it without typing addresses, and browses
// _accesskiosk-fleet._tcp to find the fleet server when none is
// configured. A discovered fleet is trusted only if its TLS certificate has
// the SHA-256 fingerprint given at provisioning: anyone on a library LAN can
// answer mDNS.
//
// Design notes on zeroconf (see DESIGN.md): a Resolver is single-use, so
// every browse makes a new one; the advertisement is registered without
// fixed addresses, so each answer carries the addresses of the interface
// the query came in on, and the advertiser re-registers (which announces
// again) when the interfaces' addresses change. Close withdraws the
// advertisement (a goodbye with TTL 0).
package discovery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grandcat/zeroconf"
	"github.com/sirupsen/logrus"

	"accesskiosk/internal/backoff"
	"accesskiosk/internal/clock"
	"accesskiosk/internal/pin"
)

// Service types.
const (
	KioskService = "_accesskiosk._tcp"
	FleetService = "_accesskiosk-fleet._tcp"
	Domain       = "local."
)

// TXT keys of the kiosk advertisement.
const (
	TxtVersion  = "txtvers" // of this TXT layout: "1"
	TxtDeviceID = "id"
	TxtSite     = "site"
	TxtAgent    = "version"
	TxtState    = "state"
)

// Info is what the kiosk advertisement says.
type Info struct {
	DeviceID string // "" before enrolment
	Site     string
	Version  string
	State    string // kiosk state (kiosk/bus states, or "gone")
}

func txtValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Text returns the TXT strings for i.
func (i Info) Text() []string {
	return []string{
		TxtVersion + "=1",
		TxtDeviceID + "=" + txtValue(i.DeviceID),
		TxtSite + "=" + txtValue(i.Site),
		TxtAgent + "=" + txtValue(i.Version),
		TxtState + "=" + txtValue(i.State),
	}
}

// ParseText reads TXT strings back into an Info.
func ParseText(txt []string) Info {
	var i Info
	for _, kv := range txt {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case TxtDeviceID:
			i.DeviceID = v
		case TxtSite:
			i.Site = v
		case TxtAgent:
			i.Version = v
		case TxtState:
			i.State = v
		}
	}
	return i
}

// Interfaces returns the named interfaces, or every up, multicast-capable,
// non-loopback interface when names is empty.
func Interfaces(names []string) ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []net.Interface
	for _, ifc := range all {
		if len(names) > 0 {
			if slices.Contains(names, ifc.Name) {
				out = append(out, ifc)
			}
			continue
		}
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagMulticast != 0 && ifc.Flags&net.FlagLoopback == 0 {
			out = append(out, ifc)
		}
	}
	if len(names) > 0 && len(out) != len(names) {
		return out, fmt.Errorf("network interfaces %v: some do not exist", names)
	}
	return out, nil
}

// addrKey summarises the interfaces and their addresses, to notice changes.
func addrKey(ifaces []net.Interface) string {
	var b strings.Builder
	for _, ifc := range ifaces {
		b.WriteString(ifc.Name)
		b.WriteByte('=')
		addrs, _ := ifc.Addrs()
		var s []string
		for _, a := range addrs {
			s = append(s, a.String())
		}
		slices.Sort(s)
		b.WriteString(strings.Join(s, ","))
		b.WriteByte(';')
	}
	return b.String()
}

// AdvertiseOptions configure an Advertiser.
type AdvertiseOptions struct {
	Service  string // KioskService unless set (FleetService for a fleet)
	Instance string // instance name; "" means the host name
	Port     int    // SRV port; 0 means 9
	Ifaces   []string
	Recheck  time.Duration // address check period; 0 means 30s
	Log      logrus.FieldLogger
}

// Advertiser keeps an mDNS advertisement up to date until Close.
type Advertiser struct {
	o      AdvertiseOptions
	host   string
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	srv      *zeroconf.Server
	text     []string
	key      string
	announce int
}

// Advertise starts advertising with TXT text. It fails when no interface
// can carry mDNS.
func Advertise(ctx context.Context, o AdvertiseOptions, text []string) (*Advertiser, error) {
	if o.Service == "" {
		o.Service = KioskService
	}
	if o.Port == 0 {
		o.Port = 9
	}
	if o.Recheck <= 0 {
		o.Recheck = 30 * time.Second
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		o.Log = l
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("advertise: host name: %w", err)
	}
	if o.Instance == "" {
		o.Instance = host
	}
	a := &Advertiser{o: o, host: host, text: text, done: make(chan struct{})}
	if err := a.register(); err != nil {
		return nil, err
	}
	ctx, a.cancel = context.WithCancel(ctx)
	go a.watch(ctx)
	return a, nil
}

func (a *Advertiser) register() error {
	ifaces, err := Interfaces(a.o.Ifaces)
	if err != nil {
		return fmt.Errorf("advertise: %w", err)
	}
	if len(ifaces) == 0 {
		return errors.New("advertise: no multicast-capable network interface is up")
	}
	// No fixed addresses: each answer carries the addresses of the
	// interface the query arrived on.
	srv, err := zeroconf.RegisterProxy(a.o.Instance, a.o.Service, Domain, a.o.Port, a.host, nil, a.text, ifaces)
	if err != nil {
		return fmt.Errorf("advertise %s: %w", a.o.Service, err)
	}
	a.srv, a.key = srv, addrKey(ifaces)
	a.announce++
	return nil
}

func (a *Advertiser) watch(ctx context.Context) {
	defer close(a.done)
	// A failed re-announcement is tried again sooner than the next check,
	// backing off up to the check period.
	retry := backoff.Backoff{Min: min(5*time.Second, a.o.Recheck), Max: a.o.Recheck}
	wait := a.o.Recheck
	for {
		if clock.Sleep(ctx, nil, wait) != nil {
			return
		}
		wait = a.o.Recheck
		ifaces, err := Interfaces(a.o.Ifaces)
		key := addrKey(ifaces)
		a.mu.Lock()
		if err == nil && key != a.key {
			a.o.Log.WithField("interfaces", key).Info("network addresses changed; announcing again")
			if a.srv != nil {
				a.srv.Shutdown()
				a.srv = nil
			}
			if err := a.register(); err != nil {
				a.o.Log.WithError(err).Warn("re-announce failed; trying again")
				wait = retry.Next()
			} else {
				retry.Reset()
			}
		}
		a.mu.Unlock()
	}
}

// SetText replaces the TXT records and announces them (used when the
// kiosk's state or the device's id changes).
func (a *Advertiser) SetText(text []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.Equal(text, a.text) {
		return
	}
	a.text = text
	if a.srv != nil {
		a.srv.SetText(text)
	}
}

// Announcements is how many times the advertisement was registered
// (1 + re-announcements after address changes).
func (a *Advertiser) Announcements() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.announce
}

// Close withdraws the advertisement.
func (a *Advertiser) Close() {
	a.cancel()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv != nil {
		a.srv.Shutdown()
		a.srv = nil
	}
}

// Entry is one service found by Browse.
type Entry struct {
	Instance string
	Host     string
	Port     int
	Addrs    []net.IP
	Text     []string
}

// Browse looks for service on the interfaces named (all when empty) and
// delivers each entry found on the returned channel until ctx ends (then
// the channel is closed).
func Browse(ctx context.Context, service string, ifaceNames []string) (<-chan Entry, error) {
	ifaces, err := Interfaces(ifaceNames)
	if err != nil {
		return nil, err
	}
	if len(ifaces) == 0 {
		return nil, errors.New("browse: no multicast-capable network interface is up")
	}
	// A Resolver is single-use: a new one per browse.
	res, err := zeroconf.NewResolver(zeroconf.SelectIfaces(ifaces))
	if err != nil {
		return nil, fmt.Errorf("browse %s: %w", service, err)
	}
	in := make(chan *zeroconf.ServiceEntry, 16)
	if err := res.Browse(ctx, service, Domain, in); err != nil {
		return nil, fmt.Errorf("browse %s: %w", service, err)
	}
	out := make(chan Entry, 16)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-in:
				if !ok {
					return
				}
				en := Entry{Instance: unescape(e.Instance), Host: e.HostName, Port: e.Port, Text: e.Text}
				en.Addrs = append(en.Addrs, e.AddrIPv4...)
				for _, ip := range e.AddrIPv6 {
					if !ip.IsLinkLocalUnicast() { // needs a zone zeroconf does not give
						en.Addrs = append(en.Addrs, ip)
					}
				}
				select {
				case out <- en:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// unescape undoes DNS presentation escapes (backslash-space, backslash-dot, backslash-DDD) in an
// instance name as zeroconf hands it over.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n, _ := strconv.Atoi(s[i+1 : i+4])
			b.WriteByte(byte(n))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ErrNoFleet means no trustworthy fleet answered before the search ended.
var ErrNoFleet = errors.New("no fleet server with the provisioned certificate found on the local network")

// FindFleet browses for the fleet and returns the base URL
// (https://ADDR:PORT) of the first one whose TLS certificate matches
// fingerprint. Fleets with another certificate are refused and logged; if
// only such fleets answered, the error wraps pin.ErrMismatch.
func FindFleet(ctx context.Context, ifaceNames []string, fingerprint pin.Fingerprint, log logrus.FieldLogger) (string, error) {
	if fingerprint.IsZero() {
		return "", errors.New("find fleet: no fingerprint provisioned; refusing to trust a server found by mDNS")
	}
	if log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		log = l
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	entries, err := Browse(ctx, FleetService, ifaceNames)
	if err != nil {
		return "", fmt.Errorf("find fleet: %w", err)
	}
	var refused error
	for e := range entries {
		for _, ip := range e.Addrs {
			addr := net.JoinHostPort(ip.String(), strconv.Itoa(e.Port))
			err := checkPin(ctx, addr, fingerprint)
			if err == nil {
				return "https://" + addr, nil
			}
			log.WithError(err).WithField("addr", addr).Warn("refusing a fleet server found by mDNS")
			refused = err
		}
	}
	if refused != nil {
		return "", fmt.Errorf("%w; last refused: %w", ErrNoFleet, refused)
	}
	return "", ErrNoFleet
}

func checkPin(ctx context.Context, addr string, fp pin.Fingerprint) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: fp.TLSConfig()}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
