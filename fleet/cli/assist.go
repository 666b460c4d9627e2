package cli

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/assist"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/applog"
)

// assistOfferWait is how long an Offer help command waits for its kiosk:
// the hub's own offer gives up after two minutes.
const assistOfferWait = 2 * time.Minute

// startAssist makes remote help's hub (issue 17) when the config enables
// it: agents authenticate as the device API does, staff as the console
// does, with the console's assist permission; Offer help becomes an
// assist_offer command; starts and ends go to the audit log; the hub's
// counts are on /metrics. Shares live in this process's memory only (with
// several replicas, a kiosk's agent and its viewer must reach the same
// one). The hub ends every share when ctx ends. nil when off.
func startAssist(ctx context.Context, cfg Config, st *store.Store, con *console.Console, srv func() *server.Server,
	reg prometheus.Registerer, log *logrus.Logger) (*assist.Hub, error) {
	if !cfg.Assist.Enabled {
		return nil, nil
	}
	alog := applog.Component(log, "assist")
	hub, err := assist.New(assist.Config{
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
	context.AfterFunc(ctx, hub.Close)
	return hub, nil
}
