package insights

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The tests' data: a realistic council of libraries, seeded, so that
// every run (and the golden files) see the same counts.

var vocab = map[Dimension]map[string]string{
	Services: {"council-tax": "Council tax", "housing-register": "Housing register", "universal-credit": "Universal Credit",
		"blue-badge": "Blue Badge", "bins": "Bins and recycling", "library-catalogue": "Library catalogue", "nhs": "NHS services",
		"parking": "Parking permits"},
	Tiles: {"pay-council-tax": "Pay your council tax", "report-problem": "Report a problem", "housing": "Apply for housing",
		"jobs": "Find a job", "bus-pass": "Bus pass", "libraries": "Libraries and events"},
	Guides: {"pay-council-tax": "Pay your council tax online", "uc-journal": "Use your Universal Credit journal",
		"blue-badge": "Apply for a Blue Badge", "book-gp": "Book a GP appointment"},
	Features:   {"keyboard": "On-screen keyboard", "high_contrast": "High contrast", "large_text": "Large text", "print": "Printing", "scan": "Scanning"},
	Languages:  {"cy": "Cymraeg", "pl": "Polski", "ro": "Română", "ar": "العربية", "so": "Soomaali"},
	Categories: {"council_tax": "Council tax", "benefits": "Benefits", "housing": "Housing", "bus_pass": "Bus pass", "jobs": "Jobs", "health": "Health"},
}

// popularity gives each identifier a chance per session (per assisted
// session for categories).
func popularity(dim Dimension, id string) float64 {
	h := 0
	for _, r := range id {
		h = h*31 + int(r)
	}
	base := map[Dimension]float64{Services: 0.18, Tiles: 0.2, Guides: 0.06, Features: 0.07, Languages: 0.02, Categories: 0.15}[dim]
	return base * (0.3 + float64(h%100)/70)
}

var weekdayHours = map[string]string{"mon": "09:00-17:00", "tue": "09:00-19:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00", "sat": "10:00-16:00"}

type seedSite struct {
	id, name string
	scale    float64 // sessions per open hour at the busiest time
	hours    map[string]string
}

var councilSites = []seedSite{
	{"central", "Central Library", 6, weekdayHours},
	{"parkwood", "Parkwood Library", 3, map[string]string{"mon": "09:30-13:00, 14:00-17:00", "wed": "09:30-17:00", "fri": "09:30-17:00", "sat": "10:00-13:00"}},
	{"shepway", "Shepway Community Hub", 2.2, map[string]string{"tue": "10:00-16:00", "thu": "10:00-20:00"}},
	{"riverside", "Riverside Library", 0.6, map[string]string{"mon": "10:00-15:00", "thu": "10:00-15:00"}},
	{"mobile", "Mobile library", 0.15, nil},
}

// demand is how busy an hour is, 0..1, by weekday and hour.
func demand(wd, h int) float64 {
	d := math.Exp(-math.Pow(float64(h)-10.5, 2)/6) + 0.6*math.Exp(-math.Pow(float64(h)-14.5, 2)/5)
	if wd == 1 {
		d *= 1.4 // Tuesday mornings
	}
	return d / 1.4
}

func poisson(rng *rand.Rand, l float64) int {
	if l <= 0 {
		return 0
	}
	if l > 30 {
		return max(0, int(math.Round(l+math.Sqrt(l)*rng.NormFloat64())))
	}
	n, p, t := 0, 1.0, math.Exp(-l)
	for {
		p *= rng.Float64()
		if p <= t {
			return n
		}
		n++
	}
}

// seedInput makes months of sessions from start for sites.
func seedInput(seed uint64, sites []seedSite, start Date, months int) *Input {
	rng := rand.New(rand.NewPCG(seed, 20))
	urng := rand.New(rand.NewPCG(seed, 21)) // usage: its own stream, so the other counts stay as they were
	in := &Input{Labels: vocab}
	end := start
	for range months {
		end = end.nextMonth()
	}
	ids := map[Dimension][]string{}
	for _, d := range Dimensions {
		ids[d] = sortedKeys(vocab[d])
	}
	for _, s := range sites {
		w, err := ParseWeek(s.hours)
		if err != nil {
			panic(err)
		}
		in.Sites = append(in.Sites, Site{ID: s.id, Name: s.name, Hours: w})
		for d := start; d.Before(end); d = d.AddDays(1) {
			wd := d.Weekday()
			day, assisted := 0, 0
			for h := 0; h < 24; h++ {
				l := s.scale * demand(wd, h)
				if !w.OpenDuring(wd, h) && w.Set() {
					l *= 0.01 // staff sessions, events
				}
				n := poisson(rng, l)
				if n == 0 {
					continue
				}
				a := min(n, poisson(rng, 0.25*float64(n)))
				done := min(a, poisson(rng, 0.6*float64(a)))
				fu := min(a-done, poisson(rng, 0.2*float64(a)))
				ref := min(a-done-fu, poisson(rng, 0.1*float64(a)))
				jobs := poisson(urng, 0.1*float64(n))
				u := Usage{PrintJobs: jobs, Prints: jobs + poisson(urng, 2*float64(jobs)), Scans: poisson(urng, 0.1*float64(n)),
					Uploads: poisson(urng, 0.08*float64(n)), Downloads: poisson(urng, 0.05*float64(n)), Assists: poisson(urng, 0.02*float64(n))}
				u.AssistMinutes = poisson(urng, 6*float64(u.Assists))
				in.Hours = append(in.Hours, HourCount{Site: s.id, Date: d, Hour: h, Sessions: n, Assisted: a, Done: done, FollowUp: fu, Referred: ref, Usage: u})
				day += n
				assisted += a
			}
			if day == 0 {
				continue
			}
			for _, dim := range Dimensions {
				left := assisted
				for _, id := range ids[dim] {
					var n int
					if dim == Categories {
						n = min(left, poisson(rng, popularity(dim, id)*float64(assisted)))
						left -= n
					} else {
						n = min(day, poisson(rng, popularity(dim, id)*float64(day)))
					}
					if n > 0 {
						in.Items = append(in.Items, ItemCount{Site: s.id, Date: d, Dim: dim, ID: id, Sessions: n})
					}
				}
			}
		}
	}
	return in
}

func mustBuild(in *Input, site string, p Period, k int) *Figures {
	f, err := Build(in, Options{Rule: Rule{K: k}, Site: site, Period: p, Today: Date{2030, time.January, 1}})
	if err != nil {
		panic(fmt.Sprint("build: ", err))
	}
	return f
}
