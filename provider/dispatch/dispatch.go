// Package dispatch delivers notifications from the store's outbox to each
// instance's callback URL: signed, retried on CE's schedule, several at
// once per instance (each on its own schedule) or, for instances that ask,
// one at a time in order with a bounded hold; one instance's failing
// endpoint never delays another.
package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Options tune a Dispatcher. Zero values take CE's defaults.
type Options struct {
	// Policy is the retry schedule (default model.DefaultRetryPolicy);
	// tests and demos shorten Base.
	Policy model.RetryPolicy
	// Timeout bounds one attempt (default 15 s).
	Timeout time.Duration
	// Client sends the callbacks; redirects must not be followed.
	Client *http.Client
	Logger *slog.Logger
	// Now and Rand are the clock and the jitter source.
	Now  func() time.Time
	Rand func() float64
	// UserAgent is sent with every callback.
	UserAgent string
	// Observer is told every attempt's outcome (observe.go); nil: nobody.
	Observer Observer
	// MaxInFlight caps requests in flight over all instances (default
	// 128), on top of each instance's event.notification.concurrency.
	MaxInFlight int
	// Circuit slows attempts to a callback URL that keeps failing.
	Circuit CircuitOptions
	// Record stores attempt outcomes (default: the store's
	// RecordAttempts); a wrapper can watch or fail them.
	Record func(context.Context, []store.AttemptRecord) error
	// RecordBackoff is the first pause after outcomes could not be
	// recorded (default 100 ms); it doubles up to 30 s while the failure
	// lasts, and every lane waits meanwhile.
	RecordBackoff time.Duration
	// Shared, set when several replicas deliver from one store, makes
	// this dispatcher deliver only the lanes it leases (shared.go), as
	// Owner, each lease lasting Lease (default store.DefaultLease) unless
	// renewed.
	Shared Lanes
	Owner  string
	Lease  time.Duration
}

// CircuitOptions tune the per-instance circuit: after Threshold endpoint
// failures in a row (no answer, 5xx, 408, 429) attempts stop for Cooldown,
// then one probe goes; each failed probe doubles the pause up to
// MaxCooldown. A 4xx refusing one notification does not count: the
// endpoint is up.
type CircuitOptions struct {
	Threshold   int
	Cooldown    time.Duration
	MaxCooldown time.Duration
}

// DefaultCircuit is the circuit unless Options say otherwise.
var DefaultCircuit = CircuitOptions{Threshold: 20, Cooldown: 30 * time.Second, MaxCooldown: 10 * time.Minute}

// DefaultMaxInFlight is the global cap on requests in flight.
const DefaultMaxInFlight = 128

// Dispatcher runs one lane (goroutine) per instance with pending
// notifications; each attempt runs in a goroutine of its own.
type Dispatcher struct {
	st   Outbox
	opts Options
	log  *slog.Logger
	// ctx ends when Stop is called: reads stop early, while outcomes are
	// still recorded (with its values, without its cancellation).
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	lanes map[int64]*lane

	recs chan recItem
	// recsStop tells the recorder that no lane will send any more;
	// recExited is closed when it has stored the last outcome.
	recsStop, recExited chan struct{}
	quit                chan struct{}
	wg                  sync.WaitGroup
	beats               atomic.Uint64 // passes of manage (observe.go)

	// slots holds a token per request in flight (the global cap); lanes
	// that found it full wait in slotWaiters for a release.
	slots       chan struct{}
	slotMu      sync.Mutex
	slotWaiters []*lane

	// outboxSeq is the store's notification sequence at the last scan.
	outboxSeq atomic.Uint64

	// stall is non-nil while outcomes cannot be recorded, and closed when
	// they can again: lanes send nothing meanwhile.
	stallMu sync.Mutex
	stall   chan struct{}
}

