// Package cli is the fleet program's command line: `fleet serve` and the
// `fleet admin ...` commands that work on the store directly (first admin,
// API tokens, sites, enrolment tokens). main only calls Main, so tests drive
// the whole command line in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/store"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
)

const intro = `fleet: the Access Kiosk fleet server, its console and its release repository.

The admin commands take --db too, to work on a PostgreSQL store.`

// Main runs the command line and returns the exit status: 0, 1 for a
// failure, 2 for bad flags or config.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cmdline.Status(stderr, "fleet", run(ctx, args, stdout, stderr))
}

func commands(stdout, stderr io.Writer) []cmdline.Command {
	cmds := []cmdline.Command{
		{Name: "serve", Summary: "run the fleet server", Synopsis: serveSynopsis,
			Run: func(ctx context.Context, args []string) error { return serveCmd(ctx, args, stdout, stderr) }},
	}
	cmds = append(cmds, adminCommands(stdout, stderr)...)
	cmds = append(cmds, releaseCommands(stdout, stderr)...)
	cmds = append(cmds, tlsCommands(stdout, stderr)...)
	return append(cmds, cmdline.Command{Name: "version", Summary: "print the version",
		Run: func(context.Context, []string) error { fmt.Fprintln(stdout, version.Version); return nil }})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands(stdout, stderr)
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "--help":
			cmdline.Usage(stdout, "fleet", intro, cmds)
			return nil
		case "--version":
			fmt.Fprintln(stdout, version.Version)
			return nil
		}
	}
	c, rest, err := cmdline.Find(cmds, args)
	if err != nil {
		return err
	}
	return c.Run(ctx, rest)
}

// flagSet returns the flag set of `fleet NAME`.
func flagSet(name, synopsis string) *cmdline.FlagSet {
	return cmdline.NewFlagSet("fleet "+name, synopsis)
}

// storeFlags are the flags every command that opens the store shares.
type storeFlags struct {
	data string
	db   string
}

func (sf *storeFlags) add(fs *cmdline.FlagSet) {
	fs.StringVar(&sf.data, "data", "", "the fleet's data `DIR` (SQLite store, TLS certificate)")
	fs.StringVar(&sf.db, "db", "", "PostgreSQL store, a postgres://... `URL`; default: SQLite in --data")
}

// check checks the flags and that --data is a directory that exists: a
// mistyped path must not become a new, empty store. Only `admin create`
// makes the directory (create).
func (sf *storeFlags) check(create ...bool) error {
	if sf.db != "" && !strings.HasPrefix(sf.db, "postgres://") && !strings.HasPrefix(sf.db, "postgresql://") {
		return confile.FlagError("db", "must be a postgres:// URL")
	}
	if sf.data == "" && sf.db == "" {
		return confile.FlagError("data", "is required (the directory for the store)")
	}
	if sf.data == "" {
		return nil
	}
	st, err := os.Stat(sf.data)
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(create) > 0 && create[0]:
		if err := os.MkdirAll(sf.data, 0o700); err != nil {
			return fmt.Errorf("make the data directory: %w", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		return confile.FlagError("data", "%s does not exist (fleet admin create makes it; is the path right?)", sf.data)
	case err != nil:
		return confile.FlagError("data", "%v", err)
	case !st.IsDir():
		return confile.FlagError("data", "%s is not a directory", sf.data)
	}
	return nil
}

// where names the store in messages.
func (sf *storeFlags) where() string {
	if sf.db != "" {
		return "the PostgreSQL store"
	}
	return filepath.Join(sf.data, "fleet.db")
}

func (sf *storeFlags) open(ctx context.Context, log logrus.FieldLogger) (*store.Store, error) {
	if sf.db != "" {
		return store.Open(ctx, store.Config{Dialect: store.Postgres, DSN: sf.db}, log)
	}
	return store.Open(ctx, store.Config{Dialect: store.SQLite, Path: filepath.Join(sf.data, "fleet.db")}, log)
}
