package volunteer

import (
	"accesskiosk/kiosk/bus"
)

// Outcomes a volunteer records at hand-over, as receipts and reports carry them.
const (
	OutcomeDone     = "done"               // the resident finished what they came to do
	OutcomeFollowUp = "needs_follow_up"    // more to do: another visit, a document to bring
	OutcomeReferred = "referred_elsewhere" // sent to another service (Citizens Advice, a council office)
)

// Outcome is one button of the outcome screen.
type Outcome struct {
	ID    string
	Label string
	// Translations of Label by language code.
	Translations map[string]string
}

// LabelIn is the outcome's label in lang, or its English label.
func (o Outcome) LabelIn(lang string) string {
	if l, ok := o.Translations[lang]; ok && l != "" {
		return l
	}
	return o.Label
}

// Outcomes is the fixed outcome vocabulary, in the order the screen shows it.
func Outcomes() []Outcome {
	return []Outcome{
		{ID: OutcomeDone, Label: "Done",
			Translations: map[string]string{"cy": "Wedi'i wneud", "pl": "Załatwione"}},
		{ID: OutcomeFollowUp, Label: "Needs follow-up",
			Translations: map[string]string{"cy": "Angen dilyniant", "pl": "Wymaga dalszej pomocy"}},
		{ID: OutcomeReferred, Label: "Referred elsewhere",
			Translations: map[string]string{"cy": "Wedi'i gyfeirio i rywle arall", "pl": "Skierowano gdzie indziej"}},
	}
}

// ValidOutcome reports whether id is one of Outcomes.
func ValidOutcome(id string) bool {
	return id == OutcomeDone || id == OutcomeFollowUp || id == OutcomeReferred
}

// End is how a session ended, as the shell knows it: whether a volunteer
// unlocked it, and the outcome screen's two taps ("" for each skipped).
// Category and Outcome come from a page (the outcome screen's script
// message), so they are untrusted until Config.Receipt has checked them.
type End struct {
	Assisted bool
	Category string
	Outcome  string
}

// Receipt fills r's Assisted, Category and Outcome from e. Only identifiers
// from the vocabulary get through: a category not among CategoryList, an
// outcome not among Outcomes, or either on an unassisted session, is
// dropped (left ""). It returns the names of the fields it dropped
// ("category", "outcome"), for a log line that never repeats the value.
func (c *Config) Receipt(r *bus.Receipt, e End) (dropped []string) {
	r.Assisted, r.Category, r.Outcome = e.Assisted, "", ""
	if e.Category != "" {
		if _, ok := c.Category(e.Category); ok && e.Assisted {
			r.Category = e.Category
		} else {
			dropped = append(dropped, "category")
		}
	}
	if e.Outcome != "" {
		if ValidOutcome(e.Outcome) && e.Assisted {
			r.Outcome = e.Outcome
		} else {
			dropped = append(dropped, "outcome")
		}
	}
	return dropped
}
