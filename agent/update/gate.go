package update

import (
	"context"
	"fmt"
	"time"

	"accesskiosk/kiosk/bus"
)

// KioskGate is the health gate the agent uses: the kiosk answers Status on
// the bus in a ready state (anything but "starting"), running the new
// version when it says which it runs, and the agent's report loop has had
// a report accepted by the fleet since the switch, and (when Agent is set)
// the agent running the gate is the new version.
type KioskGate struct {
	Kiosk Kiosk
	// Agent is the running agent's version. An agent of another version
	// resuming a switch is an earlier release's agent that release-exec
	// ran because the new one would not start: the gate must fail (and so
	// roll back), not pass on that agent's own reports. "" skips the check.
	Agent string
	// Reported returns whether a report was accepted at or after since;
	// nil skips that check.
	Reported func(since time.Time) bool
}

// Healthy implements Gate.
func (g KioskGate) Healthy(ctx context.Context, version string, since time.Time) error {
	if g.Agent != "" && g.Agent != version {
		return fmt.Errorf("the agent runs %s, not %s", g.Agent, version)
	}
	if g.Kiosk != nil {
		st, err := g.Kiosk.Status(ctx)
		if err != nil {
			return fmt.Errorf("kiosk not on the bus: %w", err)
		}
		if st.State == bus.StateStarting || st.State == "" {
			return fmt.Errorf("kiosk not ready (state %q)", st.State)
		}
		if st.Version != "" && st.Version != version {
			return fmt.Errorf("kiosk runs %s, not %s", st.Version, version)
		}
	}
	if g.Reported != nil && !g.Reported(since) {
		return fmt.Errorf("no report accepted by the fleet since %s", since.Format(time.RFC3339))
	}
	return nil
}
