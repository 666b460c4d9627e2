package policy_test

import (
	"errors"
	"fmt"
	"strings"

	"accesskiosk/kiosk/policy"
)

func ExampleList_Decide() {
	allow, err := policy.Parse([]string{
		"https://www.example.gov.uk",
		"https://*.example.gov.uk/forms",
		"http://127.0.0.1:8080",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range []string{
		"https://WWW.Example.gov.uk./pay?x=1",
		"https://parking.example.gov.uk/forms/permit",
		"https://example.gov.uk/",
		"http://2130706433:8080/",
		"https://www.example.gov.uk@evil.example/",
		"javascript:alert(1)",
		"kiosk://home",
	} {
		d := allow.Decide(u)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-5v %-8s %s", d.Allow, d.Reason, d.Site)))
	}
	// Output:
	// true  rule     www.example.gov.uk
	// true  rule     parking.example.gov.uk
	// false no_rule  example.gov.uk
	// true  rule     127.0.0.1
	// false userinfo evil.example
	// false scheme
	// true  kiosk
}

func ExampleParse() {
	_, err := policy.Parse([]string{"https://www.example.gov.uk", "https://www.*.gov.uk"})
	var re *policy.RuleError
	if errors.As(err, &re) {
		fmt.Printf("rule %d: %s\n", re.Index, re.Msg)
	}
	// Output:
	// rule 1: wildcard must be the first label: *.example.gov.uk
}
