package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v3"

	"accesskiosk/agent/health"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/ipp"
	"accesskiosk/internal/pin"
)

// Printer health (issue 16): the agent asks the kiosk's printer over IPP
// (internal/ipp, the client the kiosk prints with) for its printer-state
// and printer-state-reasons on every interval and keeps the health
// registry's printer_* warnings as the printer says: printer_offline,
// printer_needs_paper, printer_jammed, printer_toner_low, ... (ipp.HealthCodes);
// a change is reported at once.
//
// The printer comes from IT's config files, not from the kiosk over D-Bus: the agent runs as root and takes the addresses it
// talks to from IT's configuration only, never from the process that runs
// web pages; the printer is watched when the kiosk is down or
// crash-looping, which is when staff most need to know; and the kiosk's
// Status stays free of URLs (DESIGN.md). IT name the printer once, in the
// kiosk's config (printing.printer): with printer.uri unset the agent reads
// that file (printer.kiosk_config, IT's file on the read-only root, never
// anything the kiosk process says); printer.uri, when set, wins.

// defaultPrinterTimeout bounds one question to the printer.
const defaultPrinterTimeout = 10 * time.Second

func (c *PrinterConfig) validate(doc *confile.Doc, reportInterval time.Duration) error {
	if c.URI == "" {
		if c.TLSSHA256 != "" {
			return doc.Errorf("printer.uri", "is required when printer.tls_sha256 is set")
		}
		return nil
	}
	if err := ipp.CheckURI(c.URI); err != nil {
		return doc.Errorf("printer.uri", "%v", err)
	}
	if c.TLSSHA256 != "" {
		if !strings.HasPrefix(c.URI, "ipps:") {
			return doc.Errorf("printer.tls_sha256", "pins the certificate of an ipps:// printer, but printer.uri is not ipps://")
		}
		if _, err := pin.Parse(c.TLSSHA256); err != nil {
			return doc.Errorf("printer.tls_sha256", "%v", err)
		}
	}
	switch {
	case c.Interval < 0:
		return doc.Errorf("printer.interval", "must not be negative")
	case c.Interval > 0 && c.Interval < time.Second:
		return doc.Errorf("printer.interval", "%v is too often: at least 1s", c.Interval)
	case c.Timeout < 0:
		return doc.Errorf("printer.timeout", "must not be negative")
	}
	interval := c.Interval
	if interval == 0 {
		interval = reportInterval
	}
	if c.Timeout > interval {
		return doc.Errorf("printer.timeout", "%v is longer than the interval (%v)", c.Timeout, interval)
	}
	return nil
}

// kioskPrinting is the part of the kiosk's config the agent reads.
type kioskPrinting struct {
	Printing struct {
		Printer   string `yaml:"printer"`
		TLSSHA256 string `yaml:"tls_sha256"`
	} `yaml:"printing"`
}

// printerTarget is the printer to watch: c itself when its uri is set
// (warning when the kiosk's config names another one), else the printer
// the kiosk's config names; a zero URI means none. Errors name the kiosk's
// file and key; the agent then runs without printer health.
func (c PrinterConfig) printerTarget(log logrus.FieldLogger) (PrinterConfig, error) {
	if c.KioskConfig == "" {
		return c, nil
	}
	b, err := os.ReadFile(c.KioskConfig)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil // no kiosk on this machine, or not configured yet
	}
	if err != nil {
		return PrinterConfig{}, fmt.Errorf("read the kiosk's config for its printer: %w", err)
	}
	var k kioskPrinting
	if err := yaml.Unmarshal(b, &k); err != nil {
		return PrinterConfig{}, fmt.Errorf("%s: %w", c.KioskConfig, err)
	}
	kp := k.Printing
	if c.URI != "" {
		if kp.Printer != "" && kp.Printer != c.URI {
			log.WithField("kiosk_config", c.KioskConfig).Warn("printer.uri names another printer than the kiosk's printing.printer; watching printer.uri")
		}
		return c, nil
	}
	if kp.Printer == "" {
		return c, nil // the kiosk does not print
	}
	if err := ipp.CheckURI(kp.Printer); err != nil {
		return PrinterConfig{}, fmt.Errorf("%s: printing.printer: %v", c.KioskConfig, err)
	}
	if kp.TLSSHA256 != "" {
		if _, err := pin.Parse(kp.TLSSHA256); err != nil {
			return PrinterConfig{}, fmt.Errorf("%s: printing.tls_sha256: %v", c.KioskConfig, err)
		}
	}
	c.URI, c.TLSSHA256 = kp.Printer, kp.TLSSHA256
	return c, nil
}

// watchPrinter asks the printer how it is every interval until ctx ends.
func (a *Agent) watchPrinter(ctx context.Context) error {
	c := a.cfg.Printer
	var fp pin.Fingerprint
	if c.TLSSHA256 != "" {
		fp, _ = pin.Parse(c.TLSSHA256) // validated
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = defaultPrinterTimeout
	}
	interval := c.Interval
	if interval == 0 {
		interval = a.cfg.Report.Interval
	}
	p, err := ipp.NewPrinter(c.URI, ipp.Options{Timeout: timeout, Pin: fp})
	if err != nil {
		return err // validated: never
	}
	log := a.log.WithField("component", "printer")
	t := time.NewTicker(interval)
	defer t.Stop()
	var last string
	for {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		ws := ipp.CheckHealth(cctx, p)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if now := a.setPrinterWarnings(ws); now != last {
			log.WithFields(logrus.Fields{"warnings": now, "was": last}).Info("printer state changed")
			last = now
			a.kick() // staff see it at the next report, now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// setPrinterWarnings makes the registry's printer_* warnings those of ws,
// and returns their codes (for the log: codes only).
func (a *Agent) setPrinterWarnings(ws []ipp.Warning) string {
	set := map[string]bool{}
	codes := ""
	for _, w := range ws {
		a.reg.Set(w.Code, health.Severity(w.Severity), "%s", w.Text)
		set[w.Code] = true
		if codes != "" {
			codes += ","
		}
		codes += w.Code
	}
	for _, code := range ipp.HealthCodes {
		if !set[code] {
			a.reg.Clear(code)
		}
	}
	return codes
}
