package store_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestAssistDirectoryPostgres: two replicas (two stores on one database)
// share remote help's directory: a code put by one is seen by the other,
// one live share per kiosk even when both race to make it, a share past
// its expiry is ended rather than blocking the kiosk, a replica's Forget
// ends only its own, and the codes and shares of a replica that stopped
// beating (it died) hold nothing.
func TestAssistDirectoryPostgres(t *testing.T) {
	dsn := storetest.Postgres(t)
	open := func() *store.Store {
		s, err := store.Open(context.Background(), store.Config{Dialect: store.Postgres, DSN: dsn}, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open().AssistDirectory("10.0.0.1:9443"), open().AssistDirectory("10.0.0.2:9443")
	ctx := context.Background()
	now := time.Now()
	for _, d := range []*store.AssistDirectory{a, b} {
		if err := d.Beat(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if err := a.PutCode(ctx, "dev-1", []byte("hash"), []byte("salt"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := a.PutCode(ctx, "dev-old", []byte("h"), []byte("s"), now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	codes, err := b.Codes(ctx, now)
	if err != nil || len(codes) != 1 || codes[0].DeviceID != "dev-1" || codes[0].Replica != a.Replica() || string(codes[0].Hash) != "hash" {
		t.Fatalf("b sees codes %+v (%v), want dev-1's on a only (the expired one not)", codes, err)
	}
	if err := b.DropCode(ctx, "dev-1", []byte("hash")); err != nil {
		t.Fatal(err)
	}
	if home, sharing, ok, _ := b.Home(ctx, "dev-1"); !ok || sharing || home != a.Replica() {
		t.Errorf("b dropping a's code dropped it: home %q %v %v", home, sharing, ok)
	}
	// A link's end drops its own code, not a newer one the kiosk showed since.
	if err := a.DropCode(ctx, "dev-1", []byte("older")); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := b.Home(ctx, "dev-1"); !ok {
		t.Error("dropping an older code dropped the newer one")
	}

	// Both replicas race to start a share for one kiosk: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []*store.AssistDirectory{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.PutShare(ctx, "hash-"+d.Replica(), "dev-1", "alice", now.Add(time.Hour))
		}()
	}
	wg.Wait()
	busy := 0
	for _, err := range errs {
		if errors.Is(err, store.ErrAssistBusy) {
			busy++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if busy != 1 {
		t.Fatalf("two replicas starting a share for one kiosk: %v, want exactly one busy", errs)
	}
	winner := a
	if errs[0] != nil {
		winner = b
	}
	sh, ok, err := a.Share(ctx, "hash-"+winner.Replica())
	if err != nil || !ok || sh.Replica != winner.Replica() || sh.Staff != "alice" || sh.Ended != "" {
		t.Fatalf("the share as a sees it: %+v %v %v", sh, ok, err)
	}
	if home, sharing, ok, _ := a.Home(ctx, "dev-1"); !ok || !sharing || home != winner.Replica() {
		t.Errorf("home of dev-1: %q %v %v, want sharing on %s", home, sharing, ok, winner.Replica())
	}
	// Only the replica holding it ends it.
	loser := a
	if winner == a {
		loser = b
	}
	loser.EndShare(ctx, "hash-"+winner.Replica(), "stop")
	if sh, _, _ := a.Share(ctx, "hash-"+winner.Replica()); sh.Ended != "" {
		t.Errorf("another replica ended the share: %+v", sh)
	}
	if err := winner.Forget(ctx, "fleet_gone"); err != nil {
		t.Fatal(err)
	}
	if sh, ok, _ := a.Share(ctx, "hash-"+winner.Replica()); !ok || sh.Ended != "fleet_gone" {
		t.Errorf("after its replica forgot it: %+v %v, want ended fleet_gone (kept for a late viewer)", sh, ok)
	}
	// A live share past its expiry (its replica died and never came back)
	// does not hold the kiosk.
	if err := a.PutShare(ctx, "hash-stale", "dev-2", "alice", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if sh, ok, _ := b.Share(ctx, "hash-stale"); !ok || sh.Ended != "expired" {
		t.Errorf("a share past its expiry: %+v %v, want ended expired", sh, ok)
	}
	if err := b.PutShare(ctx, "hash-fresh", "dev-2", "bob", now.Add(time.Hour)); err != nil {
		t.Errorf("a new share after a stale one: %v", err)
	}
	if sh, ok, _ := a.Share(ctx, "no-such-hash"); ok {
		t.Errorf("an unknown share: %+v", sh)
	}

	// Replica c dies holding a share and a code: once it has not beaten
	// for AssistReplicaTimeout, they hold nothing.
	c := open().AssistDirectory("10.0.0.3:9443")
	c.Beat(ctx)
	if err := c.PutShare(ctx, "hash-c", "dev-3", "alice", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.PutCode(ctx, "dev-4", []byte("hash4"), []byte("salt"), now.Add(time.Minute))
	if _, sharing, ok, _ := a.Home(ctx, "dev-3"); !ok || !sharing {
		t.Fatal("c's live share not seen")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE assist_replicas SET seen_unix_ms = $1 WHERE replica = $2`,
		now.Add(-store.AssistReplicaTimeout-time.Second).UnixMilli(), c.Replica()); err != nil {
		t.Fatal(err)
	}
	if sh, ok, _ := a.Share(ctx, "hash-c"); !ok || sh.Ended != "fleet_gone" {
		t.Errorf("a dead replica's share: %+v %v, want ended fleet_gone", sh, ok)
	}
	if _, _, ok, _ := a.Home(ctx, "dev-3"); ok {
		t.Error("a dead replica's share still holds its kiosk")
	}
	if _, _, ok, _ := a.Home(ctx, "dev-4"); ok {
		t.Error("a dead replica's code still has a home")
	}
	codes, _ = a.Codes(ctx, now)
	for _, code := range codes {
		if code.Replica == c.Replica() {
			t.Errorf("a dead replica's code is offered for claims: %+v", code)
		}
	}
	if err := a.PutShare(ctx, "hash-after-c", "dev-3", "bob", now.Add(time.Hour)); err != nil {
		t.Errorf("a new share for a kiosk whose replica died: %v", err)
	}
}
