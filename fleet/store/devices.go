package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
)

// Site is a row of sites with its device count.
type Site = api.Site

// CreateSite adds a site. ErrExists if the id is taken.
func (s *Store) CreateSite(ctx context.Context, id, name string) (Site, error) {
	site := Site{ID: id, Name: name, CreatedUnixMs: s.nowMs()}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO sites (id, name, created_unix_ms) VALUES (?, ?, ?)`), id, name, site.CreatedUnixMs)
	if isUnique(err) {
		return Site{}, fmt.Errorf("create site %s: %w", id, ErrExists)
	}
	if err != nil {
		return Site{}, fmt.Errorf("create site %s: %w", id, err)
	}
	return site, nil
}

// Sites lists every site with its number of (unrevoked) devices.
func (s *Store) Sites(ctx context.Context) ([]Site, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.id, s.name, s.created_unix_ms,
		(SELECT COUNT(*) FROM devices d WHERE d.site_id = s.id AND d.revoked_unix_ms = 0)
		FROM sites s ORDER BY s.name, s.id`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		if err := rows.Scan(&st.ID, &st.Name, &st.CreatedUnixMs, &st.Devices); err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// SiteExists reports whether a site with id exists.
func (s *Store) SiteExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sites WHERE id = ?`), id).Scan(&n)
	return n > 0, err
}

// Token is an enrolment token's row (never its secret).
type Token = api.Token

// CreateToken makes an enrolment token for site, valid for ttl and maxUses
// enrolments. The secret is returned once; only its hash is stored.
func (s *Store) CreateToken(ctx context.Context, site, by string, ttl time.Duration, maxUses int) (api.CreatedToken, error) {
	secret, hash := credential.New(credential.PrefixEnrol)
	now := s.nowMs()
	t := api.CreatedToken{Token: Token{
		ID: credential.ID(5), Site: site, CreatedBy: by, CreatedUnixMs: now,
		ExpiresUnixMs: now + ttl.Milliseconds(), MaxUses: maxUses,
	}, Secret: secret}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO enrol_tokens (id, hash, site_id, created_by, created_unix_ms, expires_unix_ms, max_uses)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), t.ID, hash, site, by, now, t.ExpiresUnixMs, maxUses)
	if err != nil {
		return api.CreatedToken{}, fmt.Errorf("create token for site %s: %w", site, err)
	}
	return t, nil
}

// Tokens lists enrolment tokens, newest first; site "" means all sites.
func (s *Store) Tokens(ctx context.Context, site string) ([]Token, error) {
	q := `SELECT id, site_id, created_by, created_unix_ms, expires_unix_ms, max_uses, uses, revoked_unix_ms FROM enrol_tokens`
	var args []any
	if site != "" {
		q += ` WHERE site_id = ?`
		args = append(args, site)
	}
	rows, err := s.r.QueryContext(ctx, s.q(q+` ORDER BY created_unix_ms DESC, id`), args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var revoked int64
		if err := rows.Scan(&t.ID, &t.Site, &t.CreatedBy, &t.CreatedUnixMs, &t.ExpiresUnixMs, &t.MaxUses, &t.Uses, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.Revoked = revoked != 0
		out = append(out, t)
	}
	return out, rows.Err()
}

// TokenBySecret returns the enrolment token whose secret is given (looked
// up by its hash; nothing is spent). ErrNotFound when the fleet never made
// it.
func (s *Store) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	var t Token
	var revoked int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, site_id, created_by, created_unix_ms, expires_unix_ms, max_uses, uses, revoked_unix_ms
		FROM enrol_tokens WHERE hash = ?`), credential.Hash(secret)).Scan(&t.ID, &t.Site, &t.CreatedBy, &t.CreatedUnixMs, &t.ExpiresUnixMs, &t.MaxUses, &t.Uses, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("look up token: %w", err)
	}
	t.Revoked = revoked != 0
	return t, nil
}

