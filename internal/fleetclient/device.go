package fleetclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"accesskiosk/fleet/api"
)

// The device methods: what the agent calls.

// SetCredential sets the device credential sent with Report.
func (c *Client) SetCredential(cred string) {
	c.mu.Lock()
	c.cred = cred
	c.mu.Unlock()
}

// Enrol exchanges an enrolment token for a device credential (POST
// api.PathEnrol). agent/enrol wraps it with the device key, the fallback
// for older fleets and the identity file.
func (c *Client) Enrol(ctx context.Context, req api.EnrolRequest) (api.EnrolResponse, error) {
	var resp api.EnrolResponse
	if err := c.do(ctx, http.MethodPost, api.PathEnrol, "", req, &resp); err != nil {
		return resp, fmt.Errorf("enrol: %w", err)
	}
	if resp.DeviceID == "" || resp.Credential == "" {
		return resp, errors.New("enrol: the fleet answered without a device id or credential")
	}
	return resp, nil
}

// Report sends a batch of reports and acknowledgements (POST
// api.PathReport) and returns the fleet's answer.
func (c *Client) Report(ctx context.Context, b api.ReportBatch) (api.ReportResponse, error) {
	c.mu.Lock()
	cred := c.cred
	c.mu.Unlock()
	if cred == "" {
		return api.ReportResponse{}, errors.New("send report batch: no device credential (not enrolled)")
	}
	var resp api.ReportResponse
	if err := c.do(ctx, http.MethodPost, api.PathReport, cred, b, &resp); err != nil {
		return resp, fmt.Errorf("send report batch: %w", err)
	}
	return resp, nil
}
