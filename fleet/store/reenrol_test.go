package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestEnrolIdempotentPerDeviceKey: a device whose first boot was cut off
// after the fleet took its token presents the same token with the same key
// and gets its device back (same id, new credential, the old one no longer
// valid, no use spent); any other key, or none, is refused while the token
// is used up; expiry, revocation and a withdrawn device end it. On SQLite
// and PostgreSQL.
func TestEnrolIdempotentPerDeviceKey(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			clock := time.UnixMilli(1_800_000_000_000)
			s.SetClock(func() time.Time { return clock })
			ctx := context.Background()
			if _, err := s.CreateSite(ctx, "central", "Central Library"); err != nil {
				t.Fatal(err)
			}
			keys := map[string]ed25519.PrivateKey{}
			for _, k := range []string{"A", "B", "C"} {
				_, keys[k], _ = ed25519.GenerateKey(rand.Reader)
			}
			req := func(token, key string) *api.EnrolRequest {
				r := &api.EnrolRequest{Token: token, Hostname: "kiosk-" + key, Arch: "arm64", AgentVersion: "1.0", Capability: api.CapabilityVersion}
				if key != "" {
					r.SignEnrol(keys[key])
				}
				if err := r.Validate(); err != nil {
					t.Fatal(err)
				}
				return r
			}
			single, _ := s.CreateToken(ctx, "central", "alice", time.Hour, 1)
			double, _ := s.CreateToken(ctx, "central", "alice", time.Hour, 2)
			revoked, _ := s.CreateToken(ctx, "central", "alice", time.Hour, 1)
			short, _ := s.CreateToken(ctx, "central", "alice", time.Minute, 1)
			secret := map[string]string{"single": single.Secret, "double": double.Secret, "revoked": revoked.Secret, "short": short.Secret}
			// devices["single/A"] is the device key A got with token single.
			devices := map[string]string{}
			creds := map[string]string{}

			steps := []struct {
				name           string
				token, key     string
				before         func()
				wantErr        error
				wantReenrolled bool
				sameAs         string // the device this must be (token/key), "" for a new one
			}{
				{"first enrolment", "single", "A", nil, nil, false, ""},
				{"same key again: same device", "single", "A", nil, nil, true, "single/A"},
				{"and again", "single", "A", nil, nil, true, "single/A"},
				{"another key with the used token", "single", "B", nil, store.ErrTokenUsed, false, ""},
				{"no key with the used token", "single", "", nil, store.ErrTokenUsed, false, ""},
				{"two-use token, key A", "double", "A", nil, nil, false, ""},
				{"two-use token, key A again spends no use", "double", "A", nil, nil, true, "double/A"},
				{"two-use token, key B", "double", "B", nil, nil, false, ""},
				{"two-use token, key C: used up", "double", "C", nil, store.ErrTokenUsed, false, ""},
				{"two-use token, key B again", "double", "B", nil, nil, true, "double/B"},
				{"short token, key C", "short", "C", nil, nil, false, ""},
				{"short token expired: even its own key is refused", "short", "C", func() { clock = clock.Add(2 * time.Minute) }, store.ErrTokenExpired, false, ""},
				{"revocable token, key B", "revoked", "B", nil, nil, false, ""},
				{"token revoked: its own key is refused", "revoked", "B", func() { s.RevokeToken(ctx, revoked.ID) }, store.ErrTokenRevoked, false, ""},
				{"device withdrawn by IT: refused", "double", "A", func() { s.RevokeDevice(ctx, devices["double/A"]) }, store.ErrDeviceRevoked, false, ""},
			}
			for _, st := range steps {
				if st.before != nil {
					st.before()
				}
				e, err := s.Enrol(ctx, secret[st.token], req(secret[st.token], st.key))
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
				}
				if err != nil {
					continue
				}
				if e.Reenrolled != st.wantReenrolled {
					t.Errorf("%s: reenrolled = %v, want %v", st.name, e.Reenrolled, st.wantReenrolled)
				}
				slot := st.token + "/" + st.key
				if st.sameAs != "" {
					if e.DeviceID != devices[st.sameAs] {
						t.Errorf("%s: device %s, want %s", st.name, e.DeviceID, devices[st.sameAs])
					}
					if e.Credential == creds[slot] {
						t.Errorf("%s: the credential was not renewed", st.name)
					}
				} else {
					for k, id := range devices {
						if id == e.DeviceID {
							t.Errorf("%s: device %s is %s's", st.name, id, k)
						}
					}
				}
				// The credential returned is the one that works; the one
				// before it does not.
				a, err := s.DeviceAuth(ctx, e.DeviceID)
				if err != nil || !credential.Equal(a.CredHash, credential.Hash(e.Credential)) || a.Revoked {
					t.Errorf("%s: new credential not the device's (%v)", st.name, err)
				}
				if old := creds[slot]; old != "" && credential.Equal(a.CredHash, credential.Hash(old)) {
					t.Errorf("%s: the old credential still works", st.name)
				}
				devices[slot], creds[slot] = e.DeviceID, e.Credential
			}
			toks, err := s.Tokens(ctx, "central")
			if err != nil {
				t.Fatal(err)
			}
			uses := map[string]int64{}
			for _, tk := range toks {
				uses[tk.ID] = int64(tk.Uses)
			}
			for _, c := range []struct {
				id   string
				want int64
			}{{single.ID, 1}, {double.ID, 2}, {short.ID, 1}, {revoked.ID, 1}} {
				if uses[c.id] != c.want {
					t.Errorf("token %s: %d uses, want %d (a re-enrolment spends none)", c.id, uses[c.id], c.want)
				}
			}
			all, err := s.Devices(ctx, store.DeviceFilter{Revoked: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 5 {
				t.Errorf("%d devices, want 5 (single/A, double/A, double/B, short/C, revoked/B)", len(all))
			}

			// Retries racing the first request (its answer slow, not lost):
			// every one gets the same device, and there is one device.
			race, _ := s.CreateToken(ctx, "central", "alice", time.Hour, 1)
			_, raceKey, _ := ed25519.GenerateKey(rand.Reader)
			const n = 8
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := &api.EnrolRequest{Token: race.Secret, Hostname: "racer", Arch: "arm64", AgentVersion: "1.0", Capability: api.CapabilityVersion}
					r.SignEnrol(raceKey)
					e, err := s.Enrol(ctx, race.Secret, r)
					ids[i], errs[i] = e.DeviceID, err
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Errorf("racing enrolment %d: %v", i, errs[i])
				} else if ids[i] != ids[0] {
					t.Errorf("racing enrolment %d got device %s, the first %s", i, ids[i], ids[0])
				}
			}
			if devs, _ := s.Devices(ctx, store.DeviceFilter{Search: "racer"}); len(devs) != 1 {
				t.Errorf("%d devices after racing enrolments with one key, want 1", len(devs))
			}
		})
	}
}
