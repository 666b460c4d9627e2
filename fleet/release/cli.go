package release

import (
	"accesskiosk/internal/atomicfile"

	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/internal/confile"
)

// CommandUsage describes `fleet release ...`.
const CommandUsage = `fleet release: signed releases and rollouts

  fleet release keys generate --offline DIR        new root and targets keys (keep DIR offline)
  fleet release init   --data DIR --offline DIR    create the repository in DIR/release
  fleet release keys rotate --data DIR --offline DIR --role root|targets|snapshot|timestamp
  fleet release bundle --version V [--arch A] [--units U,...] --out FILE TREE
                                                   build a bundle from a tree (bin/, units/, pages/, guides/)
  fleet release add    --data DIR --offline DIR BUNDLE...   sign and publish bundles
  fleet release resign --data DIR --offline DIR    re-sign targets before they expire
  fleet release list   --data DIR                  releases, newest first
  fleet release root   --data DIR [--out FILE]     the root metadata an image must carry
  fleet release rollout start --data DIR [--db URL] --id ID --release V --ring NAME=SPEC ...
        SPEC: all | N% | device:ID,site:ID,...     (rings in order: canary first)
        a ring may name several sites and kiosks: --ring canary=site:central,site:north,device:ID
        (sites and kiosks are checked against the fleet's store: SQLite in DIR, or --db)
  fleet release rollout advance|pause|resume|abort --data DIR --id ID
  fleet release rollout list --data DIR
`

// RepoDir is where the fleet keeps its release repository inside its data directory.
func RepoDir(dataDir string) string { return filepath.Join(dataDir, "release") }

// CommandOptions connects Command to the rest of the fleet.
type CommandOptions struct {
	// Unknown, when set, returns which of the given site and device ids
	// the fleet's store does not know (or holds revoked), each as
	// "site ID" or "kiosk ID"; checked says whether a store was there to
	// ask. data and db are the command's --data and --db flags.
	Unknown func(ctx context.Context, data, db string, sites, devices []string) (unknown []string, checked bool, err error)
}

// Command runs `fleet release ARGS...`. Bad flags are *confile.Error
// (exit status 2 through confile.ExitStatus).
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return CommandWith(ctx, args, stdout, stderr, CommandOptions{})
}