// RevokeToken stops a token from enrolling more devices. ErrNotFound if no
// such token.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE enrol_tokens SET revoked_unix_ms = ? WHERE id = ? AND revoked_unix_ms = 0`), s.nowMs(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var c int
		s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM enrol_tokens WHERE id = ?`), id).Scan(&c)
		if c == 0 {
			return fmt.Errorf("revoke token %s: %w", id, ErrNotFound)
		}
	}
	return nil
}

// Enrolment is a new device's identity as Enrol returns it.
type Enrolment struct {
	DeviceID   string
	Credential string // "DEVICEID.SECRET", shown once
	Site       string
	// Reenrolled: the device key had enrolled with this token before; this
	// is that device with a fresh credential (the old one no longer works).
	Reenrolled bool
	// TokenID is the token's id (never its secret), for the log and audit.
	TokenID string
}

// Enrol spends one use of the token whose secret is given and creates a
// device. ErrTokenUnknown, ErrTokenExpired, ErrTokenUsed or ErrTokenRevoked
// when the token cannot be used; nothing changes then.
//
// Enrolment is idempotent per device key (req.DeviceKey, whose proof
// req.Validate checks): when a device with that key already enrolled with
// this token, and the token is still valid (not expired, not revoked),
// Enrol gives that device a fresh credential in place of its old one,
// spends no use, and returns it with Reenrolled set, even when the token
// is used up. That is a kiosk whose power was cut after the fleet took the
// token but before it stored its credential. ErrDeviceRevoked if IT has
// withdrawn that device meanwhile. Any other key, or none, with a used
// token gets ErrTokenUsed.
func (s *Store) Enrol(ctx context.Context, token string, req *api.EnrolRequest) (Enrolment, error) {
	var e Enrolment
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var id, site string
		var expires, maxUses, uses, revoked int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, site_id, expires_unix_ms, max_uses, uses, revoked_unix_ms FROM enrol_tokens WHERE hash = ?`),
			credential.Hash(token)).Scan(&id, &site, &expires, &maxUses, &uses, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTokenUnknown
		}
		if err != nil {
			return err
		}
		switch {
		case revoked != 0:
			return ErrTokenRevoked
		case now >= expires:
			return ErrTokenExpired
		}
		e.TokenID = id
		// Twice at most: a request racing another with the same key (a
		// retry while the first is still in flight) waits for the other's
		// guarded update below and then finds its device.
		for try := 0; ; try++ {
			if req.DeviceKey != "" {
				done, err := s.reenrol(ctx, tx, id, req, &e)
				if done || err != nil {
					return err
				}
			}
			if uses >= maxUses {
				return ErrTokenUsed
			}
			// Guarded update: on PostgreSQL two replicas may race for the last use.
			res, err := tx.ExecContext(ctx, s.q(`UPDATE enrol_tokens SET uses = uses + 1 WHERE id = ? AND uses < max_uses`), id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				break
			}
			if req.DeviceKey == "" || try > 0 {
				return ErrTokenUsed
			}
		}
		e.DeviceID = credential.ID(10)
		secret, _ := credential.New(credential.PrefixDevice)
		e.Credential = e.DeviceID + "." + secret
		e.Site = site
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO devices (id, site_id, hostname, arch, agent_version, kiosk_version, cred_hash, token_id, enrolled_unix_ms, device_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.DeviceID, site, req.Hostname, req.Arch, req.AgentVersion, req.KioskVersion, credential.Hash(e.Credential), id, now, req.DeviceKey)
		return err
	})
	if err != nil {
		return Enrolment{DeviceID: e.DeviceID, TokenID: e.TokenID}, fmt.Errorf("enrol: %w", err)
	}
	return e, nil
}

// reenrol gives the device that enrolled with token tokenID and
// req.DeviceKey a fresh credential; done is false when there is none.
func (s *Store) reenrol(ctx context.Context, tx *sql.Tx, tokenID string, req *api.EnrolRequest, e *Enrolment) (done bool, err error) {
	var devID, devSite string
	var devRevoked int64
	err = tx.QueryRowContext(ctx, s.q(`SELECT id, site_id, revoked_unix_ms FROM devices WHERE token_id = ? AND device_key = ?`),
		tokenID, req.DeviceKey).Scan(&devID, &devSite, &devRevoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case devRevoked != 0:
		e.DeviceID = devID
		return true, ErrDeviceRevoked
	}
	e.DeviceID, e.Site, e.Reenrolled = devID, devSite, true
	secret, _ := credential.New(credential.PrefixDevice)
	e.Credential = devID + "." + secret
	res, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET cred_hash = ?, hostname = ?, arch = ?, agent_version = ?, kiosk_version = ?
		WHERE id = ? AND revoked_unix_ms = 0`),
		credential.Hash(e.Credential), req.Hostname, req.Arch, req.AgentVersion, req.KioskVersion, devID)
	if err != nil {
		return true, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return true, ErrDeviceRevoked // revoked between the two statements
	}
	// The old credential stops working on every replica at once.
	return true, s.notify(ctx, tx, ChanCredentials, devID)
}

// DeviceAuth is what authenticating a device needs.
type DeviceAuth struct {
	ID       string
	Site     string
	CredHash string
	Revoked  bool
}

// DeviceAuth loads a device's credential hash. ErrNotFound if there is no
// such device.
func (s *Store) DeviceAuth(ctx context.Context, id string) (DeviceAuth, error) {
	a := DeviceAuth{ID: id}
	var revoked int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT site_id, cred_hash, revoked_unix_ms FROM devices WHERE id = ?`), id).Scan(&a.Site, &a.CredHash, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("load device %s: %w", id, err)
	}
	a.Revoked = revoked != 0
	return a, nil
}

