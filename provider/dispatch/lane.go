package dispatch

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// laneBatch is how many pending notifications a lane reads at once, and
// laneKnown how many it keeps in memory; beyond that it reads more as the
// ones it holds are delivered.
//
// Bodies are read when a notification is about to be sent: for it and for
// up to laneAhead-1 more that are due, in one read transaction (a
// transaction per delivery was some 8% of the dispatcher's CPU time), as
// long as those bodies add up to no more than laneAheadBytes.
const (
	laneBatch      = 256
	laneKnown      = 1 << 16
	laneAhead      = 32
	laneAheadBytes = 64 << 10
)

// entry is a pending notification as a lane keeps it: the counters the
// attempt needs, since the store may not have recorded the last outcome
// yet, and, once read ahead, the notification itself.
type entry struct {
	seq          uint64
	due          time.Time
	attempts     int
	cycleStart   int
	failingSince time.Time
	// ahead is the notification with its body, read ahead for the next
	// attempt; nil until then, and again once that attempt took it, so a
	// retry hours later reads it afresh and holds no body meanwhile.
	ahead *model.Notification
}

// queue orders a lane's waiting notifications: by due time (concurrent
// mode: whatever is due goes) or by sequence (ordered mode: only the head
// may go).
type queue struct {
	ordered bool
	items   []*entry
}

func (q *queue) Len() int { return len(q.items) }
func (q *queue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !q.ordered && !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	return a.seq < b.seq
}
func (q *queue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *queue) Push(x any)    { q.items = append(q.items, x.(*entry)) }
func (q *queue) Pop() any {
	e := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return e
}
func (q *queue) peek() *entry { return q.items[0] }

// result is what a finished attempt tells its lane.
type result struct {
	e *entry
	// pending: e goes back in the queue (e.due updated); otherwise it is
	// done (delivered, dead, or no longer the lane's).
	pending bool
	// attempted is false when nothing was sent (stopping, or the
	// notification was gone); endpointDown when the outcome counts
	// towards the circuit.
	attempted, endpointDown bool
	// attempts, due and failingSince are e's new counters after an attempt.
	attempts     int
	due          time.Time
	failingSince time.Time
}

// circuit slows attempts to a callback URL that keeps failing: after
// Threshold endpoint failures in a row it opens for a cooldown, then lets
// one probe through (half-open); the probe's success closes it, its failure
// opens it again for twice as long, up to MaxCooldown.
type circuit struct {
	fails    int
	open     bool
	until    time.Time
	cooldown time.Duration
	probing  bool
}

func (c *circuit) failure(now time.Time, o CircuitOptions) {
	c.fails++
	switch {
	case c.probing:
		c.probing = false
		c.cooldown = min(2*c.cooldown, o.MaxCooldown)
		c.open, c.until = true, now.Add(c.cooldown)
	case !c.open && c.fails >= o.Threshold:
		c.cooldown = o.Cooldown
		c.open, c.until = true, now.Add(c.cooldown)
	}
}

func (c *circuit) success() { *c = circuit{} }

// mayLaunch reports whether an attempt may start now, and if not, when to
// look again (zero: when an in-flight attempt ends).
func (c *circuit) mayLaunch(now time.Time, inflight int) (bool, time.Time) {
	if !c.open {
		return true, time.Time{}
	}
	if now.Before(c.until) {
		return false, c.until
	}
	if c.probing || inflight > 0 {
		return false, time.Time{}
	}
	return true, time.Time{}
}

// target is an instance as its lane delivers to it: with the settings
// every attempt needs, parsed once per change of the instance rather than
// once per attempt. Attempts share it, so it is never modified: a changed
// instance makes a new one.
type target struct {
	model.Instance
	url     string
	ordered bool
	limit   int
	// secrets are masked in what a receiver answers, should it echo them.
	secrets []string
}

func newTarget(in model.Instance) *target {
	return &target{Instance: in, url: in.CallbackURL(), ordered: in.Ordered(), limit: in.Concurrency(), secrets: in.SecretValues()}
}

