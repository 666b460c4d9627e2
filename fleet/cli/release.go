package cli

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release"
)

// releaseServing opens the release repository in DATA/release when
// `fleet release init` made one, and returns the handler the server mounts
// under /release/ and the function that answers each device's desired
// release from the rollouts beside it. Without a repository both are nil.
func releaseServing(dataDir string, log *logrus.Entry) (http.Handler, func(id, site, running string) string, error) {
	if dataDir == "" {
		return nil, nil, nil
	}
	dir := release.RepoDir(dataDir)
	if _, err := os.Stat(filepath.Join(dir, "metadata", "root.json")); errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	repo, err := release.Open(dir, release.Options{Log: log})
	if err != nil {
		return nil, nil, err
	}
	rollouts := release.OpenRollouts(release.RolloutsPath(dir))
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
