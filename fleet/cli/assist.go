package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/assist"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/shared"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/confile"
)

// assistOfferWait is how long an Offer help command waits for its kiosk:
// the hub's own offer gives up after two minutes.
const assistOfferWait = 2 * time.Minute

// startAssist makes remote help's hub (issue 17) when the config enables
// it: agents authenticate as the device API does, staff as the console
// does, with the console's assist permission; Offer help becomes an
// assist_offer command; starts and ends go to the audit log; the hub's
// counts are on /metrics; wrong help codes are counted in the shared
// throttle. With several replicas (replicas not nil), the hub records its
// codes and shares in the database and serves the other replicas on the
// internal listener, so codes, offers and viewers work whichever replica
// each party reaches. The hub ends every share when ctx ends. nil when off.
func startAssist(ctx context.Context, cfg Config, st *store.Store, sh *shared.State, hop *replicaHop, con *console.Console,
	srv func() *server.Server, reg prometheus.Registerer, log *logrus.Logger) (*assist.Hub, error) {
	if !cfg.Assist.Enabled {
		return nil, nil
	}
	alog := applog.Component(log, "assist")
	var dir assist.Directory
	var replicas *assist.Replicas
	if hop != nil {
		replicas = hop.r
		dir = sh.AssistDirectory(replicas.Self())
	}
	hub, err := assist.New(assist.Config{
		Throttle:   sh.Throttle,
		Directory:  dir,
		Replicas:   replicas,
		DeviceAuth: func(r *http.Request) (string, error) { return srv().DeviceID(r) },
		StaffAuth:  con.AssistStaff,
		MayAssist:  con.MayAssist,
		OnOffer: func(ctx context.Context, staff, deviceID, shareID string) error {
			_, err := st.IssueCommand(ctx, deviceID, staff, api.Command{Kind: api.CommandAssistOffer, Text: shareID,
				Seconds: int(assistOfferWait / time.Second)})
			return err
		},
		Audit: func(e assist.Event) {
			actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := st.Audit(actx, e.Staff, e.Action, e.DeviceID, e.Detail()); err != nil {
				alog.WithError(err).Error("remote help: audit entry not written")
			}
		},
		Registerer: reg,
		Log:        alog,
		OfferTTL:   assistOfferWait,
	})
	if err != nil {
		return nil, err
	}
	// Serve calls Close again before its store closes (it waits for this one).
	context.AfterFunc(ctx, hub.Close)
	if hop != nil {
		go serveInternal(ctx, hop, hub, alog)
	}
	return hub, nil
}

// startReplicaHop listens on --internal-addr for the other replicas (TLS
// with the replicas' shared certificate both ways: served, the one given
// with --tls-cert or else the one in the database) and says so on stdout.
func startReplicaHop(ctx context.Context, o ServeOptions, sh *shared.State, cert tls.Certificate, main net.Addr,
	stdout io.Writer) (*replicaHop, error) {
	if o.InternalAddr == "" {
		return nil, confile.FlagError("internal-addr", "is required with --db when assist is enabled: the HOST:PORT the other replicas reach this one at for remote help")
	}
	if len(cert.Certificate) == 0 {
		var err error
		if cert, _, err = sh.TLSCert(ctx, certHosts(main)); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", o.InternalAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on --internal-addr %s: %w", o.InternalAddr, err)
	}
	host, _, _ := net.SplitHostPort(o.InternalAddr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	self := net.JoinHostPort(host, port)
	r, err := assist.NewReplicas(self, cert)
	if err != nil {
		ln.Close()
		return nil, err
	}
	fmt.Fprintf(stdout, "fleet: remote help between replicas at %s (internal: only a holder of the replicas' certificate)\n", self)
	return &replicaHop{r: r, ln: ln}, nil
}

// serveInternal serves the other replicas on ln until ctx ends.
func serveInternal(ctx context.Context, hop *replicaHop, hub *assist.Hub, log *logrus.Entry) {
	hs := &http.Server{Handler: hub.InternalHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 8 << 10, ErrorLog: stdlog.New(log.WriterLevel(logrus.DebugLevel), "", 0)}
	context.AfterFunc(ctx, func() { hs.Close() })
	if err := hs.Serve(tls.NewListener(hop.ln, hop.r.ServerTLS())); err != nil && ctx.Err() == nil {
		log.WithError(err).Error("remote help: the internal listener for the other replicas stopped")
	}
}

// replicaHop is this replica's end of the hop between replicas.
type replicaHop struct {
	r  *assist.Replicas
	ln net.Listener
}