// lane delivers one instance's notifications: up to its concurrency at
// once, each on its own retry schedule, or (ordered mode) one at a time in
// order, the head retried until delivered, dead, or held too long.
type lane struct {
	d       *Dispatcher
	id      int64
	wake    chan struct{}
	slot    chan struct{} // a global slot was freed
	done    chan struct{}
	results chan result

	mu     sync.Mutex
	reset  bool // re-read the queue from the start (after a replay)
	status model.LaneStatus
	// lease is the lane's hold on a store shared by replicas; lost (the
	// lease is gone) or leaving (handed over to another replica) is set,
	// and stop closed, when the lane must end.
	lease         store.Lease
	lost, leaving bool
	stop          chan struct{}
}

func newLane(d *Dispatcher, id int64) *lane {
	return &lane{d: d, id: id, wake: make(chan struct{}, 1), slot: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{}),
		results: make(chan result, model.MaxConcurrency+1)}
}

func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) takeReset() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reset
	l.reset = false
	return r
}

func (l *lane) setStatus(s model.LaneStatus) {
	l.mu.Lock()
	l.status = s
	l.mu.Unlock()
}

// laneState is the loop's own bookkeeping.
type laneState struct {
	q        queue
	known    map[uint64]bool   // queued or in flight
	flying   map[uint64]*entry // in flight
	cursor   uint64            // highest sequence read
	more     bool              // stopped reading at laneKnown
	ahead    int               // queued entries holding a notification read ahead
	inflight int
	cb       circuit
}

