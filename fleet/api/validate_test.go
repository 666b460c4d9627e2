package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
)

func goodReport() Report {
	return Report{ID: "r1", Seq: 1, CreatedUnixMs: 1_800_000_000_000,
		Health:   Health{AgentVersion: "1.0", KioskState: "idle", MemTotalBytes: 10, MemAvailBytes: 5, DiskTotalBytes: 10, DiskFreeBytes: 5},
		Sessions: SessionCounts{Ended: 2, Assisted: 1, TotalMs: 100},
		Receipts: []Receipt{{Reason: "idle_timeout", Cleared: []string{"cookies"}, ResetMs: 120}},
		Warnings: []Warning{{Code: "disk_low", Severity: "warning", Text: "Disk is 91% full"}}}
}

func TestReportBatchValidate(t *testing.T) {
	tests := []struct {
		name      string
		change    func(b *ReportBatch)
		wantField string // "" means valid
	}{
		{"good", func(b *ReportBatch) {}, ""},
		{"acks only", func(b *ReportBatch) { b.Reports = nil; b.Acks = []CommandAck{{ID: "c1", Status: AckDone}} }, ""},
		{"empty", func(b *ReportBatch) { b.Reports = nil }, "reports"},
		{"no capability", func(b *ReportBatch) { b.Capability = 0 }, "capability"},
		{"no id", func(b *ReportBatch) { b.Reports[0].ID = "" }, "reports[0].id"},
		{"id with slash", func(b *ReportBatch) { b.Reports[0].ID = "a/b" }, "reports[0].id"},
		{"no time", func(b *ReportBatch) { b.Reports[0].CreatedUnixMs = 0 }, "reports[0].created_unix_ms"},
		{"hot sun", func(b *ReportBatch) { b.Reports[0].Health.TempCelsius = 5000 }, "reports[0].health.temp_celsius"},
		{"more free than total", func(b *ReportBatch) { b.Reports[0].Health.DiskFreeBytes = 11 }, "reports[0].health.disk_free_bytes"},
		{"state with control char", func(b *ReportBatch) { b.Reports[0].Health.KioskState = "idle\x00" }, "reports[0].health.kiosk_state"},
		{"assisted > ended", func(b *ReportBatch) { b.Reports[0].Sessions.Assisted = 3 }, "reports[0].sessions.ended"},
		{"receipt without reason", func(b *ReportBatch) { b.Reports[0].Receipts[0].Reason = "" }, "reports[0].receipts[0].reason"},
		{"receipt with a URL", func(b *ReportBatch) { b.Reports[0].Receipts[0].Cleared = []string{"https://example.com/x"} }, "reports[0].receipts[0].cleared[0]"},
		{"bad severity", func(b *ReportBatch) { b.Reports[0].Warnings[0].Severity = "panic" }, "reports[0].warnings[0].severity"},
		{"long warning", func(b *ReportBatch) { b.Reports[0].Warnings[0].Text = strings.Repeat("x", MaxTextLen+1) }, "reports[0].warnings[0].text"},
		{"bad ack", func(b *ReportBatch) { b.Acks = []CommandAck{{ID: "c1", Status: "ok"}} }, "acks[0].status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &ReportBatch{Capability: CapabilityVersion, Reports: []Report{goodReport()}}
			tt.change(b)
			err := b.Validate()
			got := ""
			if ve, ok := err.(*ValidationError); ok {
				got = ve.Field
			} else if err != nil {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if got != tt.wantField {
				t.Errorf("Validate() field = %q (%v), want %q", got, err, tt.wantField)
			}
		})
	}
}

