package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
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
	FormRelease, FormCanary, FormPercent string
}

// releaseRepo opens the repository; nil (and no error) when the fleet has none.
func (c *Console) releaseRepo() (*release.Repo, error) {
	dir := c.cfg.ReleaseDir
	if dir == "" {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "metadata", "root.json")); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	log, _ := c.log.(*logrus.Entry)
	return release.Open(dir, release.Options{Log: log})
}

func (c *Console) rollouts() *release.RolloutFile { return c.rolloutFile }

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
	rs, err := c.rollouts().List()
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

// startRollout checks the form (release, canary site or kiosk, percentage
// rings), asks for confirmation, then stores the rollout at its canary ring.
func (c *Console) startRollout(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	version := strings.TrimSpace(r.PostFormValue("release"))
	canary := strings.TrimSpace(r.PostFormValue("canary"))
	percent := strings.TrimSpace(r.PostFormValue("percent"))
	d := releasesData{FormRelease: version, FormCanary: canary, FormPercent: percent}
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
	canaryRing := release.Ring{Name: "canary"}
	kind, id, _ := strings.Cut(canary, ":")
	canaryText := ""
	switch kind {
	case "site":
		if ok, err := c.st.SiteExists(r.Context(), id); err != nil {
			c.fail(w, r, err)
			return
		} else if ok {
			canaryRing.Sites, canaryText = []string{id}, "site "+id
		}
	case "device":
		if devs, err := c.st.Devices(r.Context(), store.DeviceFilter{DeviceID: id}); err != nil {
			c.fail(w, r, err)
			return
		} else if len(devs) == 1 {
			canaryRing.Devices, canaryText = []string{id}, "kiosk "+devs[0].Hostname
		}
	}
	if canaryText == "" {
		bad("Choose a canary site or kiosk", "canary")
		return
	}
	rings := []release.Ring{canaryRing}
	last := 0
	if percent != "" {
		for _, s := range strings.FieldsFunc(percent, func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
			if err != nil || n < 1 || n > 99 || n <= last {
				bad("Enter percentages between 1 and 99, smallest first, separated by commas, like 10, 50", "percent")
				return
			}
			last = n
			rings = append(rings, release.Ring{Name: strconv.Itoa(n) + "%", Percent: n})
		}
	}
	if len(rings) > 6 {
		bad("Enter at most 5 percentages", "percent")
		return
	}
	rings = append(rings, release.Ring{Name: "all", All: true})
	var names []string
	for _, g := range rings {
		names = append(names, g.Name)
	}
	if r.PostFormValue("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "rollout-confirm", page{Title: "Start a rollout of " + version + "?", Data: rolloutConfirm{
			Action: "/releases/rollouts", Question: "Start a rollout of " + version + "?", Button: "Start rollout",
			Explain: "The canary (" + canaryText + ") gets " + version + " at its next report. The later rings (" +
				strings.Join(names[1:], ", ") + ") open only when you open them, one at a time.",
			Fields: []field{{"release", version}, {"canary", canary}, {"percent", percent}},
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
	if err := c.rollouts().Update(func(rs []release.Rollout) ([]release.Rollout, error) {
		for _, x := range rs {
			if x.ID == rid {
				return nil, fmt.Errorf("rollout %s exists: %w", rid, store.ErrExists)
			}
		}
		return append([]release.Rollout{ro}, rs...), nil
	}); errors.Is(err, store.ErrExists) {
		bad("A rollout "+rid+" was started a moment ago; wait a second and try again", "release")
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "rollout.start", rid, "release "+version+", rings "+strings.Join(names, ", ")+", canary "+canaryText)
	http.Redirect(w, r, "/releases?done="+url.QueryEscape("Rollout "+rid+" started: the canary gets "+version+" at its next report."), http.StatusSeeOther)
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
	rs, err := c.rollouts().List()
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
	err = c.rollouts().Update(func(rs []release.Rollout) ([]release.Rollout, error) {
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
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	detail := fmt.Sprintf("release %s, now %s at ring %q", after.Release, after.State, after.Rings[after.Stage].Name)
	c.st.Audit(r.Context(), user(r).Name, "rollout."+action, id, detail)
	http.Redirect(w, r, "/releases?done="+url.QueryEscape(a.done+": rollout "+id+" is "+after.State+" at ring "+after.Rings[after.Stage].Name+"."), http.StatusSeeOther)
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