func (l *lane) run() {
	defer l.d.wg.Done()
	defer close(l.done)
	// A lane whose lease was lost, or that is handed over, leaves once its
	// attempts have ended and their outcomes are recorded: the replica
	// taking it over reads them.
	defer func() {
		l.mu.Lock()
		lost, leaving, lease := l.lost, l.leaving, l.lease
		l.mu.Unlock()
		if !lost && !leaving {
			return
		}
		l.d.flush()
		l.d.mu.Lock()
		gone := l.d.lanes[l.id] == l
		if gone {
			delete(l.d.lanes, l.id)
		}
		l.d.mu.Unlock()
		if leaving && gone {
			l.d.finish(lease)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &laneState{known: map[uint64]bool{}, flying: map[uint64]*entry{}}
	// Attempts still on the wire when the lane ends are cancelled and
	// waited for, so none reports to a lane that is gone.
	defer func() {
		cancel()
		for s.inflight > 0 {
			<-l.results
			s.inflight--
		}
	}()
	refill := true
	var seenSeq uint64 // the outbox sequence at the last refill
	passSlot := false  // woken for a free slot: pass it on if not taken
	var (
		idleSince time.Time
		in        *target
		err       error
		inVersion uint64
		haveIn    bool
	)
	for {
		if l.takeReset() {
			// Outcomes still in the recorder would otherwise read as pending.
			l.d.flush()
			// In-flight attempts stay known, so the re-read does not send
			// them twice: they report back.
			s.q.items, s.cursor, s.more, s.ahead = nil, 0, false, 0
			clear(s.known)
			for seq := range s.flying {
				s.known[seq] = true
			}
			refill = true
		}
		if refill || (s.more && len(s.known) < laneKnown/2) {
			seenSeq = l.d.outboxSeq.Load()
			l.load(s)
			refill = false
		}
		// The instance is read again only after an instance changed.
		if v := l.d.st.InstancesVersion(); !haveIn || v != inVersion || err != nil {
			inVersion = v
			var inst model.Instance
			inst, err = l.d.st.Instance(ctx, l.id)
			in = newTarget(inst)
			haveIn = true
		}
		if errors.Is(err, store.ErrNotFound) {
			// Deleted: what is still pending is marked dead, so no lane
			// is started for it again. Attempts on the wire finish (their
			// answers are logged; the store keeps their notifications
			// dead), unless the dispatcher stops first.
			quit := l.d.quit
			for s.inflight > 0 {
				select {
				case <-l.results:
					s.inflight--
				case <-quit:
					cancel()
					quit = nil
				}
			}
			l.d.flush()
			if err := l.d.st.AbandonOrphans(ctx, l.id); err != nil {
				l.d.log.Warn("cannot abandon a deleted instance's notifications", "instance", l.id, "err", err)
			}
			l.retireNow()
			return
		}
		now := l.d.opts.Now()
		var next time.Time // when to look again without a poke or result
		st := model.LaneStatus{InstanceID: l.id}
		stalled := l.d.stalled()
		switch {
		case err != nil:
			st.Paused = "cannot read the instance"
			l.d.log.Warn("cannot read instance", "instance", l.id, "err", err)
			next = now.Add(time.Second)
		case !in.Deliverable():
			st.Paused = pauseReason(in.Instance)
		case stalled != nil:
			st.Paused = "delivery outcomes cannot be recorded; retrying"
		default:
			next = l.launch(ctx, in, s, now)
		}
		if passSlot {
			l.d.handoff()
			passSlot = false
		}
		if err == nil {
			st.Ordered = in.ordered
		}
		st.InFlight, st.Queued = s.inflight, s.q.Len()
		if st.Ordered {
			if h := s.head(); h != nil && !h.failingSince.IsZero() {
				st.HeldBy, st.HeldSince = fmt.Sprint(h.seq), h.failingSince
			}
		}
		st.CircuitOpen, st.CircuitUntil = s.cb.open, s.cb.until
		l.setStatus(st)

		// wait is how long to sleep without a poke or result; -1 for
		// until one comes.
		wait := time.Duration(-1)
		if !next.IsZero() {
			wait = max(next.Sub(now), 0)
		}
		if s.q.Len() == 0 && s.inflight == 0 && !s.more {
			// Retire after a quiet second (of real time, whatever the
			// clock in Options), so a steady trickle does not start a
			// goroutine per notification.
			if idleSince.IsZero() {
				idleSince = time.Now()
			}
			left := time.Until(idleSince.Add(time.Second))
			if left <= 0 {
				if l.retire() {
					return
				}
				idleSince, left = time.Now(), time.Second
			}
			if wait < 0 || left < wait {
				wait = left
			}
		} else {
			idleSince = time.Time{}
		}

		var (
			timer <-chan time.Time
			t     *time.Timer
		)
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		stop, slotWoken := false, false
		select {
		case <-l.d.quit:
			stop = true
		case <-l.stop:
			stop = true
		case <-l.slot:
			slotWoken = true
		case <-l.wake:
			refill = l.d.outboxSeq.Load() != seenSeq
		case r := <-l.results:
			l.finished(s, r)
		drain:
			for {
				select {
				case r := <-l.results:
					l.finished(s, r)
				default:
					break drain
				}
			}
		case <-timer:
		case <-stalled:
		}
		if t != nil {
			t.Stop()
		}
		if stop {
			if l.ending() {
				l.leave(s)
			}
			return
		}
		passSlot = slotWoken
	}
}

// head is an ordered lane's first notification, queued or in flight.
func (s *laneState) head() *entry {
	var h *entry
	if s.q.Len() > 0 {
		h = s.q.peek()
	}
	for _, e := range s.flying {
		if h == nil || e.seq < h.seq {
			h = e
		}
	}
	return h
}

// pauseReason says why an instance's notifications wait.
func pauseReason(in model.Instance) string {
	switch {
	case in.Disabled:
		return "instance disabled"
	case in.NotificationsOff != "":
		return "notifications off: " + in.NotificationsOff
	case !in.EventsEnabled():
		return "events disabled"
	default:
		return "no callback URL"
	}
}

// load reads pending notifications beyond the cursor into the queue.
func (l *lane) load(s *laneState) {
	s.more = false
	for len(s.known) < laneKnown {
		due, err := l.d.st.PendingSchedule(l.d.ctx, l.id, s.cursor, laneBatch)
		if err != nil {
			l.d.log.Warn("cannot read pending notifications", "instance", l.id, "err", err)
			return
		}
		for _, x := range due {
			s.cursor = x.Seq
			if s.known[x.Seq] {
				continue
			}
			s.known[x.Seq] = true
			heap.Push(&s.q, &entry{seq: x.Seq, due: x.NextAttempt, attempts: x.Attempts, cycleStart: x.CycleStart, failingSince: x.FailingSince})
		}
		if len(due) < laneBatch {
			return
		}
	}
	s.more = true
}

// launch starts every attempt that may go now and returns when to look
// again (zero: on a result or a poke).
func (l *lane) launch(ctx context.Context, in *target, s *laneState, now time.Time) time.Time {
	ordered := in.ordered
	if ordered != s.q.ordered {
		s.q.ordered = ordered
		heap.Init(&s.q)
	}
	limit := in.limit
	for s.inflight < limit && s.q.Len() > 0 {
		ok, at := s.cb.mayLaunch(now, s.inflight)
		if !ok {
			return at
		}
		e := s.q.peek()
		if e.due.After(now) {
			return e.due
		}
		if !l.d.acquire(l) {
			// The global cap is reached: a released slot pokes this lane,
			// which meanwhile still sees its results and a stop.
			return time.Time{}
		}
		heap.Pop(&s.q)
		if e.ahead == nil {
			l.readAhead(s, e, now)
		} else {
			s.ahead--
		}
		n := e.ahead
		e.ahead = nil
		s.flying[e.seq] = e
		if s.cb.open {
			s.cb.probing = true
		}
		s.inflight++
		go l.attempt(ctx, in, e, n)
	}
	return time.Time{}
}

// readAhead reads e's notification, just taken from the queue, and those
// of the next queued entries that are due now (in the order the queue
// gives them: ordered mode's order), in one read transaction. The others
// go back in the queue with their notification attached; they stay the
// lane's (known, queued), so nothing else hands them out meanwhile. On an
// error e is left without one: its attempt reads it alone.
func (l *lane) readAhead(s *laneState, e *entry, now time.Time) {
	batch := []*entry{e}
	for len(batch) < laneAhead-s.ahead && s.q.Len() > 0 {
		x := s.q.peek()
		if x.ahead != nil || x.due.After(now) {
			break
		}
		batch = append(batch, heap.Pop(&s.q).(*entry))
	}
	seqs := make([]uint64, len(batch))
	for i, x := range batch {
		seqs[i] = x.seq
	}
	got, err := l.d.st.NotificationsBySeq(l.d.ctx, seqs, laneAheadBytes)
	if err != nil {
		l.d.log.Warn("cannot read notifications ahead", "instance", l.id, "err", err)
		got = nil
	}
	for i, x := range batch {
		if i < len(got) {
			x.ahead = &got[i]
		}
		if i > 0 {
			if x.ahead != nil {
				s.ahead++
			}
			heap.Push(&s.q, x)
		}
	}
}

// finished takes an attempt's result back into the lane.
func (l *lane) finished(s *laneState, r result) {
	s.inflight--
	delete(s.flying, r.e.seq)
	now := l.d.opts.Now()
	if r.attempted {
		if r.endpointDown {
			s.cb.failure(now, l.d.opts.Circuit)
		} else {
			s.cb.success()
		}
	} else if s.cb.probing {
		s.cb.probing = false
	}
	if r.attempted {
		r.e.attempts, r.e.due, r.e.failingSince = r.attempts, r.due, r.failingSince
	}
	if r.pending {
		heap.Push(&s.q, r.e)
		return
	}
	delete(s.known, r.e.seq)
}

// attempt sends one notification (n: read ahead; nil: read it now) and
// reports to the recorder and the lane.
func (l *lane) attempt(ctx context.Context, in *target, e *entry, ahead *model.Notification) {
	defer l.d.release()
	var n model.Notification
	var err error
	if ahead != nil {
		n = *ahead
	} else {
		n, err = l.d.st.Notification(ctx, strconv.FormatUint(e.seq, 10))
	}
	if err != nil || n.State != model.StatePending || n.InstanceID != l.id {
		// Pruned, or made dead by a deletion: no longer this lane's.
		l.results <- result{e: e}
		return
	}
	n.Attempts, n.CycleStart, n.FailingSince = e.attempts, e.cycleStart, e.failingSince
	a, wait := l.d.send(ctx, in, n, n.Attempts+1)
	if ctx.Err() != nil {
		// Stopping: this attempt does not count; it is sent again after a
		// restart.
		l.results <- result{e: e, pending: true}
		return
	}
	rec := l.outcome(in, &n, a, wait)
	if l.d.shared() {
		l.mu.Lock()
		lease := l.lease
		l.mu.Unlock()
		rec.Lease = &lease
	}
	l.d.observe(in.Instance, rec)
	l.d.record(rec)
	// The lane owns e; it takes the new counters from the result.
	l.results <- result{e: e, pending: rec.State == model.StatePending, attempted: true,
		endpointDown: model.EndpointFailure(a.Status, a.Error),
		attempts:     n.Attempts, due: n.NextAttempt, failingSince: n.FailingSince}
}

// outcome decides what an attempt leaves the notification in.
func (l *lane) outcome(in *target, n *model.Notification, a model.Attempt, wait time.Duration) store.AttemptRecord {
	now := l.d.opts.Now()
	n.Attempts = a.N
	rec := store.AttemptRecord{Attempt: a}
	failed := a.Status < 200 || a.Status >= 300
	if failed && n.FailingSince.IsZero() {
		n.FailingSince = a.Time
	}
	ordered := in.ordered
	switch {
	case !failed:
		rec.State = model.StateDelivered
		n.FailingSince = time.Time{}
		l.d.log.Debug("notification delivered", "instance", in.ID, "notification", n.ID, "status", a.Status)
	case a.Status == http.StatusGone:
		rec.State, rec.NextAttempt = model.StatePending, now
		n.NextAttempt = now
		reason := fmt.Sprintf("callback answered 410 Gone at %s; notifications are off until the callback URL changes or events are re-enabled", now.UTC().Format(time.RFC3339))
		if err := l.d.st.SetNotificationsOff(context.WithoutCancel(l.d.ctx), in.ID, reason); err != nil {
			l.d.log.Warn("cannot turn notifications off", "instance", in.ID, "err", err)
		}
		l.d.log.Warn("callback gone; notifications turned off", "instance", in.ID)
	case n.Tries() > l.d.opts.Policy.MaxRetries:
		rec.State = model.StateDead
		l.d.log.Warn("notification dead after retries", "instance", in.ID, "notification", n.ID, "attempts", n.Attempts, "status", a.Status, "error", a.Error)
	case ordered && model.PermanentRejection(a.Status) && n.Tries() >= 2:
		// Refused twice: the receiver will not take it, and holding the
		// whole ordered lane for it would only delay the rest.
		rec.State = model.StateDead
		rec.Reason = fmt.Sprintf("answered %d twice; dead at once to free the ordered lane (replay it once the receiver takes it)", a.Status)
		l.d.log.Warn("ordered head refused; dead", "instance", in.ID, "notification", n.ID, "status", a.Status)
	case ordered && !now.Before(n.FailingSince.Add(in.MaxHold())):
		rec.State = model.StateDead
		rec.Reason = fmt.Sprintf("held the ordered lane since %s, longer than %s (%s); last: %s",
			n.FailingSince.UTC().Format(time.RFC3339), in.MaxHold(), model.KeyOrderedMaxHold, attemptText(a))
		l.d.log.Warn("ordered head held too long; dead", "instance", in.ID, "notification", n.ID, "since", n.FailingSince)
	default:
		delay := l.d.opts.Policy.Wait(n.Tries(), l.d.opts.Rand())
		if wait > 0 {
			delay = wait
		}
		next := now.Add(delay)
		if ordered {
			// The last try of a held head falls when its hold ends.
			if end := n.FailingSince.Add(in.MaxHold()); next.After(end) {
				next = end
			}
		}
		rec.State, rec.NextAttempt = model.StatePending, next
		n.NextAttempt = rec.NextAttempt
	}
	return rec
}

// attemptText is an attempt's outcome in a few words.
func attemptText(a model.Attempt) string {
	if a.Status != 0 && a.Error == "" {
		return fmt.Sprintf("HTTP %d", a.Status)
	}
	if a.Status != 0 {
		return fmt.Sprintf("HTTP %d, %s", a.Status, a.Error)
	}
	return a.Error
}

// retire removes an idle lane, unless work arrived meanwhile (then the
// lane carries on).
func (l *lane) retire() bool {
	// Outcomes still in the recorder would otherwise read as pending.
	l.d.flush()
	l.d.mu.Lock()
	defer l.d.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.wake:
		l.reset = true
		return false
	default:
	}
	if pending, _ := l.d.st.PendingSchedule(l.d.ctx, l.id, 0, 1); len(pending) > 0 {
		l.reset = true // pending behind the cursor: start over
		return false
	}
	delete(l.d.lanes, l.id)
	if l.d.shared() && !l.lost && !l.leaving {
		l.d.finish(l.lease)
	}
	return true
}

func (l *lane) retireNow() {
	l.d.mu.Lock()
	delete(l.d.lanes, l.id)
	l.d.mu.Unlock()
	if l.d.shared() && !l.ending() {
		l.d.finish(l.lease)
	}
}
