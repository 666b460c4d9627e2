// Package volunteer is the kiosk's assisted-digital mode: a volunteer
// unlocks it beside a resident, the session's idle timeout grows, the guide
// panel opens with a service picker, and at hand-over the volunteer records
// in two taps what was helped with and how it went. Nothing about the
// resident is asked or stored; the receipt carries identifiers from the
// kiosk config and nothing else.
//
// The pieces:
//
//   - Config, the `volunteer:` section of the kiosk config (PIN hash,
//     assisted idle timeout, lockout, service categories), checked with
//     Config.Validate so errors read "kiosk.yaml:12: volunteer.pin_hash: ...".
//   - HashPIN and ParsePINHash: argon2id PIN hashes in the PHC string format
//     ("$argon2id$v=19$m=19456,t=2,p=1$salt$key"); `bin/kiosk volunteer
//     hash-pin` prints one for the config.
//   - Gate: unlocking by PIN or by a short one-time code issued from the
//     fleet console, with constant-time comparison, rate limiting and a
//     bounded lockout the UI shows as "locked for N minutes". It takes its
//     clock from the caller.
//   - The outcome vocabulary (Outcomes: done, needs_follow_up,
//     referred_elsewhere) and Config.Categories, and Config.Receipt, which
//     turns the end of a session into the receipt's Assisted, Category and
//     Outcome fields, dropping anything not in the vocabulary.
//
// The flow the shell follows: a volunteer taps "Volunteer" and enters a PIN
// or code; Gate.Unlock says yes (start an assisted session: idle timeout
// Config.IdleTimeout(), guide panel with the picker), no (AttemptsLeft), or
// locked (LockedFor). At "Hand over" the outcome screen asks for a category
// and an outcome (each skippable); the session then ends with the normal
// full wipe and reason bus.ReasonHandover, and Config.Receipt fills the
// receipt's three fields.
package volunteer

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"accesskiosk/internal/confile"
)

// Config is the `volunteer:` section of the kiosk config. Every field's
// comment says what its zero value means; start from DefaultConfig, decode
// the file over it, then call Validate.
type Config struct {
	// PINHash is the argon2id hash of the volunteers' PIN, as printed by
	// `bin/kiosk volunteer hash-pin` ("$argon2id$v=19$..."). "" means no PIN:
	// only one-time codes from the fleet console unlock volunteer mode.
	PINHash string `yaml:"pin_hash"`
	// AssistedIdleTimeout is how long an assisted session may sit without
	// input before the "Are you still there?" warning; between 1m and
	// MaxAssistedIdleTimeout, and not shorter than session.idle_timeout.
	// 0 means DefaultAssistedIdleTimeout.
	AssistedIdleTimeout time.Duration `yaml:"assisted_idle_timeout"`
	// MaxFailures is how many wrong PINs or codes in a row lock volunteer
	// mode; 0 means DefaultMaxFailures. At most 20.
	MaxFailures int `yaml:"max_failures"`
	// Lockout is how long the first lockout lasts; each further lockout
	// without a correct entry in between doubles it, up to MaxLockout.
	// 0 means DefaultLockout.
	Lockout time.Duration `yaml:"lockout"`
	// MaxLockout bounds the doubling; 0 means DefaultMaxLockout. At most 24h.
	MaxLockout time.Duration `yaml:"max_lockout"`
	// Categories are the services a volunteer can say they helped with, in
	// the order the picker shows them. Empty means DefaultCategories.
	Categories []Category `yaml:"categories"`
}

// Category is one service a volunteer helps with.
type Category struct {
	// ID is what receipts and reports carry: lower-case letters, digits and
	// underscores, at most 32 characters ("council_tax"). Required, unique.
	ID string `yaml:"id"`
	// Label is what the picker shows, in English ("Council tax"). Required.
	Label string `yaml:"label"`
	// Translations of Label by language code (cy, pl); a missing language
	// shows the English label.
	Translations map[string]string `yaml:"translations"`
	// Guide is the ID of the guide the picker opens in the panel
	// ("pay-council-tax"); "" opens the guide index.
	Guide string `yaml:"guide"`
}

