// Package report is the agent's report loop: every interval (with jitter)
// it takes a health snapshot and queues it on disk, and it sends the queue
// to the fleet in batches, oldest first, backing off with jitter while the
// fleet is unreachable. The fleet's answer says which reports it now holds
// (only those leave the queue, so nothing is lost and a report resent after
// a lost answer is stored once, by its id) and carries commands, which are
// handed to the command executor and acknowledged in the next batch.
//
// One goroutine does all of it, waiting on an injectable clock, so a test
// can drive hours of outage through it in milliseconds. Nothing here is on
// the kiosk's path: the kiosk never waits on the agent.
package report

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/health"
	"accesskiosk/agent/queue"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/backoff"
	"accesskiosk/internal/clock"
	"accesskiosk/internal/fleetclient"
)

// Fleet is where batches go (fleetclient.Client).
type Fleet interface {
	Report(ctx context.Context, b api.ReportBatch) (api.ReportResponse, error)
}

// Commands runs commands and holds their acknowledgements (command.Executor).
type Commands interface {
	Run(ctx context.Context, cmds []api.Command) int
	Acks() []api.CommandAck
	Sent(acks []api.CommandAck)
}

// Options configure a Reporter.
type Options struct {
	Queue *queue.Queue
	// Snapshot builds the body of a report (health, sessions, receipts,
	// warnings); the Reporter fills in ID, Seq, CreatedUnixMs, QueueDepth
	// and NetworkUp.
	Snapshot func(ctx context.Context) api.Report
	// Fleet returns the fleet to send to, or nil while none is known (not
	// enrolled yet, or not yet discovered): reports are queued meanwhile.
	Fleet    func() Fleet
	Commands Commands // nil: commands are ignored
	// Desired, when set, is told the fleet's desired state after each
	// accepted batch (it must not block: start work in a goroutine).
	Desired func(api.DesiredState)
	Health  *health.Registry
	Clock   clock.Clock // nil: the real clock

	Interval   time.Duration // between reports; 0 means 30s
	Jitter     time.Duration // up to this much extra per interval
	BackoffMin time.Duration // 0 means 2s
	BackoffMax time.Duration // 0 means 5m
	// SendTimeout bounds one send attempt, retries included; 0 means 2m.
	SendTimeout time.Duration

	Log logrus.FieldLogger
}

// maxWait is the longest the loop sleeps between turns.
const maxWait = 30 * time.Second

// Reporter is the report loop.
type Reporter struct {
	o    Options
	kick chan struct{}

	interval atomic.Int64
	beat     atomic.Int64 // unix ns of the loop's last turn

	mu           sync.Mutex
	lastOK       time.Time
	failingSince time.Time
	failures     int
	sent         uint64 // reports the fleet accepted
	batchSize    int
	// fleetCap is the capability the fleet last answered with (0 before
	// any answer); strip: what batches go without (capability.go).
	fleetCap int
	strip    strip
}

// New returns a Reporter; call Run.
func New(o Options) *Reporter {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 2 * time.Second
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(5*time.Minute, o.BackoffMin)
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 2 * time.Minute
	}
	if o.Health == nil {
		o.Health = health.NewRegistry(o.Clock.Now)
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		o.Log = l
	}
	r := &Reporter{o: o, kick: make(chan struct{}, 1), batchSize: api.MaxReportsPerBatch}
	r.interval.Store(int64(o.Interval))
	return r
}

// Kick asks for a report and a send now (after a session ends, a command
// ran or the fleet was found). It never blocks.
func (r *Reporter) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// LastBeat is when the loop last turned (for the systemd watchdog).
func (r *Reporter) LastBeat() time.Time { return time.Unix(0, r.beat.Load()) }

// FailingSince is when sending started failing (the first failure after
// the last success), or the zero time while sends succeed.
func (r *Reporter) FailingSince() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failingSince
}

// AcceptedSince reports whether the fleet accepted a batch at or after t
// (the update's health gate).
func (r *Reporter) AcceptedSince(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.lastOK.Before(t)
}

// Accepted is how many reports the fleet has accepted since start.
func (r *Reporter) Accepted() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}

// Run loops until ctx ends.
func (r *Reporter) Run(ctx context.Context) error {
	clk := r.o.Clock
	now := clk.Now()
	nextReport, nextSend := now, now
	never := now.Add(100 * 365 * 24 * time.Hour)
	for {
		r.beat.Store(time.Now().UnixNano())
		if ctx.Err() != nil {
			return nil
		}
		now = clk.Now()
		if !now.Before(nextReport) {
			r.queueReport(ctx, now)
			nextReport = now.Add(r.next())
			if r.failureCount() == 0 {
				nextSend = now
			}
		}
		if !now.Before(nextSend) {
			nextSend = never
			if f := r.o.Fleet(); f != nil && (r.o.Queue.Len() > 0 || r.pendingAcks()) {
				res := r.sendOnce(ctx, f)
				if ctx.Err() != nil {
					return nil
				}
				now = clk.Now()
				switch {
				case res.err != nil:
					nextSend = now.Add(r.backoff(res.retryAfter))
				case res.more:
					nextSend = now
				}
				if res.newCommands {
					nextReport = now // report the state the commands left behind
				}
			}
		}
		wake := nextReport
		if nextSend.Before(wake) {
			wake = nextSend
		}
		// Turn at least every maxWait so the watchdog sees a live loop.
		wait := min(wake.Sub(clk.Now()), maxWait)
		r.beat.Store(time.Now().UnixNano())
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
			nextReport = clk.Now()
		case <-clk.After(wait):
		}
	}
}

