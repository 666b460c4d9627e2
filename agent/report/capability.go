package report

import (
	"errors"
	"net/http"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/fleetclient"
)

// What the agent sends depends on what the fleet understands: a fleet
// older than capability 5 refuses a receipt's Counted as an unknown field
// (api's capability notes), so the agent sends receipts without it to a
// fleet that answered with less. Before any answer it sends Counted; a
// 400 for a batch that carried Counted, from a fleet not known to take
// it, is read as an older fleet: the batch goes again at once without
// Counted, and so does every batch until the fleet answers with 5 or
// more. A fleet that does take Counted but refused the batch for another
// reason then answers the next send with its capability, and the bad
// report is set aside as usual.

// capabilityCounted is the fleet capability that takes Receipt.Counted.
const capabilityCounted = 5

// fleetAnswered keeps the capability the fleet answered with.
func (r *Reporter) fleetAnswered(capability int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fleetCap = capability
	r.noCounted = capability < capabilityCounted
}

// withoutCounted reports whether batches go without Counted now, and
// takes it out of reps if so; carried says whether any receipt of reps
// still carries it.
func (r *Reporter) withoutCounted(reps []api.Report) (carried bool) {
	r.mu.Lock()
	strip := r.noCounted
	r.mu.Unlock()
	for i := range reps {
		for j := range reps[i].Receipts {
			if reps[i].Receipts[j].Counted == nil {
				continue
			}
			if strip {
				reps[i].Receipts[j].Counted = nil
			} else {
				carried = true
			}
		}
	}
	return carried
}

// olderFleet reports whether err is a fleet not known to take Counted
// refusing a batch that carried it; it then sends without Counted.
func (r *Reporter) olderFleet(err error, carried bool) bool {
	var se *fleetclient.Error
	if !carried || !errors.As(err, &se) || se.Status != http.StatusBadRequest {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fleetCap >= capabilityCounted {
		return false
	}
	r.noCounted = true
	return true
}
