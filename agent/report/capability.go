package report

import (
	"errors"
	"net/http"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/fleetclient"
)

// What the agent sends depends on what the fleet understands: a fleet
// older than capability 5 refuses a receipt's Counted as an unknown field,
// and one older than 7 refuses Counted's capability-7 counts (downloads,
// uploads, print_jobs, assist_ms; api's capability notes), so the agent
// sends receipts without them to a fleet that answered with less. Before
// any answer it sends everything; a 400 for a batch that carried what a
// fleet not known to take it may refuse is read as an older fleet: the
// batch goes again at once one step barer (first without capability 7's
// counts, then without Counted), and so does every batch until the fleet
// answers with its capability. A fleet that does take them but refused
// the batch for another reason then answers the next send with its
// capability, and the bad report is set aside as usual.

// Fleet capabilities that take Receipt.Counted, and its capability-7
// counts.
const (
	capabilityCounted = 5
	capabilityUsage   = 7
)

// strip is what batches go without: nothing, Counted's capability-7
// counts, or Counted altogether.
type strip int

const (
	stripNothing strip = iota
	stripUsage
	stripCounted
)

// stripFor is what a fleet of capability c cannot take.
func stripFor(c int) strip {
	switch {
	case c < capabilityCounted:
		return stripCounted
	case c < capabilityUsage:
		return stripUsage
	}
	return stripNothing
}

// fleetAnswered keeps the capability the fleet answered with.
func (r *Reporter) fleetAnswered(capability int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fleetCap = capability
	r.strip = stripFor(capability)
}

// withoutCounted takes out of reps what batches go without now and
// returns the next step a refusal would take: stripUsage when a receipt
// still carries capability 7's counts, else stripCounted when one still
// carries Counted, else stripNothing.
func (r *Reporter) withoutCounted(reps []api.Report) (next strip) {
	r.mu.Lock()
	st := r.strip
	r.mu.Unlock()
	usage, counted := false, false
	for i := range reps {
		for j := range reps[i].Receipts {
			rc := &reps[i].Receipts[j]
			switch {
			case rc.Counted == nil:
				continue
			case st >= stripCounted:
				rc.Counted = nil
				continue
			case st >= stripUsage && rc.Counted.Usage():
				rc.Counted = rc.Counted.WithoutUsage()
			}
			counted = true
			usage = usage || rc.Counted.Usage()
		}
	}
	switch {
	case usage:
		return stripUsage
	case counted:
		return stripCounted
	}
	return stripNothing
}

// olderFleet reports whether err is a fleet not known to take what the
// batch carried (next, from withoutCounted) refusing it; batches then go
// without it.
func (r *Reporter) olderFleet(err error, next strip) bool {
	var se *fleetclient.Error
	if next == stripNothing || !errors.As(err, &se) || se.Status != http.StatusBadRequest {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fleetCap > 0 && stripFor(r.fleetCap) < next {
		return false // the fleet said it takes it: the batch is bad for another reason
	}
	r.strip = max(r.strip, next)
	return true
}
