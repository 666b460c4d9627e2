package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/shared"
	"accesskiosk/fleet/store"
)

// releaseServing opens the release repository when `fleet release init`
// made one (in the database with PostgreSQL, in DATA/release with
// SQLite), and returns the handler the server mounts under /release/ and
// the function that answers each device's desired release from the
// rollouts. Without a repository both are nil.
func releaseServing(sh *shared.State, log *logrus.Entry) (http.Handler, func(id, site, running string) string, error) {
	if sh.ReleaseStorage == nil {
		return nil, nil, nil
	}
	repo, err := release.OpenStorage(sh.ReleaseStorage, release.Options{Log: log})
	if errors.Is(err, release.ErrNoRepository) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	rollouts := sh.Rollouts
	desired := func(id, site, running string) string {
		v, err := rollouts.Desired(release.Device{ID: id, Site: site, Running: running})
		if err != nil {
			log.WithError(err).Error("rollouts unreadable; devices keep their release")
		}
		return v
	}
	return repo.Handler(), desired, nil
}

// releaseDir is where the console finds the release repository and its
// rollouts ("" without a data directory).
func releaseDir(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	return release.RepoDir(dataDir)
}

// unknownTargets checks a rollout's sites and kiosks against the fleet's
// store (PostgreSQL with db, else SQLite in data, when there is one):
// `fleet release rollout start` refuses ids the fleet does not know.
func unknownTargets(ctx context.Context, data, db string, sites, devices []string) (unknown []string, checked bool, err error) {
	sf := storeFlags{data: data, db: db}
	if err := sf.check(); err != nil {
		return nil, false, err
	}
	if db == "" {
		if _, err := os.Stat(filepath.Join(data, "fleet.db")); errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	st, err := sf.open(ctx, l)
	if err != nil {
		return nil, false, err
	}
	defer st.Close()
	for _, id := range sites {
		ok, err := st.SiteExists(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			unknown = append(unknown, "site "+id)
		}
	}
	for _, id := range devices {
		ds, err := st.Devices(ctx, store.DeviceFilter{DeviceID: id})
		if err != nil {
			return nil, false, err
		}
		if len(ds) == 0 {
			unknown = append(unknown, "kiosk "+id)
		}
	}
	return unknown, true, nil
}
