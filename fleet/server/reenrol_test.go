package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store/storetest"
)

// TestReenrolWithDeviceKey: through the real handler, a device that lost
// the answer to its enrolment presents the same token with the same key
// and gets its device back with a fresh credential; the credential before
// stops working at once (even though the server had cached it); the
// re-enrolment is audited; other keys, no key, a forged proof and a
// withdrawn device are refused.
func TestReenrolWithDeviceKey(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	tok := f.token(1, time.Hour)
	_, keyA, _ := ed25519.GenerateKey(rand.Reader)
	_, keyB, _ := ed25519.GenerateKey(rand.Reader)
	enrol := func(key ed25519.PrivateKey, change func(*api.EnrolRequest)) (int, api.EnrolResponse, api.Error) {
		t.Helper()
		req := api.EnrolRequest{Token: tok, Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: api.CapabilityVersion}
		if key != nil {
			req.SignEnrol(key)
		}
		if change != nil {
			change(&req)
		}
		code, body, _ := f.do("POST", api.PathEnrol, "", req)
		var r api.EnrolResponse
		var e api.Error
		if code == 200 {
			json.Unmarshal(body, &r)
		} else {
			json.Unmarshal(body, &e)
		}
		return code, r, e
	}
	reportWith := func(cred string, seq uint64) int {
		t.Helper()
		code, _, _ := f.do("POST", api.PathReport, cred, api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{report("r"+string(rune('a'+seq)), seq)}})
		return code
	}

	code, first, _ := enrol(keyA, nil)
	if code != 200 || first.Reenrolled {
		t.Fatalf("first enrolment: %d %+v", code, first)
	}
	if got := reportWith(first.Credential, 1); got != 200 {
		t.Fatalf("report with the first credential: %d", got)
	}
	code, again, _ := enrol(keyA, func(r *api.EnrolRequest) { r.Hostname = "kiosk-1b" })
	if code != 200 || !again.Reenrolled || again.DeviceID != first.DeviceID || again.Site != "central" || again.Credential == first.Credential {
		t.Fatalf("same key again: %d %+v, want device %s again with a new credential", code, again, first.DeviceID)
	}
	tests := []struct {
		name string
		cred string
		want int
	}{
		{"the credential before re-enrolling", first.Credential, 401},
		{"the new credential", again.Credential, 200},
	}
	for i, tt := range tests {
		if got := reportWith(tt.cred, uint64(2+i)); got != tt.want {
			t.Errorf("report with %s: %d, want %d", tt.name, got, tt.want)
		}
	}

	refusals := []struct {
		name     string
		key      ed25519.PrivateKey
		change   func(*api.EnrolRequest)
		wantCode int
		wantErr  string
		wantMsg  string
	}{
		{"another key", keyB, nil, 403, api.CodeTokenUsed, "already been used"},
		{"no key", nil, nil, 403, api.CodeTokenUsed, "device key"},
		{"key A's public key with B's proof", keyB, func(r *api.EnrolRequest) {
			r.DeviceKey = base64Key(keyA)
		}, 400, api.CodeBadRequest, "key_proof"},
	}
	for _, tt := range refusals {
		code, _, e := enrol(tt.key, tt.change)
		if code != tt.wantCode || e.Code != tt.wantErr || !strings.Contains(e.Message, tt.wantMsg) {
			t.Errorf("%s: %d %+v, want %d %s saying %q", tt.name, code, e, tt.wantCode, tt.wantErr, tt.wantMsg)
		}
	}

	audit, err := f.st.AuditLog(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range audit {
		if a.Action == "device.reenrol" {
			n++
			if a.Target != first.DeviceID || a.Actor != "device:"+first.DeviceID || !strings.Contains(a.Detail, "kiosk-1b") || strings.Contains(a.Detail, tok) {
				t.Errorf("audit entry %+v", a)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d device.reenrol audit entries, want 1", n)
	}

	// IT withdraws the device (as the console does): its key and token no
	// longer bring it back.
	if err := f.st.RevokeDevice(context.Background(), first.DeviceID); err != nil {
		t.Fatal(err)
	}
	f.srv.ForgetDevice(first.DeviceID)
	if code, _, e := enrol(keyA, nil); code != 403 || e.Code != api.CodeDeviceRevoked || !strings.Contains(e.Message, "withdrawn") {
		t.Errorf("withdrawn device with its key: %d %+v, want 403 device_revoked", code, e)
	}
}

func base64Key(k ed25519.PrivateKey) string {
	var r api.EnrolRequest
	r.SignEnrol(k)
	return r.DeviceKey
}

// TestReenrolSeenByAnotherReplica: two fleet servers on one store (as
// replicas on PostgreSQL are), each with its own credential cache. A device
// re-enrols through one; the other, which cached the credential before,
// takes the new one at once instead of refusing it for the cache's life.
func TestReenrolSeenByAnotherReplica(t *testing.T) {
	st := storetest.SQLite(t)
	a := newFixture(t, st)
	b := newFixture(t, st)
	b.clock = a.clock // one clock for both
	tok := a.token(1, time.Hour)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	enrol := func() api.EnrolResponse {
		t.Helper()
		req := api.EnrolRequest{Token: tok, Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: api.CapabilityVersion}
		req.SignEnrol(key)
		code, body, _ := a.do("POST", api.PathEnrol, "", req)
		var r api.EnrolResponse
		if code != 200 || json.Unmarshal(body, &r) != nil {
			t.Fatalf("enrol through replica a: %d %s", code, body)
		}
		return r
	}
	first := enrol()
	batch := func(id string, seq uint64) api.ReportBatch {
		return api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{report(id, seq)}}
	}
	if code, body, _ := b.do("POST", api.PathReport, first.Credential, batch("r1", 1)); code != 200 {
		t.Fatalf("report through replica b: %d %s", code, body)
	}
	again := enrol()
	*a.clock = a.clock.Add(2 * time.Second) // b's cache entry is a little old, not expired
	if code, body, _ := b.do("POST", api.PathReport, again.Credential, batch("r2", 2)); code != 200 {
		t.Errorf("new credential through replica b, which cached the old one: %d %s, want 200", code, body)
	}
	if code, _, _ := b.do("POST", api.PathReport, first.Credential, batch("r3", 3)); code != 401 {
		t.Errorf("old credential through replica b after it looked again: %d, want 401", code)
	}
}
