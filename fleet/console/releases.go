package console

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/store"
)

// The Releases page: the release repository's bundles and the rollouts
// that assign them to kiosks ring by ring (fleet/release). The rollouts
// file is the one `fleet release rollout ...` edits and the fleet server
// reads at every report, so a change here reaches kiosks at their next
// report.

type releaseRow struct {
	Version, Arch string
	Serial        int64
	Size          uint64
	Delta         string
}

type rolloutRow struct {
	release.Rollout
	Rings   []ringRow
	Devices int // devices in any ring
	Updated int
	Actions []rolloutAction
}

type ringRow struct {
	release.Progress
	Select string // what the ring selects, in words
}

type rolloutAction struct{ Kind, Text, Class string }

type releasesData struct {
	NoRepo   bool
	DataDir  string // the fleet's data directory, for the commands shown
	Releases []releaseRow
	Versions []string // distinct versions, newest first
	Rollouts []rolloutRow
	Sites    []store.Site
	Kiosks   []store.Device
	// The start form, to fill again after an error.
	FormRelease, FormKiosks, FormPercent string
	FormCanary                           []string // "site:ID" values ticked
}

// releaseRepo opens the repository; nil (and no error) when the fleet has none.
func (c *Console) releaseRepo() (*release.Repo, error) {
	st := c.cfg.ReleaseStorage
	if st == nil {
		if c.cfg.ReleaseDir == "" {
			return nil, nil
		}
		st = release.DirStorage(c.cfg.ReleaseDir)
	}
	log, _ := c.log.(*logrus.Entry)
	repo, err := release.OpenStorage(st, release.Options{Log: log})
	if errors.Is(err, release.ErrNoRepository) {
		return nil, nil
	}
	return repo, err
}

