package printing_test

import (
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/printing"
)

// kioskFile and agentFile show how the kiosk config and the agent config
// embed the section: the kiosk for printing, the agent for printer health.
type kioskFile struct {
	HomeURL  string          `yaml:"home_url"`
	Printing printing.Config `yaml:"printing"`
}

type agentFile struct {
	Fleet    string          `yaml:"fleet"`
	Printing printing.Config `yaml:"printing"`
}

func decodeKiosk(t *testing.T, yaml string) (*kioskFile, error) {
	t.Helper()
	var f kioskFile
	doc, err := confile.Decode("kiosk.yaml", []byte(yaml), &f)
	if err != nil {
		return nil, err
	}
	return &f, f.Printing.Validate(doc, "printing")
}

func TestConfigDefaultsAndEmbedding(t *testing.T) {
	f, err := decodeKiosk(t, `home_url: kiosk://home
printing:
  printer: ipp://printer.local/ipp/print
  cost: Free for council services
  translations:
    cy: {cost: Am ddim ar gyfer gwasanaethau'r cyngor}
`)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Printing
	want := printing.Config{
		Printer: "ipp://printer.local/ipp/print", MaxCopies: 3, PagesPerSession: 20, PagesPerDay: 300,
		JobsPerMinute: 3, Color: "auto", Release: "now", Cost: "Free for council services",
		Collect: printing.DefaultCollect, JobName: "Access Kiosk", User: "kiosk", Timeout: 30 * time.Second,
	}
	c.Translations = nil
	if got := c; !equalConfig(got, want) {
		t.Errorf("after Validate:\n got %+v\nwant %+v", got, want)
	}
	if got := f.Printing.CostText("cy"); got != "Am ddim ar gyfer gwasanaethau'r cyngor" {
		t.Errorf("CostText(cy) = %q", got)
	}
	if got := f.Printing.CostText("pl"); got != "Free for council services" {
		t.Errorf("CostText(pl) = %q, want the English fallback", got)
	}
	if got := f.Printing.CollectText("cy"); got != printing.DefaultCollect {
		t.Errorf("CollectText(cy) = %q, want the English fallback", got)
	}

	// The agent embeds the same type for printer health.
	var a agentFile
	doc, err := confile.Decode("agent.yaml", []byte("fleet: https://fleet.example\nprinting:\n  printer: ipps://10.0.0.9/ipp/print\n  tls_sha256: "+strings.Repeat("ab", 32)+"\n"), &a)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Printing.Validate(doc, "printing"); err != nil {
		t.Fatal(err)
	}
	if !a.Printing.Enabled() {
		t.Error("agent's printing not enabled")
	}

	// No printing section: printing is off and valid.
	f, err = decodeKiosk(t, "home_url: kiosk://home\n")
	if err != nil || f.Printing.Enabled() {
		t.Errorf("no printing section: err %v, enabled %v", err, f.Printing.Enabled())
	}
}

func equalConfig(a, b printing.Config) bool {
	a.Translations, b.Translations = nil, nil
	return a.Printer == b.Printer && a.MaxCopies == b.MaxCopies && a.PagesPerSession == b.PagesPerSession &&
		a.PagesPerDay == b.PagesPerDay && a.JobsPerMinute == b.JobsPerMinute && a.Color == b.Color &&
		a.Release == b.Release && a.Cost == b.Cost && a.Collect == b.Collect && a.JobName == b.JobName &&
		a.User == b.User && a.TLSSHA256 == b.TLSSHA256 && a.Timeout == b.Timeout
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"scheme", "  printer: http://printer.local/ipp/print\n", "kiosk.yaml:3: printing.printer: want an ipp:// or ipps:// URI"},
		{"no path", "  printer: ipp://printer.local\n", "kiosk.yaml:3: printing.printer: has no path"},
		{"credentials", "  printer: ipp://me:secret@printer.local/ipp/print\n", "kiosk.yaml:3: printing.printer: must not carry a user name or password"},
		{"query", "  printer: ipp://printer.local/ipp/print?x=1\n", "printing.printer: must not have a query"},
		{"port", "  printer: ipp://printer.local:99999/ipp/print\n", "printing.printer: "},
		{"unknown key", "  printer: ipp://p/ipp/print\n  colour: never\n", "kiosk.yaml:4: printing.colour: "},
		{"copies", "  printer: ipp://p/ipp/print\n  max_copies: 50\n", "kiosk.yaml:4: printing.max_copies: 50 is out of range: between 1 and 20"},
		{"negative", "  printer: ipp://p/ipp/print\n  pages_per_session: -1\n", "kiosk.yaml:4: printing.pages_per_session: -1 is out of range"},
		{"day below session", "  printer: ipp://p/ipp/print\n  pages_per_session: 50\n  pages_per_day: 40\n", "kiosk.yaml:5: printing.pages_per_day: 40 is less than pages_per_session (50)"},
		{"rate", "  printer: ipp://p/ipp/print\n  jobs_per_minute: 100\n", "kiosk.yaml:4: printing.jobs_per_minute: 100 is out of range"},
		{"release", "  printer: ipp://p/ipp/print\n  release: later\n", "kiosk.yaml:4: printing.release: want now or pin, got \"later\""},
		{"color", "  printer: ipp://p/ipp/print\n  color: always\n", "kiosk.yaml:4: printing.color: want auto or never"},
		{"cost too long", "  printer: ipp://p/ipp/print\n  cost: " + strings.Repeat("x", 201) + "\n", "kiosk.yaml:4: printing.cost: is 201 characters; at most 200"},
		{"translation language", "  printer: ipp://p/ipp/print\n  translations:\n    Welsh: {collect: x}\n", "kiosk.yaml:5: printing.translations.Welsh: want a language code"},
		{"translation without english", "  printer: ipp://p/ipp/print\n  translations:\n    cy: {cost: Am ddim}\n", "kiosk.yaml:5: printing.translations.cy.cost: is a translation of cost, which is not set"},
		{"job name blank", "  printer: ipp://p/ipp/print\n  job_name: '  '\n", "kiosk.yaml:4: printing.job_name: is blank"},
		{"user control", "  printer: ipp://p/ipp/print\n  user: \"a\\tb\"\n", "kiosk.yaml:4: printing.user: has a control character"},
		{"pin on ipp", "  printer: ipp://p/ipp/print\n  tls_sha256: " + strings.Repeat("ab", 32) + "\n", "kiosk.yaml:4: printing.tls_sha256: pins the certificate of an ipps:// printer, but printer is ipp://"},
		{"pin shape", "  printer: ipps://p/ipp/print\n  tls_sha256: ABCD\n", "kiosk.yaml:4: printing.tls_sha256: want a SHA-256 fingerprint"},
		{"timeout", "  printer: ipp://p/ipp/print\n  timeout: 1s\n", "kiosk.yaml:4: printing.timeout: 1s is out of range: between 2s and 5m0s"},
		{"timeout type", "  printer: ipp://p/ipp/print\n  timeout: soon\n", "kiosk.yaml:4: printing.timeout: "},
		{"keys without printer", "  max_copies: 2\n", "kiosk.yaml:3: printing.printer: is required when printing.max_copies is set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeKiosk(t, "home_url: kiosk://home\nprinting:\n"+tc.body)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n does not contain %q", err, tc.want)
			}
		})
	}
}