// Defaults and bounds.
const (
	DefaultAssistedIdleTimeout = 20 * time.Minute
	MinAssistedIdleTimeout     = time.Minute
	MaxAssistedIdleTimeout     = time.Hour
	DefaultMaxFailures         = 5
	maxMaxFailures             = 20
	DefaultLockout             = 5 * time.Minute
	DefaultMaxLockout          = time.Hour
	maxLockoutBound            = 24 * time.Hour
	maxCategories              = 40
	maxCategoryID              = 32
	maxLabel                   = 60
)

// DefaultCategories are the services the council's strategy names most
// often; they match the built-in guides.
func DefaultCategories() []Category {
	return []Category{
		{ID: "council_account", Label: "Council account", Guide: "create-council-account",
			Translations: map[string]string{"cy": "Cyfrif y cyngor", "pl": "Konto w urzędzie"}},
		{ID: "council_tax", Label: "Council tax", Guide: "pay-council-tax",
			Translations: map[string]string{"cy": "Treth gyngor", "pl": "Podatek lokalny"}},
		{ID: "benefits", Label: "Benefits and council tax reduction", Guide: "housing-benefit-council-tax-reduction",
			Translations: map[string]string{"cy": "Budd-daliadau a gostyngiad treth gyngor", "pl": "Zasiłki i ulga w podatku lokalnym"}},
		{ID: "bins_recycling", Label: "Bins and recycling", Guide: "report-missed-bin",
			Translations: map[string]string{"cy": "Biniau ac ailgylchu", "pl": "Śmieci i recykling"}},
		{ID: "parking", Label: "Parking permits", Guide: "apply-parking-permit",
			Translations: map[string]string{"cy": "Trwyddedau parcio", "pl": "Zezwolenia na parkowanie"}},
		{ID: "housing", Label: "Housing",
			Translations: map[string]string{"cy": "Tai", "pl": "Mieszkania"}},
		{ID: "digital_skills", Label: "Digital skills", Guide: "digital-skills-help",
			Translations: map[string]string{"cy": "Sgiliau digidol", "pl": "Umiejętności cyfrowe"}},
		{ID: "email_online_accounts", Label: "Email and online accounts",
			Translations: map[string]string{"cy": "E-bost a chyfrifon ar-lein", "pl": "E-mail i konta internetowe"}},
		{ID: "other", Label: "Something else",
			Translations: map[string]string{"cy": "Rhywbeth arall", "pl": "Coś innego"}},
	}
}

// DefaultConfig is volunteer mode with no PIN (codes from the console only),
// a 20-minute assisted idle timeout, 5 tries, a 5-minute first lockout and
// the default categories.
func DefaultConfig() Config {
	return Config{
		AssistedIdleTimeout: DefaultAssistedIdleTimeout,
		MaxFailures:         DefaultMaxFailures,
		Lockout:             DefaultLockout,
		MaxLockout:          DefaultMaxLockout,
		Categories:          DefaultCategories(),
	}
}