func (c *Console) releasesPage(w http.ResponseWriter, r *http.Request, status int, p page, d releasesData) {
	p.Title = "Releases"
	d.DataDir = "DATA-DIR"
	if c.cfg.ReleaseDir != "" {
		d.DataDir = filepath.Dir(c.cfg.ReleaseDir)
	}
	repo, err := c.releaseRepo()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if repo == nil {
		d.NoRepo = true
		p.Data = d
		c.render(w, r, status, "releases", p)
		return
	}
	for _, rel := range repo.Releases() {
		d.Releases = append(d.Releases, releaseRow{Version: rel.Version, Arch: rel.Arch, Serial: rel.Serial, Size: uint64(rel.Length), Delta: rel.Delta})
		if !slices.Contains(d.Versions, rel.Version) {
			d.Versions = append(d.Versions, rel.Version)
		}
	}
	rs, err := c.rollouts.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	devs, err := c.st.Devices(r.Context(), store.DeviceFilter{})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Sites, err = c.st.Sites(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	d.Kiosks = devs
	names := map[string]string{}
	for _, st := range d.Sites {
		names[st.ID] = st.Name
	}
	engine := make([]release.Device, len(devs))
	hosts := map[string]string{}
	for i, dv := range devs {
		engine[i] = engineDevice(dv)
		hosts[dv.ID] = dv.Hostname
	}
	for _, ro := range rs {
		row := rolloutRow{Rollout: ro}
		for i, pr := range ro.Progress(engine) {
			row.Rings = append(row.Rings, ringRow{Progress: pr, Select: ringText(ro.Rings[i], hosts, names)})
			row.Devices += pr.Devices
			row.Updated += pr.Updated
		}
		switch ro.State {
		case release.RolloutRunning:
			row.Actions = []rolloutAction{{"advance", "Open the next ring", ""}, {"pause", "Pause", "govuk-button--secondary"}, {"abort", "Abort", "govuk-button--warning"}}
		case release.RolloutPaused:
			row.Actions = []rolloutAction{{"resume", "Resume", ""}, {"abort", "Abort", "govuk-button--warning"}}
		case release.RolloutDone:
			row.Actions = []rolloutAction{{"abort", "Abort", "govuk-button--warning"}}
		}
		d.Rollouts = append(d.Rollouts, row)
	}
	p.Data = d
	c.render(w, r, status, "releases", p)
}

// engineDevice is what the rollout engine needs of a kiosk: the agent
// version it last reported is the release it runs (as the server decides).
func engineDevice(d store.Device) release.Device {
	running := d.AgentVersion
	if d.Last != nil && d.Last.Health.AgentVersion != "" {
		running = d.Last.Health.AgentVersion
	}
	return release.Device{ID: d.ID, Site: d.Site, Running: running}
}

func ringText(g release.Ring, hosts, sites map[string]string) string {
	var parts []string
	if g.All {
		parts = append(parts, "every kiosk")
	}
	if g.Percent > 0 {
		parts = append(parts, strconv.Itoa(g.Percent)+"% of kiosks")
	}
	for _, s := range g.Sites {
		if n := sites[s]; n != "" && n != s {
			s = n + " (" + s + ")"
		}
		parts = append(parts, "site "+s)
	}
	for _, dv := range g.Devices {
		if h := hosts[dv]; h != "" {
			dv = h + " (" + dv + ")"
		}
		parts = append(parts, "kiosk "+dv)
	}
	return strings.Join(parts, ", ")
}

func (c *Console) releases(w http.ResponseWriter, r *http.Request) {
	c.releasesPage(w, r, http.StatusOK, page{}, releasesData{})
}

type rolloutConfirm struct {
	Action, Question, Explain, Button string
	Warning                           bool
	Fields                            []field
}

type field struct{ Name, Value string }

// maxCanaries bounds how many sites and kiosks one canary ring may name.
const maxCanaries = 50

// canaryPick is the canary ring's sites and kiosks as the form gave them
// and as the store resolved them.
type canaryPick struct {
	Sites, Devices []string // ids, in the order given, without repeats
	Text           []string // "site Central Library", "kiosk central-1", for the confirmation and audit
	Values         []string // "site:ID" and "device:ID", the canonical form fields
}

// canaryForm reads the canary ring from the form: "canary" fields of
// "site:ID" or "device:ID" (the site checkboxes, the confirmation page's
// hidden fields, and the single select of earlier consoles) and
// "canary_kiosks", kiosk host names or ids separated by commas or spaces.
// It resolves every one against the store; msg says in a sentence what is
// wrong (empty, unknown, ambiguous or too many) and field the form field
// to point at, with err only for a store failure.
func (c *Console) canaryForm(r *http.Request) (pick canaryPick, msg, field string, err error) {
	var siteIDs, kioskNames []string
	var bad []string
	for _, v := range r.PostForm["canary"] {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		kind, id, _ := strings.Cut(v, ":")
		switch {
		case kind == "site" && id != "":
			siteIDs = append(siteIDs, id)
		case kind == "device" && id != "":
			kioskNames = append(kioskNames, id)
		default:
			bad = append(bad, strconv.Quote(v))
		}
	}
	kioskNames = append(kioskNames, strings.FieldsFunc(r.PostFormValue("canary_kiosks"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })...)
	if len(bad) > 0 {
		return pick, "These canary choices are not a site or a kiosk: " + strings.Join(bad, ", ") + ". Nothing was changed.", "canary", nil
	}
	if len(siteIDs) == 0 && len(kioskNames) == 0 {
		return pick, "Choose at least one canary site or kiosk", "canary", nil
	}
	if len(siteIDs)+len(kioskNames) > maxCanaries {
		return pick, fmt.Sprintf("Choose at most %d canary sites and kiosks (%d given)", maxCanaries, len(siteIDs)+len(kioskNames)), "canary_kiosks", nil
	}
	sites, err := c.st.Sites(r.Context())
	if err != nil {
		return pick, "", "", err
	}
	siteName := map[string]string{}
	for _, s := range sites {
		siteName[s.ID] = s.Name
	}
	devs, err := c.st.Devices(r.Context(), store.DeviceFilter{})
	if err != nil {
		return pick, "", "", err
	}
	byID := map[string]store.Device{}
	byHost := map[string][]store.Device{}
	for _, d := range devs {
		byID[d.ID] = d
		h := strings.ToLower(d.Hostname)
		byHost[h] = append(byHost[h], d)
	}
	var unknownSites, unknownKiosks, ambiguous []string
	for _, id := range siteIDs {
		name, ok := siteName[id]
		switch {
		case !ok:
			unknownSites = append(unknownSites, strconv.Quote(id))
		case !slices.Contains(pick.Sites, id):
			pick.Sites = append(pick.Sites, id)
			pick.Values = append(pick.Values, "site:"+id)
			if name == "" {
				name = id
			}
			pick.Text = append(pick.Text, "site "+name)
		}
	}
	for _, k := range kioskNames {
		d, ok := byID[k]
		if !ok {
			switch hs := byHost[strings.ToLower(k)]; len(hs) {
			case 0:
				unknownKiosks = append(unknownKiosks, strconv.Quote(k))
				continue
			case 1:
				d = hs[0]
			default:
				ambiguous = append(ambiguous, strconv.Quote(k))
				continue
			}
		}
		if !slices.Contains(pick.Devices, d.ID) {
			pick.Devices = append(pick.Devices, d.ID)
			pick.Values = append(pick.Values, "device:"+d.ID)
			pick.Text = append(pick.Text, "kiosk "+d.Hostname)
		}
	}
	msg, field = canaryProblems(unknownSites, unknownKiosks, ambiguous)
	return pick, msg, field, nil
}

// canaryProblems says in a sentence which canary sites and kiosks were not
// found or named more than one kiosk, and which field to point at; "" when
// all were found.
func canaryProblems(unknownSites, unknownKiosks, ambiguous []string) (msg, field string) {
	var parts []string
	field = "canary_kiosks"
	if len(unknownSites) > 0 {
		field = "canary"
		parts = append(parts, either(len(unknownSites), "There is no site with the id ", "There are no sites with the ids ")+strings.Join(unknownSites, ", "))
	}
	if len(unknownKiosks) > 0 {
		parts = append(parts, either(len(unknownKiosks), "There is no kiosk (name or id) ", "There are no kiosks (names or ids) ")+strings.Join(unknownKiosks, ", "))
	}
	if len(ambiguous) > 0 {
		parts = append(parts, "More than one kiosk is called "+strings.Join(ambiguous, ", ")+": give its id instead (on its kiosk page)")
	}
	if len(parts) == 0 {
		return "", ""
	}
	return strings.Join(parts, ". ") + ". Nothing was changed.", field
}

// either is one when n is 1, else many.
func either(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// rolloutFormEcho is the start-rollout form as given, to show again with
// an error: the release, the percentages, the ticked canary sites and the
// canary kiosks as one comma-separated field.
func rolloutFormEcho(r *http.Request) releasesData {
	d := releasesData{FormRelease: strings.TrimSpace(r.PostFormValue("release")), FormPercent: strings.TrimSpace(r.PostFormValue("percent"))}
	kiosks := []string{}
	for _, v := range canaryValues(r) {
		if id, ok := strings.CutPrefix(v, "device:"); ok {
			kiosks = append(kiosks, id)
		} else {
			d.FormCanary = append(d.FormCanary, v)
		}
	}
	if k := strings.TrimSpace(r.PostFormValue("canary_kiosks")); k != "" {
		kiosks = append(kiosks, k)
	}
	d.FormKiosks = strings.Join(kiosks, ", ")
	return d
}

// rolloutRings is the canary ring, a ring per percentage ("10, 50%",
// increasing, 1 to 99, at most 5) and the final ring of all kiosks; msg
// says in a sentence what is wrong with percent.
func rolloutRings(canary release.Ring, percent string) (rings []release.Ring, msg string) {
	rings = []release.Ring{canary}
	last := 0
	for _, s := range strings.FieldsFunc(percent, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
		if err != nil || n < 1 || n > 99 || n <= last {
			return nil, "Enter percentages between 1 and 99, smallest first, separated by commas, like 10, 50"
		}
		last = n
		rings = append(rings, release.Ring{Name: strconv.Itoa(n) + "%", Percent: n})
	}
	if len(rings) > 6 {
		return nil, "Enter at most 5 percentages"
	}
	return append(rings, release.Ring{Name: "all", All: true}), ""
}

// startRollout checks the form (release, canary sites and kiosks,
// percentage rings), asks for confirmation, then stores the rollout at its
// canary ring.
func (c *Console) startRollout(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	d := rolloutFormEcho(r)
	version, percent := d.FormRelease, d.FormPercent
	bad := func(msg, fieldID string) {
		c.releasesPage(w, r, http.StatusBadRequest, page{Error: msg, ErrorField: fieldID}, d)
	}
	repo, err := c.releaseRepo()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if repo == nil {
		bad("This fleet has no release repository yet", "release")
		return
	}
	known := false
	for _, rel := range repo.Releases() {
		known = known || rel.Version == version
	}
	if !known {
		bad("Choose a release that is in the repository", "release")
		return
	}
	pick, msg, field, err := c.canaryForm(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if msg != "" {
		bad(msg, field)
		return
	}
	canaryRing := release.Ring{Name: "canary", Sites: pick.Sites, Devices: pick.Devices}
	canaryText := strings.Join(pick.Text, ", ")
	rings, msg := rolloutRings(canaryRing, percent)
	if msg != "" {
		bad(msg, "percent")
		return
	}
	var names []string
	for _, g := range rings {
		names = append(names, g.Name)
	}
	if r.PostFormValue("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "rollout-confirm", page{Title: "Start a rollout of " + version + "?", Data: rolloutConfirm{
			Action: "/releases/rollouts", Question: "Start a rollout of " + version + "?", Button: "Start rollout",
			Explain: "The canary ring (" + canaryText + ") gets " + version + " at its next report. The later rings (" +
				strings.Join(names[1:], ", ") + ") open only when you open them, one at a time.",
			Fields: canaryFields(version, pick.Values, percent),
		}})
		return
	}
	u := user(r)
	rid := version + "-" + c.cfg.Now().UTC().Format("20060102-150405")
	ro, err := release.NewRollout(rid, version, rings...)
	if err != nil {
		bad(err.Error(), "release")
		return
	}
	if err := c.rollouts.UpdateContext(r.Context(), func(rs []release.Rollout) ([]release.Rollout, error) {
		for _, x := range rs {
			if x.ID == rid {
				return nil, fmt.Errorf("rollout %s exists: %w", rid, store.ErrExists)
			}
		}
		return append([]release.Rollout{ro}, rs...), nil
	}); errors.Is(err, store.ErrExists) {
		bad("A rollout "+rid+" was started a moment ago; wait a second and try again", "release")
		return
	} else if errors.Is(err, release.ErrRolloutsBusy) {
		c.busy(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "rollout.start", rid, "release "+version+", rings "+strings.Join(names, ", ")+", canary "+canaryAudit(canaryRing))
	http.Redirect(w, r, doneURL("/releases", doneRolloutStarted), http.StatusSeeOther)
}

var rolloutActions = map[string]struct {
	question, explain, button, done string
	warning                         bool
}{
	"advance": {"Open the next ring of %s?", "More kiosks get %s at their next report. Check the kiosks already on it are healthy first.", "Open next ring", "Next ring opened", false},
	"pause":   {"Pause rollout %s?", "No more kiosks start %s. Kiosks already on it keep it.", "Pause", "Paused", false},
	"resume":  {"Resume rollout %s?", "Kiosks in the open rings that are not yet on %s get it at their next report.", "Resume", "Resumed", false},
	"abort":   {"Abort rollout %s?", "The rollout ends: no more kiosks start %s. Kiosks already on it keep it (kiosks never go back to an older release; to undo, add a fixed release and roll that out). This cannot be undone.", "Abort rollout", "Aborted", true},
}

// rolloutAction advances, pauses, resumes or aborts a rollout, after a
// confirmation page.
func (c *Console) rolloutAction(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	a, ok := rolloutActions[action]
	if !ok {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Unknown action", Data: "A rollout can be advanced, paused, resumed or aborted."})
		return
	}
	if repo, err := c.releaseRepo(); err != nil {
		c.fail(w, r, err)
		return
	} else if repo == nil {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Rollout not found", Data: "This fleet has no release repository, so there is no rollout with that id."})
		return
	}
	rs, err := c.rollouts.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(rs, func(x release.Rollout) bool { return x.ID == id })
	if i < 0 {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Rollout not found", Data: "There is no rollout with that id."})
		return
	}
	ro := rs[i]
	if err := apply(&ro, action); err != nil {
		c.render(w, r, http.StatusConflict, "error", page{Title: "Cannot " + action + " this rollout", Data: "Rollout " + id + " is " + ro.State + ": that does not allow " + action + "."})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "rollout-confirm", page{Title: fmt.Sprintf(a.question, id), Data: rolloutConfirm{
			Action: "/releases/rollouts/" + id + "/" + action, Question: fmt.Sprintf(a.question, id),
			Explain: fmt.Sprintf(a.explain, ro.Release), Button: a.button, Warning: a.warning,
		}})
		return
	}
	var after release.Rollout
	err = c.rollouts.UpdateContext(r.Context(), func(rs []release.Rollout) ([]release.Rollout, error) {
		for i := range rs {
			if rs[i].ID == id {
				if err := apply(&rs[i], action); err != nil {
					return nil, err
				}
				after = rs[i]
				return rs, nil
			}
		}
		return nil, fmt.Errorf("rollout %s: %w", id, store.ErrNotFound)
	})
	if errors.Is(err, release.ErrRolloutState) || errors.Is(err, store.ErrNotFound) {
		c.render(w, r, http.StatusConflict, "error", page{Title: "Cannot " + action + " this rollout", Data: "It changed meanwhile: " + err.Error()})
		return
	} else if errors.Is(err, release.ErrRolloutsBusy) {
		c.busy(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	detail := fmt.Sprintf("release %s, now %s at ring %q", after.Release, after.State, after.Rings[after.Stage].Name)
	c.st.Audit(r.Context(), user(r).Name, "rollout."+action, id, detail)
	http.Redirect(w, r, doneURL("/releases", doneRollout+action), http.StatusSeeOther)
}

// canaryAudit names a canary ring's sites and kiosks by id, for the audit log.
func canaryAudit(g release.Ring) string {
	var parts []string
	if len(g.Sites) > 0 {
		parts = append(parts, "sites "+strings.Join(g.Sites, " "))
	}
	if len(g.Devices) > 0 {
		parts = append(parts, "kiosks "+strings.Join(g.Devices, " "))
	}
	return strings.Join(parts, ", ")
}

// canaryValues is the "canary" fields given, to tick them again.
func canaryValues(r *http.Request) []string {
	var out []string
	for _, v := range r.PostForm["canary"] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// canaryFields are the confirmation page's hidden fields: the canary in
// its canonical form (one "canary" field per site or kiosk, by id).
func canaryFields(version string, canary []string, percent string) []field {
	fs := []field{{"release", version}}
	for _, v := range canary {
		fs = append(fs, field{"canary", v})
	}
	return append(fs, field{"percent", percent})
}

// busy answers when another writer (`fleet release rollout` on the server)
// held the rollouts file for too long: nothing was changed.
func (c *Console) busy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "10")
	c.render(w, r, http.StatusServiceUnavailable, "error", page{Title: "Rollouts are being changed elsewhere",
		Data: "Someone is changing the rollouts at the same moment (with \"fleet release rollout\" on the fleet server), so nothing was changed. Wait a few seconds and try again."})
}

func apply(ro *release.Rollout, action string) error {
	switch action {
	case "advance":
		return ro.Advance()
	case "pause":
		return ro.Pause()
	case "resume":
		return ro.Resume()
	case "abort":
		return ro.Abort()
	}
	return fmt.Errorf("unknown rollout action %q", action)
}