func (r *Reporter) next() time.Duration {
	d := time.Duration(r.interval.Load())
	if r.o.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(r.o.Jitter) + 1))
	}
	return d
}

func (r *Reporter) failureCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

func (r *Reporter) pendingAcks() bool {
	return r.o.Commands != nil && len(r.o.Commands.Acks()) > 0
}

func (r *Reporter) backoff(retryAfter time.Duration) time.Duration {
	r.mu.Lock()
	n := r.failures
	r.mu.Unlock()
	if retryAfter > 0 {
		return min(retryAfter, r.o.BackoffMax)
	}
	return backoff.Delay(r.o.BackoffMin, r.o.BackoffMax, n-1)
}

func newID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// queueReport takes a snapshot and queues it. A queue that cannot write
// (disk full) keeps the report in memory and raises a warning; it is never
// fatal.
func (r *Reporter) queueReport(ctx context.Context, now time.Time) {
	rep := r.o.Snapshot(ctx)
	st := r.o.Queue.Stats()
	r.mu.Lock()
	rep.Health.NetworkUp = r.failures == 0 && !r.lastOK.IsZero()
	r.mu.Unlock()
	rep.Health.QueueDepth = st.Len
	rep.ID = newID()
	rep.CreatedUnixMs = now.UnixMilli()
	// The fleet refuses a report that breaks the wire's rules, so check it
	// here, where the cause can still be seen and the rest kept.
	if err := (&api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{rep}}).Validate(); err != nil {
		r.o.Log.WithError(err).Error("report breaks the wire's rules; sending it without receipts and warnings")
		rep.Receipts = nil
		rep.Warnings = []api.Warning{{Code: "report_invalid", Severity: "warning", Text: health.Clip(err.Error(), api.MaxTextLen)}}
	}
	_, err := r.o.Queue.Push(now, func(seq uint64) ([]byte, error) {
		rep.Seq = seq
		return json.Marshal(rep)
	})
	r.judgeQueue(true, err)
}

// judgeQueue sets the queue's warnings. The write warning changes only on
// a push: it stays up while the disk keeps refusing, even when the reports
// held in memory have been sent meanwhile.
func (r *Reporter) judgeQueue(pushed bool, pushErr error) {
	st := r.o.Queue.Stats()
	h := r.o.Health
	switch {
	case pushErr != nil:
		r.o.Log.WithError(pushErr).Error("report queue cannot write to disk; keeping reports in memory")
		h.Set(health.CodeQueueWrite, health.Critical, "report queue cannot write: %v (%d reports held in memory)", pushErr, st.InMem)
	case pushed:
		h.Clear(health.CodeQueueWrite)
	}
	h.SetIf(st.Dropped > 0, health.CodeQueueDropped, health.Warn, "%d reports dropped by the queue bounds (oldest first)", st.Dropped)
	h.SetIf(st.Corrupt > 0, health.CodeQueueCorrupt, health.Warn, "%d damaged queue files set aside", st.Corrupt)
}

type sendResult struct {
	err         error
	retryAfter  time.Duration
	more        bool // the queue still holds reports to send now
	newCommands bool
}