var (
	idRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	langRE = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// Validate checks c as decoded from a file. doc is the file's Doc (nil for
// a Config built in code), prefix the key c sits under ("volunteer"), and
// sessionIdle the kiosk's normal session.idle_timeout (0 to skip that
// check): an assisted session may not time out sooner than an unassisted
// one. Errors name the file, line and key.
func (c *Config) Validate(doc *confile.Doc, prefix string, sessionIdle time.Duration) error {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	if c.PINHash != "" {
		if _, err := ParsePINHash(c.PINHash); err != nil {
			return doc.Errorf(key("pin_hash"), "%v (make one with `kiosk volunteer hash-pin`)", err)
		}
	}
	if t := c.AssistedIdleTimeout; t != 0 {
		switch {
		case t < MinAssistedIdleTimeout || t > MaxAssistedIdleTimeout:
			return doc.Errorf(key("assisted_idle_timeout"), "%v is out of range: between %v and %v", t, MinAssistedIdleTimeout, MaxAssistedIdleTimeout)
		case sessionIdle > 0 && t < sessionIdle:
			return doc.Errorf(key("assisted_idle_timeout"), "%v is shorter than session.idle_timeout (%v): an assisted session must last at least as long", t, sessionIdle)
		}
	}
	if c.MaxFailures < 0 || c.MaxFailures > maxMaxFailures {
		return doc.Errorf(key("max_failures"), "%d is out of range: between 1 and %d (0 for the default, %d)", c.MaxFailures, maxMaxFailures, DefaultMaxFailures)
	}
	if c.Lockout < 0 || c.Lockout > maxLockoutBound {
		return doc.Errorf(key("lockout"), "%v is out of range: between 1s and %v (0 for the default, %v)", c.Lockout, maxLockoutBound, DefaultLockout)
	}
	if c.MaxLockout < 0 || c.MaxLockout > maxLockoutBound {
		return doc.Errorf(key("max_lockout"), "%v is out of range: between 1s and %v (0 for the default, %v)", c.MaxLockout, maxLockoutBound, DefaultMaxLockout)
	}
	if c.MaxLockout != 0 && c.lockout() > c.MaxLockout {
		return doc.Errorf(key("max_lockout"), "%v is shorter than lockout (%v)", c.MaxLockout, c.lockout())
	}
	if len(c.Categories) > maxCategories {
		return doc.Errorf(key("categories"), "%d categories; at most %d (the picker must fit on one screen)", len(c.Categories), maxCategories)
	}
	seen := map[string]int{}
	for i, cat := range c.Categories {
		ck := key(fmt.Sprintf("categories[%d]", i))
		switch {
		case cat.ID == "":
			return doc.Errorf(ck+".id", "each category needs an id (lower-case letters, digits, _)")
		case len(cat.ID) > maxCategoryID || !idRE.MatchString(cat.ID):
			return doc.Errorf(ck+".id", "%q is not an identifier: lower-case letters, digits and _, starting with a letter, at most %d characters (it goes into usage reports)", cat.ID, maxCategoryID)
		}
		if j, dup := seen[cat.ID]; dup {
			return doc.Errorf(ck+".id", "%q is also categories[%d]", cat.ID, j)
		}
		seen[cat.ID] = i
		if err := checkLabel(cat.Label); err != nil {
			return doc.Errorf(ck+".label", "%v", err)
		}
		for lang, l := range cat.Translations {
			if !langRE.MatchString(lang) {
				return doc.Errorf(ck+".translations."+lang, "%q is not a language code (cy, pl)", lang)
			}
			if err := checkLabel(l); err != nil {
				return doc.Errorf(ck+".translations."+lang, "%v", err)
			}
		}
		if cat.Guide != "" && !guideRE.MatchString(cat.Guide) {
			return doc.Errorf(ck+".guide", "%q is not a guide ID (lower-case letters, digits and -)", cat.Guide)
		}
	}
	return nil
}

var guideRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

func checkLabel(l string) error {
	switch {
	case strings.TrimSpace(l) == "":
		return fmt.Errorf("a label is required")
	case len([]rune(l)) > maxLabel:
		return fmt.Errorf("%q is too long for a button: at most %d characters", l, maxLabel)
	case strings.ContainsAny(l, "\n\r\t"):
		return fmt.Errorf("a label is one line")
	}
	return nil
}

// IdleTimeout is the idle timeout of an assisted session: the configured
// one, or DefaultAssistedIdleTimeout, never more than MaxAssistedIdleTimeout.
func (c *Config) IdleTimeout() time.Duration {
	t := c.AssistedIdleTimeout
	if t <= 0 {
		t = DefaultAssistedIdleTimeout
	}
	return min(max(t, MinAssistedIdleTimeout), MaxAssistedIdleTimeout)
}

func (c *Config) maxFailures() int {
	if c.MaxFailures <= 0 {
		return DefaultMaxFailures
	}
	return min(c.MaxFailures, maxMaxFailures)
}

func (c *Config) lockout() time.Duration {
	if c.Lockout <= 0 {
		return DefaultLockout
	}
	return min(c.Lockout, maxLockoutBound)
}

func (c *Config) maxLockout() time.Duration {
	if c.MaxLockout <= 0 {
		return max(DefaultMaxLockout, c.lockout())
	}
	return min(max(c.MaxLockout, c.lockout()), maxLockoutBound)
}

// CategoryList is the picker's categories: the configured ones, or
// DefaultCategories when none are configured.
func (c *Config) CategoryList() []Category {
	if len(c.Categories) == 0 {
		return DefaultCategories()
	}
	return c.Categories
}

// Category returns the category with the given ID.
func (c *Config) Category(id string) (Category, bool) {
	for _, cat := range c.CategoryList() {
		if cat.ID == id {
			return cat, true
		}
	}
	return Category{}, false
}

// LabelIn is the category's label in lang, or its English label.
func (cat Category) LabelIn(lang string) string {
	if l, ok := cat.Translations[lang]; ok && l != "" {
		return l
	}
	return cat.Label
}
