package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"accesskiosk/internal/confile"
	"accesskiosk/internal/ident"
	"accesskiosk/kiosk/policy"
)

// Insights is what the kiosk counts for the fleet's Insights (issue 20)
// beyond what it always counts (guides by their id, the accessibility
// features, languages other than the default; home tiles by the id in
// ui.tiles[].tiles[].id): an id for allow rules, counted once a session
// when it reaches a page the rule lets through. The id is what the fleet
// counts and names (its insights.vocabulary.services); the address never
// leaves the kiosk.
//
//	insights:
//	  services:                                       # allow rule, as written under allow: its id
//	    https://www.camden.gov.uk/council-tax: council-tax
//	    https://*.gov.uk: gov-uk
//
// Several rules may share an id. When a page matches more than one rule
// with an id, the most specific counts: a host over a wildcard, then the
// longer path, then the longer host.
type Insights struct {
	Services map[string]string `yaml:"services"`

	services []serviceRule // parsed by validate, most specific first
}

type serviceRule struct {
	id   string
	rule policy.Rule
	list *policy.List // the one rule, to decide with
}

// validate checks every rule is one of allow's (same rule once
// normalised) and every id a label: letters, digits and . _ : -, at
// most 64.
func (in *Insights) validate(doc *confile.Doc, allow *policy.List) error {
	canon := map[string]bool{}
	for _, r := range allow.Rules() {
		canon[r.String()] = true
	}
	rules := make([]string, 0, len(in.Services))
	for r := range in.Services {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	in.services = nil
	for _, raw := range rules {
		key := fmt.Sprintf("insights.services[%q]", raw)
		id := in.Services[raw]
		if !ident.Label.Valid(id) || strings.Contains(id, "+") {
			return doc.Errorf(key, "want an id of letters, digits and . _ : - (at most 64), such as council-tax, got %q", id)
		}
		l, err := policy.Parse([]string{raw})
		if err != nil {
			return doc.Errorf(key, "not an allow rule: %v", err)
		}
		r := l.Rules()[0]
		if !canon[r.String()] {
			return doc.Errorf(key, "%s is not one of the rules under allow; write it as it is there", raw)
		}
		in.services = append(in.services, serviceRule{id: id, rule: r, list: l})
	}
	slices.SortStableFunc(in.services, func(a, b serviceRule) int {
		switch {
		case a.rule.Wildcard != b.rule.Wildcard:
			if a.rule.Wildcard {
				return 1
			}
			return -1
		case len(a.rule.Path) != len(b.rule.Path):
			return len(b.rule.Path) - len(a.rule.Path)
		}
		return len(b.rule.Host) - len(a.rule.Host)
	})
	return nil
}

// Service is the id of the most specific allow rule with an id that lets
// uri (an http or https address) through; false when none does.
func (in *Insights) Service(uri string) (string, bool) {
	if !strings.HasPrefix(uri, "https:") && !strings.HasPrefix(uri, "http:") {
		return "", false
	}
	for _, s := range in.services {
		if s.list.Decide(uri).Allow {
			return s.id, true
		}
	}
	return "", false
}
