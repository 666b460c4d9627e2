package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/shared"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
)

// releaseCommands are `fleet release ...`: signed releases (fleet/release)
// and ring rollouts.
func releaseCommands(stdout, stderr io.Writer) []cmdline.Command {
	rc := &releaseCmd{stdout: stdout, stderr: stderr}
	cmd := func(name, synopsis, summary string, run func(ctx context.Context, args []string) error) cmdline.Command {
		return cmdline.Command{Name: "release " + name, Synopsis: synopsis, Summary: summary, Run: func(ctx context.Context, args []string) error {
			defer rc.closeStore()
			return run(ctx, args)
		}}
	}
	return []cmdline.Command{
		cmd("keys generate", "--offline DIR", "new root and targets keys (keep DIR offline)", rc.keysGenerate),
		cmd("init", "--data DIR|--db URL --offline DIR", "create the release repository (in DIR/release, or in the PostgreSQL fleet's database)", rc.init),
		cmd("keys rotate", "--data DIR|--db URL --offline DIR --role root|targets|snapshot|timestamp", "replace a role's key", rc.keysRotate),
		cmd("bundle", "--version V [--arch A] [--units U,...] --out FILE TREE", "build a bundle from a tree (bin/, units/, pages/, guides/)", rc.bundle),
		cmd("add", "--data DIR|--db URL --offline DIR BUNDLE...", "sign and publish bundles", rc.add),
		cmd("resign", "--data DIR|--db URL --offline DIR", "re-sign targets before they expire", rc.resign),
		cmd("list", "--data DIR|--db URL", "releases, newest first", rc.list),
		cmd("root", "--data DIR|--db URL [--out FILE]", "the root metadata an image must carry", rc.root),
		cmd("rollout start", "--data DIR|--db URL|--db URL --id ID --release V --ring NAME=SPEC ...",
			"roll a release out ring by ring (SPEC: all | N% | device:ID,site:ID,...; canary first)", rc.rolloutStart),
		cmd("rollout advance", "--data DIR|--db URL --id ID", "move a rollout to its next ring", rc.rolloutChange("rollout advance")),
		cmd("rollout pause", "--data DIR|--db URL --id ID", "stop a rollout from reaching more kiosks", rc.rolloutChange("rollout pause")),
		cmd("rollout resume", "--data DIR|--db URL --id ID", "carry on a paused rollout", rc.rolloutChange("rollout resume")),
		cmd("rollout abort", "--data DIR|--db URL --id ID", "end a rollout where it is", rc.rolloutChange("rollout abort")),
		cmd("rollout list", "--data DIR|--db URL", "rollouts and their rings", rc.rolloutList),
	}
}

type releaseCmd struct {
	stdout, stderr io.Writer
	name           string // the subcommand, set by flags
	data, offline  string
	// db is a PostgreSQL fleet store: the repository and rollouts are
	// kept there (several replicas), not in --data.
	db string
	st *store.Store // opened for db
}

// flags returns the flag set of `fleet release NAME` with --data and
// --offline when asked for.
func (rc *releaseCmd) flags(name, synopsis string, data, offline bool) *cmdline.FlagSet {
	rc.name = name
	fs := flagSet("release "+name, synopsis)
	if data {
		fs.StringVar(&rc.data, "data", "", "the fleet's data `DIR`")
		fs.StringVar(&rc.db, "db", "", "a PostgreSQL fleet (postgres://... `URL`): the repository and rollouts are kept in its database, not in --data")
	}
	if offline {
		fs.StringVar(&rc.offline, "offline", "", "the `DIR` of the offline root and targets keys")
	}
	return fs
}

// parse parses args and checks that the named flags were given.
func (rc *releaseCmd) parse(fs *cmdline.FlagSet, args []string, need ...string) error {
	if err := fs.Parse(args, rc.stdout); err != nil {
		return err
	}
	for _, n := range need {
		if n == "data" && rc.db != "" {
			continue
		}
		if fs.Lookup(n).Value.String() == "" {
			return confile.FlagError(n, "missing: fleet release %s needs it", rc.name)
		}
	}
	return nil
}

func (rc *releaseCmd) opt() release.Options {
	log := logrus.New()
	log.SetOutput(rc.stderr)
	return release.Options{Log: logrus.NewEntry(log)}
}

