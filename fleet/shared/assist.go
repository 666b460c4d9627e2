package shared

import (
	"context"
	"errors"
	"time"

	"accesskiosk/fleet/assist"
	"accesskiosk/fleet/store"
)

// AssistDirectory is remote help's shared state (which replica holds each
// waiting help code and each share's agent link) for the replica whose
// internal address is replica; nil on SQLite, where the one server keeps
// it in memory.
func (s *State) AssistDirectory(replica string) assist.Directory {
	if !s.Shared {
		return nil
	}
	return assistDir{s.cfg.Store.AssistDirectory(replica)}
}

// assistDir is the store's AssistDirectory as an assist.Directory.
type assistDir struct{ d *store.AssistDirectory }

func (a assistDir) Replica() string { return a.d.Replica() }

func (a assistDir) PutCode(ctx context.Context, device string, hash, salt []byte, expires time.Time) error {
	return a.d.PutCode(ctx, device, hash, salt, expires)
}

func (a assistDir) DropCode(ctx context.Context, device string, hash []byte) error {
	return a.d.DropCode(ctx, device, hash)
}

func (a assistDir) Codes(ctx context.Context, now time.Time) ([]assist.DirCode, error) {
	cs, err := a.d.Codes(ctx, now)
	out := make([]assist.DirCode, len(cs))
	for i, c := range cs {
		out[i] = assist.DirCode{DeviceID: c.DeviceID, Replica: c.Replica, Hash: c.Hash, Salt: c.Salt}
	}
	return out, err
}

func (a assistDir) PutShare(ctx context.Context, idHash, device, staff string, expires time.Time) error {
	err := a.d.PutShare(ctx, idHash, device, staff, expires)
	if errors.Is(err, store.ErrAssistBusy) {
		return assist.ErrBusy
	}
	return err
}

func (a assistDir) EndShare(ctx context.Context, idHash, reason string) error {
	return a.d.EndShare(ctx, idHash, reason)
}

func (a assistDir) Share(ctx context.Context, idHash string) (assist.DirShare, bool, error) {
	sh, ok, err := a.d.Share(ctx, idHash)
	return assist.DirShare{DeviceID: sh.DeviceID, Staff: sh.Staff, Replica: sh.Replica, Ended: sh.Ended}, ok, err
}

func (a assistDir) Home(ctx context.Context, device string) (string, bool, bool, error) {
	return a.d.Home(ctx, device)
}

func (a assistDir) Forget(ctx context.Context, reason string) error { return a.d.Forget(ctx, reason) }

func (a assistDir) Beat(ctx context.Context) error { return a.d.Beat(ctx) }
