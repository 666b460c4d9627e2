package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/store"
)

// maxGroup bounds how many batches one transaction commits.
const maxGroup = 256

// ingester commits report batches in groups: each worker takes every batch
// waiting (up to maxGroup) and stores them in one transaction, so the cost
// of a commit (an fsync on SQLite) is shared. A request waits for its
// group's commit before it is answered, so "accepted" always means stored.
type ingester struct {
	st  *store.Store
	log logrus.FieldLogger
	// observe, when set, is told of each group commit: how many batches
	// and how long the transaction took.
	observe func(batches int, took time.Duration)
	in      chan *ingestReq
	wg      sync.WaitGroup
	once    sync.Once
	quit    chan struct{}
}

type ingestReq struct {
	item store.IngestItem
	done chan ingestRes
}

type ingestRes struct {
	res store.IngestResult
	err error
}

var errStopping = errors.New("server is stopping")

func newIngester(st *store.Store, workers int, log logrus.FieldLogger, observe func(batches int, took time.Duration)) *ingester {
	g := &ingester{st: st, log: log, observe: observe, in: make(chan *ingestReq, 4*maxGroup), quit: make(chan struct{})}
	for range workers {
		g.wg.Add(1)
		go g.run()
	}
	return g
}

func (g *ingester) submit(ctx context.Context, it store.IngestItem) (store.IngestResult, error) {
	req := &ingestReq{item: it, done: make(chan ingestRes, 1)}
	select {
	case g.in <- req:
	case <-ctx.Done():
		return store.IngestResult{}, ctx.Err()
	case <-g.quit:
		return store.IngestResult{}, errStopping
	}
	// Once queued, wait for the commit even if the client went away: the
	// batch will be stored, and the next (replayed) request gets the same answer.
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-g.quit:
		select {
		case r := <-req.done:
			return r.res, r.err
		case <-time.After(30 * time.Second):
			return store.IngestResult{}, errStopping
		}
	}
}

func (g *ingester) run() {
	defer g.wg.Done()
	group := make([]*ingestReq, 0, maxGroup)
	items := make([]store.IngestItem, 0, maxGroup)
	for {
		var first *ingestReq
		select {
		case first = <-g.in:
		case <-g.quit:
			// Finish what was queued before stopping.
			for {
				select {
				case r := <-g.in:
					g.commit([]*ingestReq{r}, []store.IngestItem{r.item})
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-g.in:
				group = append(group, r)
			default:
				break fill
			}
		}
		items = items[:0]
		for _, r := range group {
			items = append(items, r.item)
		}
		g.commit(group, items)
	}
}

func (g *ingester) commit(group []*ingestReq, items []store.IngestItem) {
	// Commits must finish even while the server shuts down.
	ctx := context.Background()
	t0 := time.Now()
	res, err := g.st.Ingest(ctx, items)
	if g.observe != nil {
		g.observe(len(items), time.Since(t0))
	}
	if err == nil {
		for i, r := range group {
			r.done <- ingestRes{res: res[i]}
		}
		return
	}
	if len(group) == 1 {
		group[0].done <- ingestRes{err: err}
		return
	}
	// One bad item must not fail its neighbours: retry one by one.
	g.log.WithError(err).WithField("batches", len(group)).Warn("group commit failed; retrying batches one by one")
	for i, r := range group {
		res, err := g.st.Ingest(ctx, items[i:i+1])
		if err != nil {
			r.done <- ingestRes{err: err}
			continue
		}
		r.done <- ingestRes{res: res[0]}
	}
}

func (g *ingester) close() {
	g.once.Do(func() { close(g.quit) })
	g.wg.Wait()
	for {
		select {
		case r := <-g.in:
			r.done <- ingestRes{err: errStopping}
		default:
			return
		}
	}
}