// sendOnce sends one batch: the oldest queued reports and the pending acks.
func (r *Reporter) sendOnce(parent context.Context, f Fleet) (res sendResult) {
	ctx, cancel := context.WithTimeout(parent, r.o.SendTimeout)
	defer cancel()
	now := r.o.Clock.Now()
	r.mu.Lock()
	size := r.batchSize
	r.mu.Unlock()
	items := r.o.Queue.Peek(now, size, api.MaxBodyBytes/2)
	batch := api.ReportBatch{Capability: api.CapabilityVersion}
	bySeq := map[string]uint64{}
	var undecodable []uint64
	for _, it := range items {
		var rep api.Report
		if err := json.Unmarshal(it.Data, &rep); err != nil || rep.ID == "" {
			undecodable = append(undecodable, it.Seq)
			continue
		}
		bySeq[rep.ID] = it.Seq
		batch.Reports = append(batch.Reports, rep)
	}
	if len(undecodable) > 0 {
		r.o.Log.WithField("count", len(undecodable)).Error("dropping queued reports that do not decode")
		r.o.Queue.Remove(undecodable...)
	}
	if r.o.Commands != nil {
		batch.Acks = r.o.Commands.Acks()
	}
	if len(batch.Reports) == 0 && len(batch.Acks) == 0 {
		return res
	}
	carried := r.withoutCounted(batch.Reports)
	resp, err := f.Report(ctx, batch)
	if err != nil {
		if parent.Err() != nil {
			return sendResult{err: err} // stopping: not the fleet's fault
		}
		if r.olderFleet(err, carried) {
			r.o.Log.WithError(err).Info("fleet refused receipts with counts it may not know; sending without them until it answers its capability")
			return sendResult{err: err, retryAfter: time.Nanosecond}
		}
		return r.failed(err, batch)
	}
	r.fleetAnswered(resp.Capability)
	var done []uint64
	for _, id := range resp.Accepted {
		if seq, ok := bySeq[id]; ok {
			done = append(done, seq)
		}
	}
	if len(batch.Reports) > 0 && len(done) == 0 {
		return r.failed(errors.New("fleet accepted none of the batch's reports"), batch)
	}
	if err := r.o.Queue.Remove(done...); err != nil {
		r.o.Log.WithError(err).Warn("remove sent reports from the queue")
	}
	if r.o.Commands != nil {
		r.o.Commands.Sent(batch.Acks)
	}
	r.mu.Lock()
	failures, since, first := r.failures, r.failingSince, r.sent == 0 && len(done) > 0
	r.failures = 0
	r.failingSince = time.Time{}
	r.lastOK = now
	r.sent += uint64(len(done))
	r.batchSize = min(r.batchSize*2, api.MaxReportsPerBatch)
	r.mu.Unlock()
	r.goodNews(first, failures, since, now, len(done))
	r.o.Health.Clear(health.CodeFleetUnreachable)
	r.judgeQueue(false, nil)
	if d := resp.ReportInterval(0); d > 0 && d != time.Duration(r.interval.Load()) {
		r.o.Log.WithField("interval", d).Info("fleet changed the report interval")
		r.interval.Store(int64(d))
	}
	if r.o.Desired != nil {
		r.o.Desired(resp.Desired)
	}
	if r.o.Commands != nil && len(resp.Commands) > 0 {
		res.newCommands = r.o.Commands.Run(ctx, resp.Commands) > 0
	}
	res.more = r.o.Queue.Len() > 0 && len(done) > 0
	return res
}

func (r *Reporter) failed(err error, batch api.ReportBatch) sendResult {
	res := sendResult{err: err}
	var se *fleetclient.Error
	r.mu.Lock()
	r.failures++
	if r.failures == 1 {
		r.failingSince = r.o.Clock.Now()
	}
	n := r.failures
	since := r.lastOK
	if errors.As(err, &se) {
		res.retryAfter = se.RetryAfter
		switch {
		case se.Status == http.StatusRequestEntityTooLarge || se.Status == http.StatusBadRequest:
			// A batch the fleet refuses: send smaller ones until the bad
			// report is alone, then set that one aside so it cannot block
			// every report behind it.
			if r.batchSize > 1 {
				r.batchSize = max(1, len(batch.Reports)/2)
				res.retryAfter = time.Nanosecond
			} else if len(batch.Reports) == 1 {
				r.mu.Unlock()
				r.o.Log.WithError(err).WithField("report_seq", batch.Reports[0].Seq).Error("fleet refuses this report; dropping it")
				r.dropRefused(batch.Reports[0].Seq)
				r.mu.Lock()
				res.retryAfter = time.Nanosecond
			}
		}
	}
	r.mu.Unlock()
	log := r.o.Log.WithError(err).WithField("failures", n)
	if n == 1 || n%10 == 0 {
		log.Warn("cannot reach the fleet; reports stay queued")
	} else {
		log.Debug("cannot reach the fleet; reports stay queued")
	}
	what := "cannot reach the fleet"
	if se != nil && se.Status == http.StatusUnauthorized {
		what = "the fleet refuses this device's credential (revoked?)"
	}
	if since.IsZero() {
		r.o.Health.Set(health.CodeFleetUnreachable, health.Warn, "%s: %d attempts, none succeeded yet", what, n)
	} else {
		r.o.Health.Set(health.CodeFleetUnreachable, health.Warn, "%s: %d attempts since %s", what, n, since.UTC().Format(time.RFC3339))
	}
	return res
}

// goodNews logs the first accepted report and the fleet back after
// failures: the log says when things go well, not only when they do not.
func (r *Reporter) goodNews(first bool, failures int, since, now time.Time, accepted int) {
	if first {
		r.o.Log.WithField("reports", accepted).Info("first report accepted by the fleet")
	}
	if failures > 0 {
		r.o.Log.WithField("down_for", now.Sub(since).Round(time.Second).String()).Infof("fleet reachable again after %d failures", failures)
	}
}

func (r *Reporter) dropRefused(seq uint64) {
	if err := r.o.Queue.Remove(seq); err != nil {
		r.o.Log.WithError(err).Warn("remove refused report")
	}
	r.o.Health.Set(health.CodeQueueDropped, health.Warn, "the fleet refused report %d; it was set aside", seq)
}

// String describes the reporter's state for logs.
func (r *Reporter) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("reporter(sent=%d failures=%d)", r.sent, r.failures)
}