// RevokeDevice withdraws a device's credential. Every replica hears of it
// at once (ChanCredentials), and the ingest refuses the device's next
// batch whichever replica it reaches.
func (s *Store) RevokeDevice(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET revoked_unix_ms = ? WHERE id = ? AND revoked_unix_ms = 0`), s.nowMs(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.notify(ctx, tx, ChanCredentials, id)
	})
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", id, err)
	}
	return nil
}

// MarkFlooding records that the fleet refused or dropped some of what a
// device sent for being more than one kiosk can produce, and what.
func (s *Store) MarkFlooding(ctx context.Context, id, detail string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE devices SET flooding_unix_ms = ?, flooding_detail = ? WHERE id = ?`), s.nowMs(), detail, id); err != nil {
		return fmt.Errorf("mark %s flooding: %w", id, err)
	}
	return nil
}

// Device is a kiosk with its latest report.
type Device struct {
	api.Device
	SiteName         string
	LastReportUnixMs int64
	// Last is the newest report received, without its receipts; nil if none.
	Last *api.Report
	// FloodingUnixMs is when the fleet last refused or dropped some of
	// what the device sent for being more than one kiosk can produce (0:
	// never), and FloodingDetail says what.
	FloodingUnixMs int64
	FloodingDetail string
}

// DeviceFilter narrows Devices.
type DeviceFilter struct {
	Site     string // site id; "" for all
	Search   string // substring of hostname or id
	Revoked  bool   // include revoked devices
	DeviceID string // one device
	// Critical: only devices whose last report carries a critical warning
	// or says the kiosk program is gone.
	Critical bool
	// SeenSince, when not zero, keeps devices seen since then (online).
	SeenSince time.Time
	// Limit, when more than 0, returns at most that many.
	Limit int
}

const deviceCols = `d.id, d.site_id, s.name, d.hostname, d.arch, d.agent_version, d.kiosk_version, d.enrolled_unix_ms,
	d.revoked_unix_ms, d.last_seen_unix_ms, d.last_report_unix_ms, d.kiosk_state, d.last_report, d.flooding_unix_ms, d.flooding_detail`

// Devices lists devices matching f, by site then hostname.
func (s *Store) Devices(ctx context.Context, f DeviceFilter) ([]Device, error) {
	q := `SELECT ` + deviceCols + ` FROM devices d JOIN sites s ON s.id = d.site_id WHERE 1=1`
	var args []any
	if f.Site != "" {
		q += ` AND d.site_id = ?`
		args = append(args, f.Site)
	}
	if f.DeviceID != "" {
		q += ` AND d.id = ?`
		args = append(args, f.DeviceID)
	}
	if !f.Revoked && f.DeviceID == "" {
		q += ` AND d.revoked_unix_ms = 0`
	}
	if f.Critical {
		q += ` AND d.critical = 1` // set at ingest: Critical(last report)
	}
	if !f.SeenSince.IsZero() {
		q += ` AND d.last_seen_unix_ms >= ?`
		args = append(args, f.SeenSince.UnixMilli())
	}
	if f.Search != "" {
		q += ` AND (d.hostname LIKE ? OR d.id LIKE ?)`
		like := "%" + escapeLike(f.Search) + "%"
		args = append(args, like, like)
	}
	q += ` ORDER BY s.name, d.hostname, d.id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		var revoked int64
		var last string
		if err := rows.Scan(&d.ID, &d.Site, &d.SiteName, &d.Hostname, &d.Arch, &d.AgentVersion, &d.KioskVersion, &d.EnrolledUnixMs,
			&revoked, &d.LastSeenUnixMs, &d.LastReportUnixMs, &d.KioskState, &last, &d.FloodingUnixMs, &d.FloodingDetail); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		d.Revoked = revoked != 0
		if last != "" {
			d.Last = new(api.Report)
			if err := json.Unmarshal([]byte(last), d.Last); err != nil {
				return nil, fmt.Errorf("device %s: stored report: %w", d.ID, err)
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Device returns one device. ErrNotFound if there is none.
func (s *Store) Device(ctx context.Context, id string) (Device, error) {
	ds, err := s.Devices(ctx, DeviceFilter{DeviceID: id})
	if err != nil {
		return Device{}, err
	}
	if len(ds) == 0 {
		return Device{}, fmt.Errorf("device %s: %w", id, ErrNotFound)
	}
	return ds[0], nil
}

func escapeLike(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%', '_':
			out = append(out, '_') // match any single char rather than interpret
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}