// storage is where the repository is: the database with --db, else DATA/release.
func (rc *releaseCmd) storage() (release.Storage, error) {
	if rc.db == "" {
		return release.DirStorage(release.RepoDir(rc.data)), nil
	}
	if err := rc.openStore(); err != nil {
		return nil, err
	}
	return shared.ReleaseStorage(rc.st, ""), nil
}

// rollouts are where the rollouts are: the database with --db, else beside DATA/release.
func (rc *releaseCmd) rollouts() (release.Rollouts, error) {
	if rc.db == "" {
		return release.OpenRollouts(release.RolloutsPath(release.RepoDir(rc.data))), nil
	}
	if err := rc.openStore(); err != nil {
		return nil, err
	}
	return shared.Rollouts(rc.st, ""), nil
}

func (rc *releaseCmd) openStore() error {
	if rc.st != nil {
		return nil
	}
	sf := storeFlags{data: rc.data, db: rc.db}
	if err := sf.check(); err != nil {
		return err
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	st, err := sf.open(context.Background(), l)
	if err != nil {
		return err
	}
	rc.st = st
	return nil
}

func (rc *releaseCmd) closeStore() {
	if rc.st != nil {
		rc.st.Close()
		rc.st = nil
	}
}

func (rc *releaseCmd) open() (*release.Repo, error) {
	st, err := rc.storage()
	if err != nil {
		return nil, err
	}
	return release.OpenStorage(st, rc.opt())
}

func (rc *releaseCmd) keysGenerate(_ context.Context, args []string) error {
	fs := rc.flags("keys generate", "--offline DIR", false, true)
	if err := rc.parse(fs, args, "offline"); err != nil {
		return err
	}
	if err := release.GenerateOfflineKeys(rc.offline); err != nil {
		return err
	}
	fmt.Fprintf(rc.stdout, "root and targets keys written to %s: keep this directory offline and backed up\n", rc.offline)
	return nil
}

func (rc *releaseCmd) init(_ context.Context, args []string) error {
	fs := rc.flags("init", "--data DIR --offline DIR", true, true)
	if err := rc.parse(fs, args, "data", "offline"); err != nil {
		return err
	}
	st, err := rc.storage()
	if err != nil {
		return err
	}
	if _, err := release.InitStorage(st, rc.offline, rc.opt()); err != nil {
		return err
	}
	where := "--data " + rc.data
	if rc.db != "" {
		where = "--db URL"
	}
	fmt.Fprintf(rc.stdout, "release repository created in %s; give images its root: fleet release root %s\n", st, where)
	return nil
}

func (rc *releaseCmd) keysRotate(_ context.Context, args []string) error {
	fs := rc.flags("keys rotate", "--data DIR --offline DIR --role ROLE", true, true)
	role := fs.String("role", "", "root, targets, snapshot or timestamp")
	if err := rc.parse(fs, args, "data", "offline", "role"); err != nil {
		return err
	}
	r, err := rc.open()
	if err != nil {
		return err
	}
	if err := r.Rotate(rc.offline, *role); err != nil {
		return err
	}
	fmt.Fprintf(rc.stdout, "%s key rotated\n", *role)
	return nil
}

func (rc *releaseCmd) bundle(_ context.Context, args []string) error {
	fs := rc.flags("bundle", "--version V [--arch A] [--units U,...] --out FILE TREE", false, false)
	fs.AllowArgs("TREE")
	version := fs.String("version", "", "release version")
	arch := fs.String("arch", runtime.GOARCH, "GOARCH of the binaries")
	units := fs.String("units", "accesskiosk-kiosk.service,accesskiosk-agent.service", "units to restart after switching, in order")
	out := fs.String("out", "", "bundle `FILE` to write")
	if err := rc.parse(fs, args, "version", "out"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return confile.FlagError("bundle", "want exactly one tree directory, got %d", fs.NArg())
	}
	if !bundle.ValidVersion(*version) {
		return confile.FlagError("version", "%q: letters, digits and . _ + - only", *version)
	}
	var us []string
	if *units != "" {
		us = strings.Split(*units, ",")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	m, err := bundle.Build(f, fs.Arg(0), bundle.Options{Version: *version, Arch: *arch, Units: us})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(rc.stdout, "%s: %s for %s, %d files\n", *out, m.Version, m.Arch, len(m.Files))
	return nil
}

func (rc *releaseCmd) add(_ context.Context, args []string) error {
	fs := rc.flags("add", "--data DIR --offline DIR BUNDLE...", true, true)
	fs.AllowArgs("BUNDLE...")
	if err := rc.parse(fs, args, "data", "offline"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return confile.FlagError("add", "no bundle files given")
	}
	r, err := rc.open()
	if err != nil {
		return err
	}
	for _, b := range fs.Args() {
		rel, err := r.Add(rc.offline, b)
		if err != nil {
			return err
		}
		fmt.Fprintf(rc.stdout, "added %s for %s (serial %d, %d bytes", rel.Version, rel.Arch, rel.Serial, rel.Length)
		if rel.Delta != "" {
			fmt.Fprintf(rc.stdout, ", delta from %s %d bytes", rel.From(), rel.DeltaLength)
		}
		fmt.Fprintln(rc.stdout, ")")
	}
	return nil
}

func (rc *releaseCmd) resign(_ context.Context, args []string) error {
	fs := rc.flags("resign", "--data DIR --offline DIR", true, true)
	if err := rc.parse(fs, args, "data", "offline"); err != nil {
		return err
	}
	r, err := rc.open()
	if err != nil {
		return err
	}
	if err := r.Resign(rc.offline); err != nil {
		return err
	}
	fmt.Fprintln(rc.stdout, "targets re-signed")
	return nil
}

func (rc *releaseCmd) list(_ context.Context, args []string) error {
	fs := rc.flags("list", "--data DIR", true, false)
	if err := rc.parse(fs, args, "data"); err != nil {
		return err
	}
	r, err := rc.open()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(rc.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tARCH\tSERIAL\tBYTES\tDELTA BYTES")
	for _, rel := range r.Releases() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", rel.Version, rel.Arch, rel.Serial, rel.Length, rel.DeltaLength)
	}
	return tw.Flush()
}

func (rc *releaseCmd) root(_ context.Context, args []string) error {
	fs := rc.flags("root", "--data DIR [--out FILE]", true, false)
	out := fs.String("out", "", "write to this `FILE` instead of stdout")
	if err := rc.parse(fs, args, "data"); err != nil {
		return err
	}
	r, err := rc.open()
	if err != nil {
		return err
	}
	root, err := r.RootJSON()
	if err != nil {
		return err
	}
	if *out != "" {
		return atomicfile.Write(*out, root, 0o644)
	}
	_, err = rc.stdout.Write(root)
	return err
}

// ringFlags is the repeatable --ring flag.
type ringFlags []release.Ring

func (r *ringFlags) String() string { return fmt.Sprint(*r) }

func (r *ringFlags) Set(s string) error {
	g, err := release.ParseRing(s)
	if err != nil {
		return err
	}
	for _, x := range *r {
		if x.Name == g.Name {
			return fmt.Errorf("ring %q: a ring called %q is already given", s, g.Name)
		}
	}
	*r = append(*r, g)
	return nil
}

func (rc *releaseCmd) rolloutStart(ctx context.Context, args []string) error {
	fs := rc.flags("rollout start", "--data DIR [--db URL] --id ID --release V --ring NAME=SPEC ...", true, false)
	id := fs.String("id", "", "rollout `ID`")
	rel := fs.String("release", "", "release `VERSION`")
	var rings ringFlags
	fs.Var(&rings, "ring", "`NAME=SPEC` (repeat, canary first); SPEC: all | N% | device:ID,site:NAME,...")
	if err := rc.parse(fs, args, "data", "id", "release"); err != nil {
		return err
	}
	if len(rings) == 0 {
		return confile.FlagError("ring", "at least one ring is required")
	}
	ro, err := release.NewRollout(*id, *rel, rings...)
	if err != nil {
		return confile.FlagError("ring", "%v", err)
	}
	if r, err := rc.open(); err != nil {
		return err
	} else if !r.HasVersion(*rel) {
		return confile.FlagError("release", "%s is not in the repository (fleet release list)", *rel)
	}
	if err := rc.checkRings(ctx, rc.db, rings); err != nil {
		return err
	}
	rollouts, err := rc.rollouts()
	if err != nil {
		return err
	}
	err = rollouts.UpdateContext(ctx, func(rs []release.Rollout) ([]release.Rollout, error) {
		for _, x := range rs {
			if x.ID == *id {
				return nil, confile.FlagError("id", "rollout %q exists", *id)
			}
		}
		return append([]release.Rollout{ro}, rs...), nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(rc.stdout, "rollout %s of %s started at ring %q (%s)\n", *id, *rel, rings[0].Name, ringWords(rings[0]))
	return nil
}

// checkRings refuses sites and kiosks the fleet's store does not know.
func (rc *releaseCmd) checkRings(ctx context.Context, db string, rings []release.Ring) error {
	var sites, devices []string
	for _, g := range rings {
		sites, devices = append(sites, g.Sites...), append(devices, g.Devices...)
	}
	if len(sites)+len(devices) == 0 {
		return nil
	}
	unknown, checked, err := unknownTargets(ctx, rc.data, db, sites, devices)
	if err != nil {
		return fmt.Errorf("check the rings' sites and kiosks: %w", err)
	}
	if len(unknown) > 0 {
		return confile.FlagError("ring", "the fleet has no %s (ids as on the console's Sites and Kiosks pages); nothing was changed", strings.Join(unknown, ", "))
	}
	if !checked {
		fmt.Fprintf(rc.stderr, "warning: sites and kiosks not checked: no fleet store in %s (give --db for a PostgreSQL fleet)\n", rc.data)
	}
	return nil
}

// rolloutChange is rollout advance, pause, resume or abort (verb).
func (rc *releaseCmd) rolloutChange(verb string) func(context.Context, []string) error {
	return func(_ context.Context, args []string) error { return rc.changeRollout(verb, args) }
}

func (rc *releaseCmd) changeRollout(verb string, args []string) error {
	fs := rc.flags(verb, "--data DIR --id ID", true, false)
	id := fs.String("id", "", "rollout `ID`")
	if err := rc.parse(fs, args, "data", "id"); err != nil {
		return err
	}
	var state string
	rollouts, err := rc.rollouts()
	if err != nil {
		return err
	}
	err = rollouts.UpdateContext(context.Background(), func(rs []release.Rollout) ([]release.Rollout, error) {
		for i := range rs {
			if rs[i].ID != *id {
				continue
			}
			var err error
			switch verb {
			case "rollout advance":
				err = rs[i].Advance()
			case "rollout pause":
				err = rs[i].Pause()
			case "rollout resume":
				err = rs[i].Resume()
			case "rollout abort":
				err = rs[i].Abort()
			}
			state = fmt.Sprintf("%s, ring %d of %d (%s)", rs[i].State, rs[i].Stage+1, len(rs[i].Rings), rs[i].Rings[rs[i].Stage].Name)
			return rs, err
		}
		return nil, confile.FlagError("id", "no rollout %q", *id)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(rc.stdout, "rollout %s: %s\n", *id, state)
	return nil
}

func (rc *releaseCmd) rolloutList(_ context.Context, args []string) error {
	fs := rc.flags("rollout list", "--data DIR", true, false)
	if err := rc.parse(fs, args, "data"); err != nil {
		return err
	}
	rollouts, err := rc.rollouts()
	if err != nil {
		return err
	}
	rs, err := rollouts.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(rc.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRELEASE\tSTATE\tRING")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d %s\n", r.ID, r.Release, r.State, r.Stage+1, len(r.Rings), r.Rings[r.Stage].Name)
	}
	return tw.Flush()
}

// ringWords says what a ring selects: "sites central, north; kiosks ID".
func ringWords(g release.Ring) string {
	var parts []string
	if g.All {
		parts = append(parts, "every kiosk")
	}
	if g.Percent > 0 {
		parts = append(parts, strconv.Itoa(g.Percent)+"% of kiosks")
	}
	if len(g.Sites) > 0 {
		parts = append(parts, "sites "+strings.Join(g.Sites, ", "))
	}
	if len(g.Devices) > 0 {
		parts = append(parts, "kiosks "+strings.Join(g.Devices, ", "))
	}
	return strings.Join(parts, "; ")
}
