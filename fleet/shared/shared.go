// Package shared gives a fleet server the state its replicas must share.
// On PostgreSQL (several `fleet serve` replicas on one database) all of it
// is in the database: the TLS certificate agents pin, the release
// repository and its rollouts, the rate limits and sign-in holds before
// authentication, which replica runs the alert checks, and the
// notifications that tell every replica at once of a withdrawn
// credential, and remote help's waiting codes and shares with the replica
// holding each one's agent link (AssistDirectory). On SQLite (one server, the default) it is where it always
// was: the data directory and this process's memory.
//
// What every replica keeps in memory either way is a cache or a bound on
// its own work: device credentials (dropped on notification, and checked
// again in each ingest transaction), each device's request rate, the
// password-derivation slots, and the alert webhook queue.
package shared

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
)

// Config says where a fleet server's state is.
type Config struct {
	Store *store.Store
	// DataDir is the server's data directory ("" for none): with SQLite
	// the release repository (DATA/release, its rollouts beside it) and
	// the self-signed certificate (DATA/tls) are kept there.
	DataDir string
	Log     logrus.FieldLogger
	// Now is the clock of the throttles (nil: time.Now).
	Now func() time.Time
}

// State is what a fleet server's replicas share, or keep for themselves
// when there is one server.
type State struct {
	cfg Config
	// Shared is true on PostgreSQL.
	Shared bool
	// Listener hears of changes other replicas make (nil on SQLite); Run
	// runs it.
	Listener *store.Listener
	// Throttle keeps the limits before authentication (sign-in, enrolment,
	// admin API).
	Throttle throttle.State
	// AlertLeader is the role of the replica that runs the alert checks
	// and posts the webhook; PruneLeader the one that prunes old rows
	// (nil on SQLite: the one server does both).
	AlertLeader, PruneLeader *store.Leadership
	// ReleaseStorage keeps the release repository (nil on SQLite without
	// a data directory); Rollouts the rollouts.
	ReleaseStorage release.Storage
	Rollouts       release.Rollouts
}

// New returns the state for cfg.Store's database.
func New(cfg Config) (*State, error) {
	if cfg.Store == nil || cfg.Log == nil {
		return nil, errors.New("shared: Store and Log are required")
	}
	s := &State{cfg: cfg, ReleaseStorage: ReleaseStorage(cfg.Store, cfg.DataDir), Rollouts: Rollouts(cfg.Store, cfg.DataDir)}
	if cfg.Store.Dialect() != store.Postgres {
		s.Throttle = throttle.NewMemory(cfg.Now, 0)
		return s, nil
	}
	s.Shared = true
	th, err := cfg.Store.Throttle(cfg.Now, 0)
	if err != nil {
		return nil, err
	}
	s.Throttle = th
	s.Listener = cfg.Store.NewListener()
	if d, ok := s.Rollouts.(*release.RolloutDoc); ok {
		s.Listener.Subscribe(store.ChanDocs, func(name string) {
			if name == store.DocRollouts {
				d.Invalidate()
			}
		})
		s.Listener.OnReset(d.Invalidate)
	}
	s.AlertLeader = cfg.Store.Leadership("alerts")
	s.PruneLeader = cfg.Store.Leadership("prune")
	return s, nil
}

// Run runs the listener until ctx ends (at once on SQLite).
func (s *State) Run(ctx context.Context) {
	if s.Listener != nil {
		s.Listener.Run(ctx)
	}
}

// TLSCert returns the certificate to serve when the operator gave none:
// on PostgreSQL the one kept in the database for every replica (made by
// whichever replica starts first), on SQLite the one in DATA/tls. Both
// are self-signed for hosts when made.
func (s *State) TLSCert(ctx context.Context, hosts []string) (cert tls.Certificate, created bool, err error) {
	if s.Shared {
		return tlscert.LoadOrCreateShared(ctx, s.cfg.Store, hosts)
	}
	if s.cfg.DataDir == "" {
		return cert, false, errors.New("no data directory to keep the self-signed TLS certificate in")
	}
	return tlscert.LoadOrCreate(filepath.Join(s.cfg.DataDir, "tls"), hosts)
}

// ReleaseStorage is where the fleet keeps its release repository: in the
// database on PostgreSQL, in DATA/release on SQLite (nil without a data
// directory).
func ReleaseStorage(st *store.Store, dataDir string) release.Storage {
	if st.Dialect() == store.Postgres {
		return dbStorage{st.ReleaseFiles()}
	}
	if dataDir == "" {
		return nil
	}
	return release.DirStorage(release.RepoDir(dataDir))
}

// Rollouts is where the fleet keeps its rollouts: a document in the
// database on PostgreSQL, DATA/release/rollouts.json on SQLite.
func Rollouts(st *store.Store, dataDir string) release.Rollouts {
	if st.Dialect() == store.Postgres {
		return release.OpenRolloutDoc(st, store.DocRollouts)
	}
	dir := ""
	if dataDir != "" {
		dir = release.RepoDir(dataDir)
	}
	return release.OpenRollouts(release.RolloutsPath(dir))
}

// dbStorage is the store's ReleaseFiles as a release.Storage.
type dbStorage struct{ *store.ReleaseFiles }

func (d dbStorage) Open(ctx context.Context, name string) (release.File, error) {
	f, err := d.ReleaseFiles.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Describe says, for the log at start, where the shared state is.
func (s *State) Describe() string {
	if s.Shared {
		return "replicas share everything through PostgreSQL (TLS certificate, release repository and rollouts, limits, sessions, alert leader, remote help's codes and shares)"
	}
	return fmt.Sprintf("one server: release repository and TLS certificate in %s, limits in memory", s.cfg.DataDir)
}