func TestEnrolRequestValidate(t *testing.T) {
	good := EnrolRequest{Token: "ake_abc", Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: 1}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []EnrolRequest{
		{Hostname: "k", Arch: "a", AgentVersion: "1", Capability: 1},
		{Token: "ake_abc", Hostname: "k 1", Arch: "a", AgentVersion: "1", Capability: 1},
		{Token: "ake_abc", Hostname: "k", Arch: "a", AgentVersion: "1"},
		{Token: strings.Repeat("a", MaxTokenLen+1), Hostname: "k", Arch: "a", AgentVersion: "1", Capability: 1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}

func TestEnrolRequestDeviceKey(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signed := func(token string, k ed25519.PrivateKey) EnrolRequest {
		r := EnrolRequest{Token: token, Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: CapabilityVersion}
		r.SignEnrol(k)
		return r
	}
	tests := []struct {
		name      string
		req       func() EnrolRequest
		wantField string
	}{
		{"signed", func() EnrolRequest { return signed("ake_abc", key) }, ""},
		{"no key at all (before capability 4)", func() EnrolRequest { r := signed("ake_abc", key); r.DeviceKey, r.KeyProof = "", ""; return r }, ""},
		{"key without proof", func() EnrolRequest { r := signed("ake_abc", key); r.KeyProof = ""; return r }, "key_proof"},
		{"proof without key", func() EnrolRequest { r := signed("ake_abc", key); r.DeviceKey = ""; return r }, "device_key"},
		{"key not base64", func() EnrolRequest { r := signed("ake_abc", key); r.DeviceKey = "not base64!"; return r }, "device_key"},
		{"short key", func() EnrolRequest { r := signed("ake_abc", key); r.DeviceKey = "AAAA"; return r }, "device_key"},
		{"short proof", func() EnrolRequest { r := signed("ake_abc", key); r.KeyProof = "AAAA"; return r }, "key_proof"},
		{"proof for another token", func() EnrolRequest { r := signed("ake_other", key); r.Token = "ake_abc"; return r }, "key_proof"},
		{"proof by another key", func() EnrolRequest {
			r := signed("ake_abc", key)
			r.KeyProof = signed("ake_abc", other).KeyProof
			return r
		}, "key_proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			err := r.Validate()
			got := ""
			if ve, ok := err.(*ValidationError); ok {
				got = ve.Field
			} else if err != nil {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if got != tt.wantField {
				t.Errorf("Validate() field = %q (%v), want %q", got, err, tt.wantField)
			}
		})
	}
}

// FuzzReportBatch: any body either fails to decode, fails validation with a
// field named, or is a batch within every limit. Nothing panics.
func FuzzReportBatch(f *testing.F) {
	good, _ := json.Marshal(ReportBatch{Capability: 2, Reports: []Report{goodReport()}})
	f.Add(good)
	f.Add([]byte(`{"capability":1,"acks":[{"id":"x","status":"done"}]}`))
	f.Add([]byte(`{"capability":1,"reports":[{"id":"","health":{"temp_celsius":1e308}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b ReportBatch
		if json.Unmarshal(data, &b) != nil {
			return
		}
		err := b.Validate()
		if err != nil {
			if ve, ok := err.(*ValidationError); !ok || ve.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if len(b.Reports) > MaxReportsPerBatch || len(b.Acks) > MaxAcksPerBatch || len(b.Reports)+len(b.Acks) == 0 {
			t.Fatalf("valid batch out of limits: %d reports, %d acks", len(b.Reports), len(b.Acks))
		}
		for _, r := range b.Reports {
			if r.ID == "" || len(r.Receipts) > MaxReceiptsInReport || len(r.Warnings) > MaxWarnings {
				t.Fatalf("valid report out of limits: %+v", r)
			}
		}
	})
}

func TestCheckVolunteerCode(t *testing.T) {
	for _, tc := range []struct {
		code    string
		seconds int
		want    string // "" means valid
	}{
		{"04718263", 600, ""},
		{"00000000", 1, ""},
		{"99999999", MaxVolunteerCodeSeconds, ""},
		{"", 600, "text: "},
		{"1234567", 600, "text: "},
		{"123456789", 600, "text: "},
		{"1234 678", 600, "text: "},
		{"１２３４５６７８", 600, "text: "},
		{"12345678", 0, "seconds: "},
		{"12345678", -5, "seconds: "},
		{"12345678", MaxVolunteerCodeSeconds + 1, "seconds: "},
	} {
		err := CheckVolunteerCode(tc.code, tc.seconds)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
			t.Errorf("CheckVolunteerCode(%q, %d) = %q, want prefix %q", tc.code, tc.seconds, got, tc.want)
		}
		if tc.code != "" && strings.Contains(got, tc.code) {
			t.Errorf("error %q repeats the code", got)
		}
	}
}