// recQueue is how many outcomes may wait for the recorder before attempts
// wait for it, and recBatch how many it stores in one commit. Outcomes
// waiting when the process dies are sent again after a restart
// (at-least-once), so the queue bounds that repeat too.
//
// Under load the recorder gathers outcomes for up to recGather, or until
// it holds recGatherMax, before it commits: a commit costs nearly the same
// for one outcome as for a hundred (an fsync; the pages of the pending
// index it touches, one or more per instance; a wake-up of every lane), and
// committing as soon as an outcome arrived made commits of a few outcomes
// each. How many it waits for starts at one (no wait) and doubles with
// every commit that succeeds, back to one after a failure: when the disk
// fills, delivery pauses after the first few outcomes, not after a full
// gathering's worth. A crash within the window sends those notifications
// again, as one before any commit always did; recGatherMax bounds how many.
const (
	recQueue     = 8192
	recBatch     = 4096
	recGather    = 10 * time.Millisecond
	recGatherMax = 512
)

// responseExcerpt is how much of a callback's answer the attempt log keeps.
const responseExcerpt = 1 << 10

// Start begins delivering; Stop ends it.
func Start(st Outbox, opts Options) *Dispatcher {
	if opts.Policy.Base <= 0 {
		opts.Policy = model.DefaultRetryPolicy
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "eventdesk"
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.Circuit.Threshold <= 0 {
		opts.Circuit.Threshold = DefaultCircuit.Threshold
	}
	if opts.Circuit.Cooldown <= 0 {
		opts.Circuit.Cooldown = DefaultCircuit.Cooldown
	}
	if opts.Circuit.MaxCooldown < opts.Circuit.Cooldown {
		opts.Circuit.MaxCooldown = max(DefaultCircuit.MaxCooldown, opts.Circuit.Cooldown)
	}
	if opts.Record == nil {
		opts.Record = st.RecordAttempts
	}
	if opts.RecordBackoff <= 0 {
		opts.RecordBackoff = 100 * time.Millisecond
	}
	if opts.Client == nil {
		opts.Client = &http.Client{
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				MaxIdleConns:        2 * opts.MaxInFlight,
				MaxIdleConnsPerHost: opts.MaxInFlight,
				IdleConnTimeout:     90 * time.Second,
				TLSHandshakeTimeout: 10 * time.Second,
			},
			// A redirect is a failure: CE did not follow them, and following
			// one would send a signed payload somewhere unconfigured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.Shared != nil && opts.Lease <= 0 {
		opts.Lease = store.DefaultLease
	}
	if opts.Shared != nil && opts.Owner == "" {
		opts.Owner = "dispatcher"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{st: st, opts: opts, log: log, lanes: map[int64]*lane{}, ctx: ctx, cancel: cancel,
		recs: make(chan recItem, recQueue), quit: make(chan struct{}),
		recsStop: make(chan struct{}), recExited: make(chan struct{}),
		slots: make(chan struct{}, opts.MaxInFlight)}
	d.wg.Add(2)
	go d.recorder()
	go d.manage()
	if d.shared() {
		d.wg.Add(1)
		go d.keep()
	}
	return d
}

// Stop ends every lane and flushes recorded attempts.
func (d *Dispatcher) Stop() {
	close(d.quit)
	d.cancel()
	d.wg.Wait()
}

// manage starts or wakes lanes whenever the store reports a commit.
func (d *Dispatcher) manage() {
	defer d.wg.Done()
	sub := d.st.Subscribe()
	defer sub.Close()
	// A replica also looks for lanes on a timer: a dead one's leases run
	// out without a commit to tell anyone.
	var tick <-chan time.Time
	if d.shared() {
		t := time.NewTicker(d.claimEvery())
		defer t.Stop()
		tick = t.C
	}
	// Claims go at most every claimGap: under load every replica hears
	// of every commit, and a claim costs the database three statements.
	// One held back goes when the gap has passed.
	var (
		lastClaim time.Time
		later     *time.Timer
		laterC    <-chan time.Time
	)
	defer func() {
		if later != nil {
			later.Stop()
		}
	}()
	for {
		d.beats.Add(1)
		claim := time.Since(lastClaim) >= claimGap
		d.scan(claim)
		switch {
		case claim:
			lastClaim = time.Now()
			if later != nil {
				later.Stop()
				later, laterC = nil, nil
			}
		case d.shared() && later == nil:
			later = time.NewTimer(claimGap - time.Since(lastClaim))
			laterC = later.C
		}
		select {
		case <-laterC:
			later, laterC = nil, nil
		case <-tick:
		case <-d.quit:
			lanes := d.laneList()
			for _, l := range lanes {
				<-l.done
			}
			close(d.recsStop)
			if d.shared() {
				// Outcomes first: whoever takes a lane over must not
				// send again what this replica delivered.
				<-d.recExited
				d.leaveShared()
			}
			return
		case _, ok := <-sub.C:
			if !ok {
				<-d.quit
			}
		}
	}
}

// scan wakes the lanes and, on a shared store when claim is set, claims
// lanes nobody holds.
func (d *Dispatcher) scan(claim bool) {
	// Lanes read their queues again only when notifications were created
	// since they last did; a commit of outcomes alone does not make them.
	if seq, err := d.st.OutboxSequence(d.ctx); err == nil {
		d.outboxSeq.Store(seq)
	}
	if d.shared() {
		d.mu.Lock()
		for _, l := range d.lanes {
			l.poke()
		}
		d.mu.Unlock()
		if claim {
			d.claim()
		}
		return
	}
	ids, err := d.st.PendingInstances(d.ctx)
	if err != nil {
		d.log.Warn("cannot read pending notifications", "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// Every lane hears of every commit: one whose instance was deleted or
	// changed has no new pending notification to be woken by.
	for _, l := range d.lanes {
		l.poke()
	}
	for _, id := range ids {
		if _, ok := d.lanes[id]; ok {
			continue
		}
		l := newLane(d, id)
		d.lanes[id] = l
		d.wg.Add(1)
		go l.run()
	}
}

// Replay puts one notification back in line and wakes its lane.
func (d *Dispatcher) Replay(ctx context.Context, id string) (model.Notification, error) {
	// An outcome still queued for the store would overwrite the replay.
	if err := d.flushWithin(replayFlushWait); err != nil {
		return model.Notification{}, err
	}
	n, err := d.st.Replay(ctx, id)
	if err == nil {
		d.resetLane(n.InstanceID)
	}
	return n, err
}

// ReplayDead replays every dead notification of an instance since a time.
func (d *Dispatcher) ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error) {
	if err := d.flushWithin(replayFlushWait); err != nil {
		return nil, err
	}
	ids, err := d.st.ReplayDead(ctx, instanceID, since)
	if err == nil && len(ids) > 0 {
		d.resetLane(instanceID)
	}
	return ids, err
}

// resetLane makes a lane re-read its queue from the start, so a replayed
// older notification goes out before newer ones.
func (d *Dispatcher) resetLane(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.lanes[id]; ok {
		l.mu.Lock()
		l.reset = true
		l.mu.Unlock()
		l.poke()
	}
}

// recItem is an attempt outcome to store, or a barrier to wait on.
type recItem struct {
	rec     store.AttemptRecord
	barrier chan struct{}
}

// recorder stores attempt outcomes in batches: lanes never wait for a disk
// write between sends. If the process dies first, the notification is sent
// again (at-least-once; receivers dedupe on webhook-id). When a batch
// cannot be stored (a full disk), it is kept and retried with a growing
// pause while every lane waits: sending on would deliver notifications
// whose delivery cannot be recorded, and send them all again later.
func (d *Dispatcher) recorder() {
	defer d.wg.Done()
	defer close(d.recExited)
	var batch []store.AttemptRecord
	var barriers []chan struct{}
	add := func(it recItem) {
		if it.barrier != nil {
			barriers = append(barriers, it.barrier)
		} else {
			batch = append(batch, it.rec)
		}
	}
	gather := time.NewTimer(recGather)
	gather.Stop()
	gatherMax := 1
	for {
		stopping := false
		select {
		case it := <-d.recs:
			add(it)
		case <-d.recsStop:
			stopping = true
		}
		// Gather more outcomes for the commit; a barrier (a replay or a
		// retiring lane waits on it) or a stop ends the wait at once.
		gather.Reset(recGather)
	gathering:
		for !stopping && len(barriers) == 0 && len(batch) < gatherMax {
			select {
			case it := <-d.recs:
				add(it)
			case <-gather.C:
				break gathering
			case <-d.recsStop:
				stopping = true
			}
		}
		gather.Stop()
	drain:
		for len(batch) < recBatch {
			select {
			case it := <-d.recs:
				add(it)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if d.recordBatch(batch) {
				gatherMax = min(2*gatherMax, recGatherMax)
			} else {
				gatherMax = 1
			}
		}
		for _, b := range barriers {
			close(b)
		}
		batch, barriers = batch[:0], barriers[:0]
		if stopping && len(d.recs) == 0 {
			return
		}
	}
}

// recordBatch records one batch, retrying with backoff while it fails; on Stop
// it gives up (the notifications are then sent again after a restart). It
// reports whether the first try succeeded.
func (d *Dispatcher) recordBatch(batch []store.AttemptRecord) bool {
	pause := d.opts.RecordBackoff
	for failures := 0; ; failures++ {
		err := d.opts.Record(context.WithoutCancel(d.ctx), batch)
		if err == nil {
			if failures > 0 {
				d.log.Info("delivery attempts recorded again; delivery resumes", "failedTries", failures)
				d.setStalled(false)
			}
			return failures == 0
		}
		if failures == 0 {
			d.log.Error("cannot record delivery attempts; delivery pauses until they can be", "n", len(batch), "err", err)
			d.setStalled(true)
		} else {
			d.log.Warn("still cannot record delivery attempts", "n", len(batch), "tries", failures+1, "retryIn", pause, "err", err)
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-d.quit:
			t.Stop()
			d.log.Error("stopping with delivery attempts not recorded; they are sent again at the next start", "n", len(batch), "err", err)
			d.setStalled(false)
			return false
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (d *Dispatcher) setStalled(on bool) {
	d.stallMu.Lock()
	defer d.stallMu.Unlock()
	switch {
	case on && d.stall == nil:
		d.stall = make(chan struct{})
	case !on && d.stall != nil:
		close(d.stall)
		d.stall = nil
	}
}

// stalled is non-nil while outcomes cannot be recorded; it is closed when
// they can again.
func (d *Dispatcher) stalled() <-chan struct{} {
	d.stallMu.Lock()
	defer d.stallMu.Unlock()
	if d.stall == nil {
		return nil
	}
	return d.stall
}

// record hands an outcome to the recorder.
func (d *Dispatcher) record(rec store.AttemptRecord) {
	select {
	case d.recs <- recItem{rec: rec}:
	case <-d.recExited:
	}
}

// acquire takes a global slot for one request, or registers l to be poked
// when one is released.
func (d *Dispatcher) acquire(l *lane) bool {
	d.slotMu.Lock()
	defer d.slotMu.Unlock()
	select {
	case d.slots <- struct{}{}:
		return true
	default:
	}
	for _, w := range d.slotWaiters {
		if w == l {
			return false
		}
	}
	d.slotWaiters = append(d.slotWaiters, l)
	return false
}

// release frees a slot and wakes the lane that has waited longest for one.
func (d *Dispatcher) release() {
	<-d.slots
	d.handoff()
}

// handoff wakes the longest waiting lane while a slot is free. A woken lane
// that takes no slot calls it again, so a free slot is never left unused
// while others wait.
func (d *Dispatcher) handoff() {
	d.slotMu.Lock()
	defer d.slotMu.Unlock()
	if len(d.slotWaiters) == 0 || len(d.slots) == cap(d.slots) {
		return
	}
	w := d.slotWaiters[0]
	d.slotWaiters = d.slotWaiters[1:]
	select {
	case w.slot <- struct{}{}:
	default:
	}
}

// replayFlushWait bounds how long a replay waits for outcomes to be
// recorded: while they cannot be, a replay is refused rather than hung.
const replayFlushWait = 5 * time.Second

var errFlush = errors.New("delivery outcomes cannot be recorded at the moment (is the disk full?); try the replay again once they can")

// flushWithin is flush with a deadline; it refuses at once while outcomes
// cannot be recorded.
func (d *Dispatcher) flushWithin(wait time.Duration) error {
	if d.stalled() != nil {
		return errFlush
	}
	done := make(chan struct{})
	go func() {
		d.flush()
		close(done)
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return errFlush
	}
}

// flush waits until every outcome submitted before it is stored.
func (d *Dispatcher) flush() {
	b := make(chan struct{})
	select {
	case d.recs <- recItem{barrier: b}:
	case <-d.recExited:
		return
	}
	select {
	case <-b:
	case <-d.recExited:
	}
}

// laneList is the lanes running now.
func (d *Dispatcher) laneList() []*lane {
	d.mu.Lock()
	defer d.mu.Unlock()
	lanes := make([]*lane, 0, len(d.lanes))
	for _, l := range d.lanes {
		lanes = append(lanes, l)
	}
	return lanes
}

// Lanes reports what the dispatcher is doing for each instance that has
// notifications in hand.
//
// On a shared store it adds the lanes other replicas deliver, as they
// last reported them (their Replica set), so a console attached to any
// replica sees every held lane and open circuit.
func (d *Dispatcher) Lanes() []model.LaneStatus {
	out := d.localLanes()
	if d.shared() {
		local := make(map[int64]bool, len(out))
		for _, l := range out {
			local[l.InstanceID] = true
		}
		out = append(out, d.remoteLanes(local)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InstanceID < out[j].InstanceID })
	return out
}

// Lane reports one instance's lane; ok is false when it has none (nothing
// pending).
func (d *Dispatcher) Lane(instanceID int64) (model.LaneStatus, bool) {
	d.mu.Lock()
	l, ok := d.lanes[instanceID]
	d.mu.Unlock()
	if !ok {
		return model.LaneStatus{InstanceID: instanceID}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.status
	st.InstanceID = instanceID
	return st, true
}

// send makes one attempt and returns its log entry and, for 429/503, the
// wait the receiver asked for.
func (d *Dispatcher) send(ctx context.Context, in *target, n model.Notification, attemptNo int) (model.Attempt, time.Duration) {
	now := d.opts.Now()
	a := model.Attempt{NotificationID: n.ID, N: attemptNo, Time: now.UTC(), URL: in.url}
	// The clock starts before the deadline is set, so a timed-out attempt
	// never reports a latency shorter than the timeout.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := d.request(ctx, in, n, now)
	if err != nil {
		a.Error = err.Error()
		return a, 0
	}
	resp, err := d.opts.Client.Do(req)
	a.Latency = time.Since(start)
	if err != nil {
		a.Error = errText(err, d.opts.Timeout)
		return a, 0
	}
	defer resp.Body.Close()
	// Most receivers answer with no body at all: nothing to read, keep or
	// scrub then.
	if resp.ContentLength != 0 {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
		a.Response = string(excerpt)
		// Drain a little more so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		a.Latency = time.Since(start)
	}
	a.Status = resp.StatusCode
	var wait time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		wait = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.Error = "redirect to " + resp.Header.Get("Location") + " not followed; configure the final URL as the callback"
	}
	// A receiver that echoes the request (its headers, say) would put the
	// callback's credentials into the stored attempt.
	if len(in.secrets) > 0 && (a.Response != "" || a.Error != "") {
		a.Response = model.ScrubSecrets(a.Response, in.secrets...)
		a.Error = model.ScrubSecrets(a.Error, in.secrets...)
	}
	return a, wait
}

// request builds the POST with every signing and identity header a callback carries.
func (d *Dispatcher) request(ctx context.Context, in *target, n model.Notification, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(n.Body))
	if err != nil {
		return nil, fmt.Errorf("callback URL: %w", err)
	}
	h, err := model.CallbackHeaders(in.Instance, n, now, d.opts.UserAgent)
	if err != nil {
		return nil, err
	}
	req.Header = h
	return req, nil
}

func errText(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return err.Error()
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// localLanes are the lanes this dispatcher runs.
func (d *Dispatcher) localLanes() []model.LaneStatus {
	lanes := d.laneList()
	out := make([]model.LaneStatus, 0, len(lanes))
	for _, l := range lanes {
		l.mu.Lock()
		st := l.status
		l.mu.Unlock()
		st.InstanceID = l.id
		out = append(out, st)
	}
	return out
}

// OpenCircuits counts instances whose attempts are paused by an open
// circuit on this replica; the metrics report it.
func (d *Dispatcher) OpenCircuits() int {
	n := 0
	for _, l := range d.localLanes() {
		if l.CircuitOpen {
			n++
		}
	}
	return n
}