// CommandWith is Command with options.
func CommandWith(ctx context.Context, args []string, stdout, stderr io.Writer, co CommandOptions) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, CommandUsage)
		return confile.FlagError("release", "missing a subcommand: keys, init, bundle, add, resign, list, root or rollout")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, CommandUsage)
		return nil
	}
	log := logrus.New()
	log.SetOutput(stderr)
	opt := Options{Log: logrus.NewEntry(log)}
	sub, rest := args[0], args[1:]
	if sub == "keys" || sub == "rollout" {
		if len(rest) == 0 {
			fmt.Fprint(stderr, CommandUsage)
			return confile.FlagError(sub, "missing a subcommand")
		}
		sub, rest = sub+" "+rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("fleet release "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the fleet's data directory")
	offline := fs.String("offline", "", "directory of the offline root and targets keys")
	parse := func(need ...string) error {
		if err := fs.Parse(rest); err != nil {
			return confile.FlagError(sub, "%v", err)
		}
		for _, n := range need {
			if fs.Lookup(n).Value.String() == "" {
				return confile.FlagError(n, "required")
			}
		}
		return nil
	}
	switch sub {
	case "keys generate":
		if err := parse("offline"); err != nil {
			return err
		}
		if err := GenerateOfflineKeys(*offline); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "root and targets keys written to %s: keep this directory offline and backed up\n", *offline)
	case "init":
		if err := parse("data", "offline"); err != nil {
			return err
		}
		if _, err := Init(RepoDir(*data), *offline, opt); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "release repository created in %s; give images its root: fleet release root --data %s\n", RepoDir(*data), *data)
	case "keys rotate":
		role := fs.String("role", "", "root, targets, snapshot or timestamp")
		if err := parse("data", "offline", "role"); err != nil {
			return err
		}
		r, err := Open(RepoDir(*data), opt)
		if err != nil {
			return err
		}
		if err := r.Rotate(*offline, *role); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s key rotated\n", *role)
	case "bundle":
		version := fs.String("version", "", "release version")
		arch := fs.String("arch", runtime.GOARCH, "GOARCH of the binaries")
		units := fs.String("units", "accesskiosk-kiosk.service,accesskiosk-agent.service", "units to restart after switching, in order")
		out := fs.String("out", "", "bundle file to write")
		if err := parse("version", "out"); err != nil {
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
		fmt.Fprintf(stdout, "%s: %s for %s, %d files\n", *out, m.Version, m.Arch, len(m.Files))
	case "add":
		if err := parse("data", "offline"); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return confile.FlagError("add", "no bundle files given")
		}
		r, err := Open(RepoDir(*data), opt)
		if err != nil {
			return err
		}
		for _, b := range fs.Args() {
			rel, err := r.Add(*offline, b)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "added %s for %s (serial %d, %d bytes", rel.Version, rel.Arch, rel.Serial, rel.Length)
			if rel.Delta != "" {
				fmt.Fprintf(stdout, ", delta from %s %d bytes", rel.From(), rel.DeltaLength)
			}
			fmt.Fprintln(stdout, ")")
		}
	case "resign":
		if err := parse("data", "offline"); err != nil {
			return err
		}
		r, err := Open(RepoDir(*data), opt)
		if err != nil {
			return err
		}
		if err := r.Resign(*offline); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "targets re-signed")
	case "list":
		if err := parse("data"); err != nil {
			return err
		}
		r, err := Open(RepoDir(*data), opt)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tARCH\tSERIAL\tBYTES\tDELTA BYTES")
		for _, rel := range r.Releases() {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", rel.Version, rel.Arch, rel.Serial, rel.Length, rel.DeltaLength)
		}
		tw.Flush()
	case "root":
		out := fs.String("out", "", "write to this file instead of stdout")
		if err := parse("data"); err != nil {
			return err
		}
		r, err := Open(RepoDir(*data), opt)
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
		_, err = stdout.Write(root)
		return err
	case "rollout start":
		id := fs.String("id", "", "rollout id")
		rel := fs.String("release", "", "release version")
		db := fs.String("db", "", "the fleet's PostgreSQL store (postgres://...), to check sites and kiosks; default: SQLite in --data")
		var rings ringFlags
		fs.Var(&rings, "ring", "NAME=SPEC (repeat, canary first); SPEC: all | N% | device:ID,site:NAME,...")
		if err := parse("data", "id", "release"); err != nil {
			return err
		}
		if len(rings) == 0 {
			return confile.FlagError("ring", "at least one ring is required")
		}
		ro, err := NewRollout(*id, *rel, rings...)
		if err != nil {
			return confile.FlagError("ring", "%v", err)
		}
		if r, err := Open(RepoDir(*data), opt); err != nil {
			return err
		} else if !r.hasVersion(*rel) {
			return confile.FlagError("release", "%s is not in the repository (fleet release list)", *rel)
		}
		if co.Unknown != nil {
			var sites, devices []string
			for _, g := range rings {
				sites, devices = append(sites, g.Sites...), append(devices, g.Devices...)
			}
			if len(sites)+len(devices) > 0 {
				unknown, checked, err := co.Unknown(ctx, *data, *db, sites, devices)
				if err != nil {
					return fmt.Errorf("check the rings' sites and kiosks: %w", err)
				}
				if len(unknown) > 0 {
					return confile.FlagError("ring", "the fleet has no %s (ids as on the console's Sites and Kiosks pages); nothing was changed", strings.Join(unknown, ", "))
				}
				if !checked {
					fmt.Fprintf(stderr, "warning: sites and kiosks not checked: no fleet store in %s (give --db for a PostgreSQL fleet)\n", *data)
				}
			}
		}
		err = OpenRollouts(RolloutsPath(RepoDir(*data))).Update(func(rs []Rollout) ([]Rollout, error) {
			for _, x := range rs {
				if x.ID == *id {
					return nil, confile.FlagError("id", "rollout %q exists", *id)
				}
			}
			return append([]Rollout{ro}, rs...), nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rollout %s of %s started at ring %q (%s)\n", *id, *rel, rings[0].Name, ringWords(rings[0]))
	case "rollout advance", "rollout pause", "rollout resume", "rollout abort":
		id := fs.String("id", "", "rollout id")
		if err := parse("data", "id"); err != nil {
			return err
		}
		var state string
		err := OpenRollouts(RolloutsPath(RepoDir(*data))).Update(func(rs []Rollout) ([]Rollout, error) {
			for i := range rs {
				if rs[i].ID != *id {
					continue
				}
				var err error
				switch sub {
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
		fmt.Fprintf(stdout, "rollout %s: %s\n", *id, state)
	case "rollout list":
		if err := parse("data"); err != nil {
			return err
		}
		rs, err := OpenRollouts(RolloutsPath(RepoDir(*data))).List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRELEASE\tSTATE\tRING")
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d %s\n", r.ID, r.Release, r.State, r.Stage+1, len(r.Rings), r.Rings[r.Stage].Name)
		}
		tw.Flush()
	default:
		fmt.Fprint(stderr, CommandUsage)
		return confile.FlagError("release", "unknown subcommand %q", sub)
	}
	return nil
}

// From returns the version a release's delta applies to ("" without one).
func (r Release) From() string {
	if r.Delta == "" {
		return ""
	}
	parts := strings.Split(r.Delta, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-2]
}

func (r *Repo) hasVersion(v string) bool {
	for _, rel := range r.Releases() {
		if rel.Version == v {
			return true
		}
	}
	return false
}

type ringFlags []Ring

func (r *ringFlags) String() string { return fmt.Sprint(*r) }

func (r *ringFlags) Set(s string) error {
	name, spec, ok := strings.Cut(s, "=")
	if !ok || name == "" || spec == "" {
		return fmt.Errorf("ring %q: want NAME=SPEC", s)
	}
	for _, x := range *r {
		if x.Name == name {
			return fmt.Errorf("ring %q: a ring called %q is already given", s, name)
		}
	}
	g := Ring{Name: name}
	switch {
	case spec == "all":
		g.All = true
	case strings.HasSuffix(spec, "%"):
		n, err := strconv.Atoi(strings.TrimSuffix(spec, "%"))
		if err != nil || n < 1 || n > 100 {
			return fmt.Errorf("ring %q: percentage must be 1%%..100%%", s)
		}
		g.Percent = n
	default:
		for _, item := range strings.Split(spec, ",") {
			kind, v, ok := strings.Cut(item, ":")
			switch {
			case ok && kind == "device" && v != "":
				if !slices.Contains(g.Devices, v) {
					g.Devices = append(g.Devices, v)
				}
			case ok && kind == "site" && v != "":
				if !slices.Contains(g.Sites, v) {
					g.Sites = append(g.Sites, v)
				}
			default:
				return fmt.Errorf("ring %q: %q is not device:ID or site:NAME", s, item)
			}
		}
	}
	*r = append(*r, g)
	return nil
}

// ringWords says what a ring selects: "sites central, north; kiosks ID".
func ringWords(g Ring) string {
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
