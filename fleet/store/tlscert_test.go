package store_test

import (
	"context"
	"sync"
	"testing"

	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
	"accesskiosk/fleet/tlscert"
)

// TestSharedTLSCert starts six "replicas" together on one PostgreSQL
// (three on each of two stores): each finds no certificate and makes one,
// but all serve the one kept first. Importing a certificate replaces it
// for every replica.
func TestSharedTLSCert(t *testing.T) {
	dsn := storetest.Postgres(t)
	ctx := context.Background()
	var stores []*store.Store
	for range 2 {
		s, err := store.Open(ctx, store.Config{Dialect: store.Postgres, DSN: dsn}, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	var mu sync.Mutex
	prints := map[string]int{}
	created := 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, made, err := tlscert.LoadOrCreateShared(ctx, stores[i%2], []string{"localhost"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			prints[tlscert.Fingerprint(c.Certificate[0])]++
			if made {
				created++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(prints) != 1 || created != 1 {
		t.Fatalf("six replicas serve %d certificates (%v), %d say they made the kept one; want one and one", len(prints), prints, created)
	}
	certPEM, keyPEM, err := tlscert.SelfSigned([]string{"fleet.example"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := tlscert.Check(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := stores[0].PutTLSCert(ctx, certPEM, keyPEM, true); err != nil {
		t.Fatal(err)
	}
	c, made, err := tlscert.LoadOrCreateShared(ctx, stores[1], nil)
	if err != nil || made || tlscert.Fingerprint(c.Certificate[0]) != want {
		t.Errorf("after import the other replica loads %s (made %v, %v), want %s", tlscert.Fingerprint(c.Certificate[0]), made, err, want)
	}
}
