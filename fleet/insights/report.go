package insights

import (
	"fmt"
	"strings"
)

// Paragraph is the report's opening paragraph: the main figures in
// sentences a library manager can paste into a funder's return. Like
// every other output it is written from the shown figures only.
func (f *Figures) Paragraph() string {
	var s []string
	where := "the kiosks at " + f.SiteName
	if f.Site == "" {
		where = fmt.Sprintf("the kiosks at all %d sites", len(f.Sites))
	}
	first := fmt.Sprintf("In %s %s had %s sessions", f.PeriodLabel(), where, about(f.Sessions))
	if r := PerHour(f.InHours, f.OpeningHours); r.State() == Exact {
		first += fmt.Sprintf(", %s for every hour they were open (%s hours)", r.Decimal(), cellText(Column{Type: HoursColumn}, Value{Num: f.OpeningHours}))
	}
	s = append(s, first+".")
	if sh := Share(f.Assisted, f.Sessions); sh.State() != NoRate {
		parts := []string{}
		words := [nOutcomes]string{"were done there and then", "need a follow-up", "were referred elsewhere", "have no outcome recorded"}
		for o, c := range f.Outcomes {
			if o == int(NoOutcome) && c.State() == Fewer {
				continue
			}
			parts = append(parts, c.String()+" "+words[o])
		}
		s = append(s, fmt.Sprintf("A volunteer helped in %s of them (%s): %s.", sh.Percent(), about(f.Assisted), list(parts)))
	}
	if c, ok := f.Chart(DemandChart); ok && strings.HasPrefix(c.Summary, "Busiest: ") {
		busy, _, _ := strings.Cut(strings.TrimPrefix(c.Summary, "Busiest: "), " (")
		s = append(s, "The busiest time was "+busy+".")
	}
	for _, r := range f.Rankings {
		if len(r.Items) == 0 || r.Dim == Features || r.Dim == Languages {
			continue
		}
		var names []string
		for _, it := range r.Items[:min(3, len(r.Items))] {
			names = append(names, it.Label)
		}
		what := map[Dimension]string{Services: "services most reached were", Tiles: "home-screen tiles most opened were",
			Guides: "guides most opened were", Categories: "volunteers helped most with"}[r.Dim]
		if len(names) == 1 {
			what = strings.NewReplacer(" were", " was", "services", "service", "tiles", "tile", "guides", "guide").Replace(what)
		}
		s = append(s, fmt.Sprintf("The %s %s.", what, list(names)))
	}
	var used []string
	for _, r := range f.Rankings {
		if r.Dim != Features && r.Dim != Languages {
			continue
		}
		for _, it := range r.Items[:min(3, len(r.Items))] {
			used = append(used, fmt.Sprintf("%s (%s)", it.Label, it.Sessions))
		}
	}
	if len(used) > 0 {
		s = append(s, "Residents used "+list(used)+".")
	}
	if u := f.usageSentence(); u != "" {
		s = append(s, u)
	}
	if f.OutOfHours.State() == Shown {
		s = append(s, fmt.Sprintf("%s sessions started outside opening hours.", capital(about(f.OutOfHours))))
	}
	s = append(s, fmt.Sprintf("Counts under %d are shown only as “fewer than %d” and the others are rounded to a multiple of %d, so that no resident can be picked out.", f.K, f.K, f.K))
	return strings.Join(s, " ")
}

// usageSentence says, from the usage counts that are shown, what the
// residents printed, scanned, uploaded and downloaded and how much remote
// help they had; "" when none is shown.
func (f *Figures) usageSentence() string {
	shown := func(u UsageKind) bool { return f.Usage[u].State() == Shown }
	var did []string
	if shown(PagesPrinted) {
		p := "printed about " + f.Usage[PagesPrinted].String() + " pages"
		if shown(PrintJobs) {
			p += " in about " + f.Usage[PrintJobs].String() + " print jobs"
		}
		did = append(did, p)
	}
	for _, w := range []struct {
		u    UsageKind
		verb string
	}{{PagesScanned, "scanned or photographed about %s pages"}, {FilesUploaded, "uploaded about %s files to services"},
		{FilesDownloaded, "downloaded about %s files"}} {
		if shown(w.u) {
			did = append(did, fmt.Sprintf(w.verb, f.Usage[w.u].String()))
		}
	}
	var out []string
	if len(did) > 0 {
		out = append(out, "Residents "+list(did)+".")
	}
	if shown(RemoteHelpSessions) {
		h := "Council staff gave remote help in about " + f.Usage[RemoteHelpSessions].String() + " sessions"
		if shown(RemoteHelpMinutes) {
			h += " (about " + f.Usage[RemoteHelpMinutes].String() + " minutes in all)"
		}
		out = append(out, h+".")
	}
	return strings.Join(out, " ")
}
