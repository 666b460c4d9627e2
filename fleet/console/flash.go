package console

import "net/url"

// A change redirects to a page with ?done=CODE, and that page shows the
// code's fixed sentence as a success banner. The address carries a code,
// never text, so a link of someone else's making cannot put words of their
// choosing on a page under the council's name (an unknown code shows
// nothing).
const (
	doneCredentialWithdrawn = "credential-withdrawn"
	doneSiteAdded           = "site-added"
	doneTokenWithdrawn      = "token-withdrawn"
	doneUserAdded           = "user-added"
	doneAPITokenWithdrawn   = "api-token-withdrawn"
	doneHoursSaved          = "hours-saved"
	doneRolloutStarted      = "rollout-started"
	doneCommandSent         = "sent-"    // + command kind
	doneRollout             = "rollout-" // + advance, pause, resume, abort
)

var doneMessages = func() map[string]string {
	m := map[string]string{
		doneCredentialWithdrawn: "Credential withdrawn: the kiosk's next report is refused.",
		doneSiteAdded:           "Site added.",
		doneTokenWithdrawn:      "Enrolment token withdrawn.",
		doneUserAdded:           "Staff member added.",
		doneAPITokenWithdrawn:   "API token withdrawn.",
		doneHoursSaved:          "Opening hours saved: Insights uses them from now on, for every period.",
		doneRolloutStarted:      "Rollout started: the canary ring gets the release at its next report.",
	}
	for kind, label := range commandLabels {
		m[doneCommandSent+kind] = label + " sent; the kiosk picks it up at its next report."
	}
	for action, a := range rolloutActions {
		m[doneRollout+action] = a.done + "."
	}
	return m
}()

// doneURL is path with ?done=code, for the redirect after a change.
func doneURL(path, code string) string {
	return path + "?done=" + url.QueryEscape(code)
}

// flash is the sentence for the request's ?done= code; "" for none or an
// unknown one.
func flash(q url.Values) string {
	return doneMessages[q.Get("done")]
}
